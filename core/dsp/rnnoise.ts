// RNNoise (Valin, 2018), a speech denoiser: the baseline of every evaluation, and the estimate that
// separation can blend into the speech stem (SeparateOptions.denoiserBlend). Tilt's own WebAssembly SIMD
// build of RNNoise 0.2 (scripts/rnnoise/build.ts), instantiated on first use in each thread.
import { integerRatioTaps } from './sincResample';
import { energy } from './energy';
import { RNNOISE_WASM_BASE64 } from './rnnoise-wasm';
import { MODEL_RATE } from '../types';

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

interface RnnoiseExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(bytes: number): number;
  free(ptr: number): void;
  /** A denoiser state with the built-in model (model pointer 0). */
  rnnoise_create(model: number): number;
  rnnoise_destroy(state: number): void;
  /** Denoises one frame from `input` into `output` (both FRAME floats); returns the voice probability. */
  rnnoise_process_frame(state: number, output: number, input: number): number;
  /** y[j * yStride] = scale * sum over t < len of x[j * xStep + t] * h[t], for j < n (scripts/rnnoise/tilt_fir.c). */
  tilt_fir(x: number, xStep: number, h: number, len: number, y: number, yStride: number, n: number, scale: number): void;
}

const FACTOR = RNNOISE_RATE / MODEL_RATE;
/** sincResample's kernel between the two rates: taps[half + k] weighs samples k apart at 48 kHz. */
const { taps: TAPS, half: HALF } = integerRatioTaps(FACTOR);
/**
 * The 48 kHz sample FACTOR * q + r is the MODEL_RATE samples from q - PHASE_LEAD[r] on, weighed by the
 * polyphase filter PHASES[r] (every FACTOR-th tap, in the order of the samples).
 */
const PHASE_LEAD = Array.from({ length: FACTOR }, (_, r) => Math.floor((HALF - r) / FACTOR));
const PHASES = PHASE_LEAD.map((lead, r) => {
  const length = Math.floor((HALF + r) / FACTOR) + lead + 1;
  return Float32Array.from({ length }, (_, t) => TAPS[HALF + r + FACTOR * lead - FACTOR * t]!);
});
/** A 48 kHz frame starting at FACTOR * q needs the MODEL_RATE samples [q - UP_LEAD, q - UP_LEAD + UP_WINDOW). */
const UP_LEAD = PHASE_LEAD[0]!;
const UP_WINDOW = Math.floor((FRAME - 1 + HALF) / FACTOR) + UP_LEAD + 1;

/** One RNNoise denoiser: its state carries from frame to frame. Holds wasm memory: destroy() it. */
export interface DenoiseState {
  /** Denoises a FRAME-sample frame in place (16-bit sample scale); returns RNNoise's voice probability (0-1). */
  processFrame(frame: Float32Array): number;
  /**
   * Denoises the 48 kHz frame upsampled from `window`, the UP_WINDOW MODEL_RATE samples it needs, times
   * `gain`; writes the frame's output over `gain` to `out` (FRAME samples) and returns the voice probability.
   */
  processUpsampled(window: Float32Array, gain: number, out: Float32Array): number;
  destroy(): void;
}

export interface Rnnoise {
  createDenoiseState(): DenoiseState;
  /** 48 kHz to MODEL_RATE: out[j] is the sum over t of span[FACTOR * j + t] * TAPS[t], over FACTOR. */
  downsample(span: Float32Array, out: Float32Array): void;
}

let loading: Promise<Rnnoise> | undefined;

