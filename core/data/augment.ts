// On-the-fly augmentation of one source before mixing: the recording chains, rooms and speeds that
// users' audio has and the corpus lacks. Every draw comes from the mixer's seeded Rng, so a batch is
// fixed by its key. The transformed source is the reference the model learns to return (Tilt
// separates; it does not undo the channel).
import { MODEL_RATE } from '../types';
import { fft } from '../dsp/fft';
import type { Rng } from './random';

/** Probability of each transform per source (0 turns it off), and its ranges. */
export interface AugmentConfig {
  /** Random 3-band EQ (low shelf, peak, high shelf), each gain in +-eqDb. */
  eq: number;
  eqDb: number;
  /** One of: telephone band (300-3400 Hz), low-pass (muffled), high-pass (thin), bright (high shelf boost). */
  bandLimit: number;
  /** One of: mu-law or A-law 8-bit companding, 8-bit linear quantization, hard clipping. */
  codec: number;
  /** Synthetic room: exponentially decaying noise tail, RT60 in reverbSeconds, direct-to-reverberant ratio in reverbDrrDb. */
  reverb: number;
  reverbSeconds: [number, number];
  reverbDrrDb: [number, number];
  /** Resampling by a factor in speedRange (speed and pitch together). */
  speed: number;
  speedRange: [number, number];
  /** Speech: a silent stretch (pause) of pauseFraction of the segment. */
  pause: number;
  pauseFraction: [number, number];
  /** Env: extra sound clips layered into the env source (count drawn uniformly), each layerGainDb below the first. */
  envLayers: [number, number];
  layerGainDb: [number, number];
  /** Env: a steady bed (a clip looped over the whole segment) under the env source. */
  bed: number;
  bedGainDb: [number, number];
  /**
   * Speech+env mixtures: a source drawn as a run of clips instead of one clip's crop (speech: voice
   * lines of random speakers with pauses between turns; env: sounds one after another), as sources
   * of real recordings are over seconds.
   */
  runs: number;
  /**
   * Speech+env mixtures: the speech (absentSpeech) or env (absentEnv) source left out entirely, so
   * the input holds one class and that stem's target is silence (scored by its level, not SI-SDR).
   */
  absentSpeech: number;
  absentEnv: number;
}

export const DEFAULT_AUGMENT: AugmentConfig = {
  eq: 0.4, eqDb: 9,
  bandLimit: 0.3,
  codec: 0.2,
  reverb: 0.3, reverbSeconds: [0.15, 0.9], reverbDrrDb: [-3, 12],
  speed: 0.3, speedRange: [0.9, 1.1],
  pause: 0.3, pauseFraction: [0.15, 0.5],
  envLayers: [0, 2], layerGainDb: [-12, 0],
  bed: 0.25, bedGainDb: [-15, -3],
  runs: 0,
  absentSpeech: 0, absentEnv: 0,
};

// ---------------------------------------------------------------------------------------------
// Biquads (RBJ audio-EQ cookbook), applied in place, direct form I in float64.

export interface Biquad { b0: number; b1: number; b2: number; a1: number; a2: number }

function normalized(b0: number, b1: number, b2: number, a0: number, a1: number, a2: number): Biquad {
  return { b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: a1 / a0, a2: a2 / a0 };
}

function omega(freq: number, rate: number): { cos: number; sin: number } {
  const w = (2 * Math.PI * Math.min(freq, rate * 0.49)) / rate;
  return { cos: Math.cos(w), sin: Math.sin(w) };
}

export function lowpass(freq: number, q: number, rate = MODEL_RATE): Biquad {
  const { cos, sin } = omega(freq, rate);
  const alpha = sin / (2 * q);
  return normalized((1 - cos) / 2, 1 - cos, (1 - cos) / 2, 1 + alpha, -2 * cos, 1 - alpha);
}

export function highpass(freq: number, q: number, rate = MODEL_RATE): Biquad {
  const { cos, sin } = omega(freq, rate);
  const alpha = sin / (2 * q);
  return normalized((1 + cos) / 2, -(1 + cos), (1 + cos) / 2, 1 + alpha, -2 * cos, 1 - alpha);
}

export function peaking(freq: number, q: number, gainDb: number, rate = MODEL_RATE): Biquad {
  const { cos, sin } = omega(freq, rate);
  const alpha = sin / (2 * q);
  const a = 10 ** (gainDb / 40);
  return normalized(1 + alpha * a, -2 * cos, 1 - alpha * a, 1 + alpha / a, -2 * cos, 1 - alpha / a);
}

