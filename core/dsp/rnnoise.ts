// RNNoise (Valin, 2018), a speech denoiser: the baseline of every evaluation, and the estimate that
// separation can blend into the speech stem (SeparateOptions.denoiserBlend). The wasm build
// (@shiguredo/rnnoise-wasm) is loaded on first use.
import { resample } from '../io/audio';
import { energy } from './energy';
import { MODEL_RATE } from '../types';

type RnnoiseModule = typeof import('@shiguredo/rnnoise-wasm');
type Rnnoise = Awaited<ReturnType<RnnoiseModule['Rnnoise']['load']>>;

/** RNNoise works on 10 ms frames of 48 kHz audio. */
export const RNNOISE_RATE = 48000;
const FRAME = 480;

/**
 * How far RNNoise's output lags its input, in 48 kHz samples. Measured: the cross-correlation of
 * input and output on real speech peaks at 959 samples (just under its two frames of analysis
 * overlap and lookahead), and the output's SI-SDR against clean speech is highest there.
 */
export const RNNOISE_DELAY = 959;

/**
 * RNNoise expects 16-bit sample values, and its features are absolute band energies, so the
 * mixture's level would change what it does. Every input is brought to this RMS level (a usual
 * level for recorded speech), so that the mixer's arbitrary scale does not decide the baseline.
 */
export const RNNOISE_LEVEL_DBFS = -26;

let loading: Promise<Rnnoise> | undefined;

/** Loads the wasm module once (its first call takes a moment). */
export function loadRnnoise(): Promise<Rnnoise> {
  loading ??= (async () => {
    let mod: RnnoiseModule;
    try {
      mod = await import('@shiguredo/rnnoise-wasm');
    } catch (e) {
      loading = undefined;
      throw new Error('RNNoise needs the package @shiguredo/rnnoise-wasm, which is missing from this installation: run npm ci', { cause: e });
    }
    // The build is for browsers and workers and refuses to start where it sees neither; its wasm is
    // inlined, so Node runs it as is once the check (synchronous, at the start of load) passes.
    const g = globalThis as { WorkerGlobalScope?: unknown };
    const shim = !('WorkerGlobalScope' in g);
    if (shim) g.WorkerGlobalScope = class {};
    try {
      return await mod.Rnnoise.load();
    } finally {
      if (shim) delete g.WorkerGlobalScope;
    }
  })();
  return loading;
}

/** RNNoise's estimate of the speech in `x` (at MODEL_RATE): same length, time-aligned with it. */
export async function rnnoiseDenoise(x: Float32Array): Promise<Float32Array> {
  const rnnoise = await loadRnnoise();
  const rms = Math.sqrt(energy(x) / Math.max(1, x.length));
  if (rms === 0) return new Float32Array(x.length);
  const gain = (32768 * 10 ** (RNNOISE_LEVEL_DBFS / 20)) / rms;
  const x48 = await resample(x, MODEL_RATE, RNNOISE_RATE, 'fast');
  // Extra frames of silence flush the delayed tail out.
  const buf = new Float32Array(Math.ceil((x48.length + RNNOISE_DELAY) / FRAME) * FRAME);
  for (let i = 0; i < x48.length; i++) buf[i] = x48[i]! * gain;
  const state = rnnoise.createDenoiseState();
  try {
    for (let at = 0; at < buf.length; at += FRAME) state.processFrame(buf.subarray(at, at + FRAME));
  } finally {
    state.destroy();
  }
  const y48 = buf.slice(RNNOISE_DELAY, RNNOISE_DELAY + x48.length);
  for (let i = 0; i < y48.length; i++) y48[i]! /= gain;
  // 48 kHz is 6 times MODEL_RATE, so the round trip gives back exactly x.length samples.
  return resample(y48, RNNOISE_RATE, MODEL_RATE, 'fast');
}