/** Instantiates the wasm module once per thread. */
export function loadRnnoise(): Promise<Rnnoise> {
  loading ??= (async () => {
    const { instance } = await WebAssembly.instantiate(Buffer.from(RNNOISE_WASM_BASE64, 'base64'), {
      env: { emscripten_notify_memory_growth: () => {} },
    });
    const wasm = instance.exports as unknown as RnnoiseExports;
    wasm._initialize();
    const alloc = (floats: number): number => {
      const ptr = wasm.malloc(4 * floats);
      if (ptr === 0) throw new Error('RNNoise: out of wasm memory');
      return ptr;
    };
    // A fresh view each time: memory growth detaches the old buffer.
    const heap = (ptr: number, floats: number) => new Float32Array(wasm.memory.buffer, ptr, floats);
    const place = (x: Float32Array): number => {
      const ptr = alloc(x.length);
      heap(ptr, x.length).set(x);
      return ptr;
    };
    const taps = place(TAPS);
    const phases = PHASES.map(place);
    // Calls are synchronous, so the states share one frame, one window and one stretch to downsample,
    // at most FRAME outputs' worth: the module's memory never shrinks.
    const frame = alloc(FRAME);
    const window = alloc(UP_WINDOW);
    const span = alloc(FACTOR * (FRAME - 1) + TAPS.length);
    return {
      createDenoiseState(): DenoiseState {
        const state = wasm.rnnoise_create(0);
        if (state === 0) throw new Error('RNNoise: out of wasm memory');
        let live = true;
        const check = () => {
          if (!live) throw new Error('RNNoise: denoiser used after destroy');
        };
        return {
          processFrame(x: Float32Array): number {
            check();
            if (x.length !== FRAME) throw new RangeError(`RNNoise: frames are ${FRAME} samples (got ${x.length})`);
            heap(frame, FRAME).set(x);
            const voice = wasm.rnnoise_process_frame(state, frame, frame);
            x.set(heap(frame, FRAME));
            return voice;
          },
          processUpsampled(x: Float32Array, gain: number, out: Float32Array): number {
            check();
            if (x.length !== UP_WINDOW || out.length !== FRAME) throw new RangeError(`RNNoise: a frame needs ${UP_WINDOW} samples and gives ${FRAME} (got ${x.length} and ${out.length})`);
            heap(window, UP_WINDOW).set(x);
            for (let r = 0; r < FACTOR; r++) {
              wasm.tilt_fir(window + 4 * (UP_LEAD - PHASE_LEAD[r]!), 1, phases[r]!, PHASES[r]!.length, frame + 4 * r, FACTOR, FRAME / FACTOR, gain);
            }
            const voice = wasm.rnnoise_process_frame(state, frame, frame);
            out.set(heap(frame, FRAME));
            for (let i = 0; i < FRAME; i++) out[i]! /= gain;
            return voice;
          },
          destroy(): void {
            if (!live) return;
            live = false;
            wasm.rnnoise_destroy(state);
          },
        };
      },
      downsample(x: Float32Array, out: Float32Array): void {
        if (out.length === 0) return;
        if (x.length !== FACTOR * (out.length - 1) + TAPS.length) throw new RangeError(`RNNoise: ${out.length} samples need ${FACTOR * (out.length - 1) + TAPS.length} at 48 kHz (got ${x.length})`);
        for (let at = 0; at < out.length; at += FRAME) {
          const n = Math.min(FRAME, out.length - at);
          const floats = FACTOR * (n - 1) + TAPS.length;
          heap(span, floats).set(x.subarray(FACTOR * at, FACTOR * at + floats));
          wasm.tilt_fir(span, FACTOR, taps, TAPS.length, frame, 1, n, 1 / FACTOR);
          out.set(heap(frame, n), at);
        }
      },
    };
  })();
  return loading;
}

/** The gain that brings audio of this RMS to RNNOISE_LEVEL_DBFS in RNNoise's 16-bit sample values. */
export function rnnoiseGain(rms: number): number {
  return (32768 * 10 ** (RNNOISE_LEVEL_DBFS / 20)) / rms;
}

/** RNNoise's estimate of the speech in `x` (at MODEL_RATE): same length, time-aligned with it. */
export async function rnnoiseDenoise(x: Float32Array): Promise<Float32Array> {
  const rms = Math.sqrt(energy(x) / Math.max(1, x.length));
  if (rms === 0) return new Float32Array(x.length);
  const stream = await RnnoiseStream.open(rnnoiseGain(rms));
  try {
    const head = stream.push(x);
    const out = new Float32Array(x.length);
    out.set(head);
    out.set(stream.end(), head.length);
    return out;
  } finally {
    stream.dispose();
  }
}

/** Samples [base, end) of a stream, by absolute index, in a buffer that grows and slides. */
class SampleQueue {
  buf = new Float32Array(8192);
  /** Buffer index of sample `base`. */
  offset = 0;
  base = 0;
  end = 0;

  push(x: Float32Array): void {
    const n = this.end - this.base;
    if (this.offset + n + x.length > this.buf.length) {
      if (this.buf.length >= 2 * (n + x.length)) {
        this.buf.copyWithin(0, this.offset, this.offset + n);
      } else {
        const grown = new Float32Array(2 * (n + x.length));
        grown.set(this.buf.subarray(this.offset, this.offset + n));
        this.buf = grown;
      }
      this.offset = 0;
    }
    this.buf.set(x, this.offset + n);
    this.end += x.length;
  }