/** Shelving filter, slope 1; `high` boosts/cuts above freq, else below. */
export function shelf(high: boolean, freq: number, gainDb: number, rate = MODEL_RATE): Biquad {
  const { cos, sin } = omega(freq, rate);
  const a = 10 ** (gainDb / 40);
  const alpha = (sin / 2) * Math.SQRT2;
  const k = 2 * Math.sqrt(a) * alpha;
  const s = high ? 1 : -1;
  return normalized(
    a * ((a + 1) + s * (a - 1) * cos + k), -2 * s * a * ((a - 1) + s * (a + 1) * cos), a * ((a + 1) + s * (a - 1) * cos - k),
    (a + 1) - s * (a - 1) * cos + k, 2 * s * ((a - 1) - s * (a + 1) * cos), (a + 1) - s * (a - 1) * cos - k,
  );
}

// Q of the two sections of a 4th-order Butterworth filter.
const BUTTERWORTH4_Q = [0.5411961, 1.3065630];

export function butterworth4(kind: 'lowpass' | 'highpass', freq: number, rate = MODEL_RATE): Biquad[] {
  return BUTTERWORTH4_Q.map((q) => (kind === 'lowpass' ? lowpass(freq, q, rate) : highpass(freq, q, rate)));
}

export function applyBiquads(x: Float32Array, filters: readonly Biquad[]): void {
  for (const f of filters) {
    let x1 = 0; let x2 = 0; let y1 = 0; let y2 = 0;
    for (let i = 0; i < x.length; i++) {
      const x0 = x[i]!;
      const y0 = f.b0 * x0 + f.b1 * x1 + f.b2 * x2 - f.a1 * y1 - f.a2 * y2;
      x2 = x1; x1 = x0; y2 = y1; y1 = y0;
      x[i] = y0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Codecs

const MU = 255;

/** 8-bit mu-law (G.711 style) round trip, relative to the signal's peak. */
export function muLaw8(x: Float32Array): void {
  const peak = peakOf(x);
  if (peak === 0) return;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]! / peak;
    const c = Math.sign(v) * Math.log1p(MU * Math.abs(v)) / Math.log1p(MU);
    const q = Math.round(c * 127) / 127;
    x[i] = peak * Math.sign(q) * ((1 + MU) ** Math.abs(q) - 1) / MU;
  }
}

const A = 87.6;

/** 8-bit A-law round trip, relative to the signal's peak. */
export function aLaw8(x: Float32Array): void {
  const peak = peakOf(x);
  if (peak === 0) return;
  const lnA = 1 + Math.log(A);
  for (let i = 0; i < x.length; i++) {
    const v = Math.abs(x[i]! / peak);
    const c = v < 1 / A ? (A * v) / lnA : (1 + Math.log(A * v)) / lnA;
    const q = Math.round(c * 127) / 127;
    const back = q < 1 / lnA ? (q * lnA) / A : Math.exp(q * lnA - 1) / A;
    x[i] = peak * Math.sign(x[i]!) * back;
  }
}

/** Uniform quantization to `bits` bits over the signal's peak. */
export function quantize(x: Float32Array, bits: number): void {
  const peak = peakOf(x);
  if (peak === 0) return;
  const levels = 2 ** (bits - 1) - 1;
  for (let i = 0; i < x.length; i++) x[i] = (Math.round((x[i]! / peak) * levels) / levels) * peak;
}

/** Hard clipping at `fraction` of the peak. */
export function clip(x: Float32Array, fraction: number): void {
  const limit = peakOf(x) * fraction;
  for (let i = 0; i < x.length; i++) x[i] = Math.max(-limit, Math.min(limit, x[i]!));
}

function peakOf(x: Float32Array): number {
  let p = 0;
  for (let i = 0; i < x.length; i++) p = Math.max(p, Math.abs(x[i]!));
  return p;
}

// ---------------------------------------------------------------------------------------------
// Room reverberation

/**
 * A synthetic room impulse response: a unit direct path, then after a short pre-delay a white
 * noise tail decaying by 60 dB in `rt60` seconds, scaled so that direct / tail energy is `drrDb`.
 */
export function roomImpulse(rng: Rng, rt60: number, drrDb: number, rate = MODEL_RATE): Float32Array {
  const preDelay = Math.round(rng.uniform(0.002, 0.02) * rate);
  const tail = Math.round(rt60 * rate);
  const h = new Float32Array(preDelay + tail);
  h[0] = 1;
  const decay = Math.exp(-Math.log(1000) / (rt60 * rate)); // amplitude -60 dB over rt60
  let energy = 0;
  let envelope = 1;
  for (let i = 0; i < tail; i++) {
    const v = (rng.next() * 2 - 1) * envelope;
    envelope *= decay;
    h[preDelay + i] = v;
    energy += v * v;
  }
  const g = Math.sqrt(10 ** (-drrDb / 10) / energy);
  for (let i = preDelay; i < h.length; i++) h[i]! *= g;
  return h;
}

/** x convolved with h, cut to x's length (FFT; what comes before the crop is not heard). */
export function convolve(x: Float32Array, h: Float32Array): Float32Array {
  let n = 1;
  while (n < x.length + h.length - 1) n *= 2;
  // Both inputs are real: one FFT of x + i h, whose halves separate by conjugate symmetry.
  const re = new Float64Array(n); const im = new Float64Array(n);
  re.set(x); im.set(h);
  fft(re, im, false);
  const pr = new Float64Array(n); const pi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const m = (n - k) & (n - 1);
    const xr = (re[k]! + re[m]!) / 2; const xi = (im[k]! - im[m]!) / 2;
    const hr = (im[k]! + im[m]!) / 2; const hi = (re[m]! - re[k]!) / 2;
    pr[k] = xr * hr - xi * hi;
    pi[k] = xr * hi + xi * hr;
  }
  fft(pr, pi, true);
  return new Float32Array(pr.subarray(0, x.length));
}