  /** Forgets the samples before `at`. */
  dropBefore(at: number): void {
    const n = Math.min(Math.max(0, at - this.base), this.end - this.base);
    this.base += n;
    this.offset += n;
  }
}

/**
 * RNNoise run over a stream of MODEL_RATE audio pushed in pieces of any length: every output sample is
 * RNNoise's speech estimate at the same input sample (its delay undone), each input sample goes through
 * RNNoise once, and its state carries over from piece to piece as in a live call. The 6x resampling to
 * and from 48 kHz is sincResample's kernel as polyphase filters. Holds wasm memory: dispose() it.
 */
export class RnnoiseStream {
  private readonly input = new SampleQueue(); // MODEL_RATE
  private readonly denoised = new SampleQueue(); // RNNOISE_RATE, gain undone
  private readonly window = new Float32Array(UP_WINDOW);
  private readonly frame = new Float32Array(FRAME);
  /** Next 48 kHz input position to compute: a whole number of frames. */
  private upTo = 0;
  /** Next output sample. */
  private outTo = 0;
  private ended = false;

  private constructor(
    private readonly rnnoise: Rnnoise,
    private readonly state: DenoiseState,
    private readonly gain: number,
    private readonly onFrame?: (voiceProbability: number) => void,
  ) {}

  /**
   * A stream that scales its input by `gain` (see rnnoiseGain) on the way into RNNoise and back out.
   * `onFrame` gets RNNoise's voice activity (0-1) for each frame in turn: frame k's analysis window
   * covers 48 kHz input [FRAME * (k - 1), FRAME * (k + 1)).
   */
  static async open(gain: number, onFrame?: (voiceProbability: number) => void): Promise<RnnoiseStream> {
    if (!(gain > 0 && Number.isFinite(gain))) throw new RangeError(`RnnoiseStream: the gain must be positive and finite (got ${gain})`);
    const rnnoise = await loadRnnoise();
    return new RnnoiseStream(rnnoise, rnnoise.createDenoiseState(), gain, onFrame);
  }

  /** Takes the next input samples; returns the output samples that are ready (27 to 37 ms behind the input: RNNoise's delay, the filters' reach and a frame). */
  push(x: Float32Array): Float32Array {
    if (this.ended) throw new Error('RnnoiseStream: push after end');
    this.input.push(x);
    return this.run();
  }

  /** Treats the input as over: returns the rest of the output, up to the length of the input. */
  end(): Float32Array {
    this.ended = true;
    return this.run();
  }

  dispose(): void {
    this.state.destroy();
  }

  private run(): Float32Array {
    const total = this.input.end;
    if (total === 0) return new Float32Array(0);
    // Output m sits at 48 kHz position FACTOR * m + RNNOISE_DELAY; its filter reaches HALF either side,
    // all of it computed by then (once ended, the input continues as silence).
    this.upsample(this.ended ? FACTOR * (total - 1) + RNNOISE_DELAY + HALF : -1);
    const ready = Math.floor((this.denoised.end - 1 - HALF - RNNOISE_DELAY) / FACTOR) + 1;
    const last = this.ended ? total : Math.min(total, ready);
    const out = new Float32Array(Math.max(0, last - this.outTo));
    if (out.length > 0) {
      const { buf, offset, base } = this.denoised;
      const from = offset + FACTOR * this.outTo + RNNOISE_DELAY - HALF - base;
      this.rnnoise.downsample(buf.subarray(from, from + FACTOR * (out.length - 1) + TAPS.length), out);
    }
    this.outTo += out.length;
    this.denoised.dropBefore(FACTOR * this.outTo + RNNOISE_DELAY - HALF);
    return out;
  }

  /**
   * Runs RNNoise on every 48 kHz frame the input allows (once ended: past its end, as silence, until
   * RNNoise's output reaches `until`).
   */
  private upsample(until: number): void {
    const { input: x, window, frame } = this;
    for (;;) {
      const first = this.upTo / FACTOR - UP_LEAD;
      const end = first + UP_WINDOW;
      if (this.ended ? this.denoised.end > until : end > x.end) break;
      window.fill(0);
      const from = Math.max(first, x.base);
      const to = Math.min(end, x.end);
      if (to > from) window.set(x.buf.subarray(x.offset + from - x.base, x.offset + to - x.base), from - first);
      const voice = this.state.processUpsampled(window, this.gain, frame);
      this.onFrame?.(voice);
      this.denoised.push(frame);
      this.upTo += FRAME;
      x.dropBefore(first + FRAME / FACTOR);
    }
  }
}