// ---------------------------------------------------------------------------------------------
// Time

/**
 * y[i] = x(i * factor) with linear interpolation: factor > 1 plays faster and higher. Reads
 * ceil((length - 1) * factor) + 1 samples of x; missing ones count as silence.
 */
export function resampleLinear(x: Float32Array, factor: number, length: number): Float32Array {
  const y = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const t = i * factor;
    const k = Math.floor(t);
    const f = t - k;
    y[i] = (x[k] ?? 0) * (1 - f) + (x[k + 1] ?? 0) * f;
  }
  return y;
}

/** Silences [start, start + length) with 10 ms fades on both sides. */
export function silence(x: Float32Array, start: number, length: number, rate = MODEL_RATE): void {
  const fade = Math.max(1, Math.round(0.01 * rate));
  const end = Math.min(x.length, start + length);
  for (let i = Math.max(0, start - fade); i < Math.min(x.length, end + fade); i++) {
    const g = i < start ? (start - i) / fade : i >= end ? (i - end + 1) / fade : 0;
    x[i]! *= Math.min(1, g);
  }
}

// ---------------------------------------------------------------------------------------------
// The chain applied to one source

/** Band-limiting, EQ, codec and room, each with its probability; returns the transformed copy. */
export function augmentChannel(x: Float32Array, rng: Rng, cfg: AugmentConfig, rate = MODEL_RATE): Float32Array {
  let y: Float32Array = new Float32Array(x);
  if (rng.next() < cfg.reverb) {
    y = convolve(y, roomImpulse(rng, rng.uniform(...cfg.reverbSeconds), rng.uniform(...cfg.reverbDrrDb), rate));
  }
  if (rng.next() < cfg.eq) {
    applyBiquads(y, [
      shelf(false, rng.uniform(80, 400), rng.uniform(-cfg.eqDb, cfg.eqDb), rate),
      peaking(rng.uniform(300, 3000), rng.uniform(0.7, 2), rng.uniform(-cfg.eqDb, cfg.eqDb), rate),
      shelf(true, rng.uniform(1500, 3500), rng.uniform(-cfg.eqDb, cfg.eqDb), rate),
    ]);
  }
  if (rng.next() < cfg.bandLimit) {
    const kind = rng.int(4);
    if (kind === 0) applyBiquads(y, [...butterworth4('highpass', 300, rate), ...butterworth4('lowpass', 3400, rate)]);
    else if (kind === 1) applyBiquads(y, butterworth4('lowpass', rng.uniform(800, 3000), rate));
    else if (kind === 2) applyBiquads(y, butterworth4('highpass', rng.uniform(200, 900), rate));
    else applyBiquads(y, [shelf(true, rng.uniform(1500, 3000), rng.uniform(6, 12), rate)]);
  }
  if (rng.next() < cfg.codec) {
    const kind = rng.int(4);
    if (kind === 0) muLaw8(y);
    else if (kind === 1) aLaw8(y);
    else if (kind === 2) quantize(y, 8);
    else clip(y, rng.uniform(0.2, 0.7));
  }
  return y;
}