/** How much input RnnoiseReader pushes at a time (1 s). */
const READ_BLOCK = MODEL_RATE;
/** MODEL_RATE samples per RNNoise frame. */
const BLOCK = FRAME / FACTOR;

/** Where RnnoiseReader.voiceless counts RNNoise as hearing no voice. */
export interface VoicelessRule {
  /** Voice activity below this (0-1) is no voice. */
  below: number;
  /** So many frames (10 ms) on either side must have no voice too. */
  reachFrames: number;
}

/**
 * RNNoise's estimate of a signal of known length that is read piece by piece, for readers that move
 * forward through it (each read starts no earlier than the one before): one RnnoiseStream pass, so
 * overlapping reads cost nothing twice. Holds wasm memory: dispose() it.
 */
export class RnnoiseReader {
  private readonly output = new SampleQueue();
  private fed = 0;
  private ended = false;

  private constructor(
    private readonly stream: RnnoiseStream,
    /** RNNoise's voice activity, frame by frame. */
    private readonly voice: SampleQueue,
    private readonly length: number,
    private readonly readInput: (start: number, count: number) => Float32Array | Promise<Float32Array>,
  ) {}

  /** A reader of `length` samples from `readInput`, brought into RNNoise by `gain` (see rnnoiseGain). */
  static async open(length: number, gain: number, readInput: (start: number, count: number) => Float32Array | Promise<Float32Array>): Promise<RnnoiseReader> {
    const voice = new SampleQueue();
    const frame = new Float32Array(1);
    const stream = await RnnoiseStream.open(gain, (v) => {
      frame[0] = v;
      voice.push(frame);
    });
    return new RnnoiseReader(stream, voice, length, readInput);
  }

  /** RNNoise's estimate of samples [start, start + count), within the signal. */
  async read(start: number, count: number): Promise<Float32Array> {
    if (start < this.output.base || start + count > this.length) {
      throw new RangeError(`RnnoiseReader: samples [${start}, ${start + count}) are behind the last read or past the end (${this.length})`);
    }
    await this.feed(() => this.output.end >= start + count);
    this.output.dropBefore(start);
    const { buf, offset } = this.output;
    return buf.slice(offset, offset + count);
  }

  /**
   * 1 for each of samples [start, start + count) where RNNoise heard no voice (see VoicelessRule), by
   * 10 ms blocks of the signal: block b (samples [BLOCK * b, BLOCK * (b + 1))) takes the voice activity
   * of the frame whose analysis window starts there. Reads move forward as with read().
   */
  async voiceless(start: number, count: number, { below, reachFrames }: VoicelessRule): Promise<Uint8Array> {
    const lastBlock = Math.ceil(this.length / BLOCK) - 1;
    const first = Math.max(0, Math.floor(start / BLOCK) - reachFrames);
    const last = Math.min(lastBlock, Math.floor((start + count - 1) / BLOCK) + reachFrames);
    if (first + 1 < this.voice.base) throw new RangeError(`RnnoiseReader: samples from ${start} are behind the last read`);
    await this.feed(() => this.voice.end > last + 1);
    this.voice.dropBefore(first + 1);
    const { buf, offset, base, end } = this.voice;
    const quiet = (b: number) => b + 1 >= end || buf[offset + b + 1 - base]! < below;
    const out = new Uint8Array(count);
    for (let b = Math.floor(start / BLOCK); b * BLOCK < start + count; b++) {
      let none = true;
      for (let c = Math.max(0, b - reachFrames); none && c <= Math.min(lastBlock, b + reachFrames); c++) none = quiet(c);
      if (none) out.fill(1, Math.max(0, b * BLOCK - start), Math.min(count, (b + 1) * BLOCK - start));
    }
    return out;
  }

  dispose(): void {
    this.stream.dispose();
  }

  /** Pushes input until `enough` (or the input is over and the stream ended). */
  private async feed(enough: () => boolean): Promise<void> {
    while (!enough()) {
      const n = Math.min(READ_BLOCK, this.length - this.fed);
      if (n === 0 && this.ended) return;
      const ready = n > 0 ? this.stream.push(await this.readInput(this.fed, n)) : this.stream.end();
      this.ended = n === 0;
      this.fed += n;
      this.output.push(ready);
    }
  }
}
