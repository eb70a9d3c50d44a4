// A streaming short-time Fourier transform: frames in, spectra changed by a callback, frames
// overlap-added back out. Blocks of any length go in and the same samples come out, delayed by
// one window, so hour-long signals pass through a few windows of memory.
import { fft } from './fft';

/** Half spectra (bins 0..size/2) of one real frame. */
export interface Spectrum {
  re: Float64Array;
  im: Float64Array;
}

/**
 * Called once per frame, in order, with the spectra of every input and one spectrum per output to
 * fill (zeroed beforehand). Frame j covers samples [(j - 3) * hop, (j + 1) * hop).
 */
export type SpectralFn = (inputs: readonly Spectrum[], outputs: Spectrum[]) => void;

/** A power of two near 40 ms: bins of about 20 Hz at 44.1/48 kHz and 31 Hz at 8 kHz. */
export function stftSize(rate: number): number {
  return 2 ** Math.max(4, Math.round(Math.log2(rate * 0.04)));
}

/**
 * Hann analysis and synthesis windows at 75% overlap: the squared windows of the four frames over
 * each sample sum to 1.5, so dividing by it makes an untouched spectrum give back its input exactly.
 */
function windows(size: number): { analysis: Float64Array; synthesis: Float64Array } {
  const analysis = new Float64Array(size);
  const synthesis = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size);
    analysis[i] = w;
    synthesis[i] = w / 1.5;
  }
  return { analysis, synthesis };
}

const newSpectrum = (bins: number): Spectrum => ({ re: new Float64Array(bins), im: new Float64Array(bins) });

/**
 * Streams `nIn` signals through `fn` into `nOut` signals. `push` takes one block per input (equal
 * lengths) and returns every output sample that is final, together with the same samples of the
 * inputs, so that callers can combine the two without keeping their own copies.
 */
export class StftStream {
  readonly size: number;
  readonly hop: number;
  private readonly win: { analysis: Float64Array; synthesis: Float64Array };
  private readonly frameIn: Float64Array[];
  private readonly ola: Float64Array[];
  private readonly inSpec: Spectrum[];
  private readonly outSpec: Spectrum[];
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private fill: number;
  /** Output samples still owed to the zeros in front of the signal. */
  private skip: number;
  private pushed = 0;
  private emitted = 0;

  constructor(readonly nIn: number, readonly nOut: number, size: number, private readonly fn: SpectralFn) {
    if (!Number.isInteger(Math.log2(size)) || size < 16) throw new RangeError(`StftStream: size must be a power of two of at least 16, got ${size}`);
    this.size = size;
    this.hop = size / 4;
    this.win = windows(size);
    const bins = size / 2 + 1;
    this.frameIn = Array.from({ length: nIn }, () => new Float64Array(size));
    this.ola = Array.from({ length: nOut }, () => new Float64Array(size));
    this.inSpec = Array.from({ length: nIn }, () => newSpectrum(bins));
    this.outSpec = Array.from({ length: nOut }, () => newSpectrum(bins));
    this.re = new Float64Array(size);
    this.im = new Float64Array(size);
    // Zeros in front make every sample of the signal lie under four frames, the first included.
    this.fill = size - this.hop;
    this.skip = size - this.hop;
  }

  push(blocks: readonly Float32Array[]): { outputs: Float32Array[]; inputs: Float32Array[] } {
    if (blocks.length !== this.nIn) throw new RangeError(`StftStream: ${blocks.length} blocks for ${this.nIn} inputs`);
    const n = blocks[0]?.length ?? 0;
    if (blocks.some((b) => b.length !== n)) throw new RangeError('StftStream: blocks of different lengths');
    this.pushed += n;
    return this.consume(blocks, n);
  }

  /** Ends the signal: the last samples, padded out with zeros through the final frames. */
  flush(): { outputs: Float32Array[]; inputs: Float32Array[] } {
    const owed = this.pushed - this.emitted;
    // The last pushed sample is final once a frame starts after it: at most size - hop more samples.
    const pad = Array.from({ length: this.nIn }, () => new Float32Array(this.size));
    const out = this.consume(pad, this.size);
    const cut = (a: Float32Array[]) => a.map((x) => x.subarray(0, owed));
    return { outputs: cut(out.outputs), inputs: cut(out.inputs) };
  }

  private consume(blocks: readonly Float32Array[], n: number): { outputs: Float32Array[]; inputs: Float32Array[] } {
    // Every frame completed here hands out at most one hop.
    const cap = (Math.floor((this.fill + n - this.size) / this.hop) + 1) * this.hop;
    const outputs = Array.from({ length: this.nOut }, () => new Float32Array(Math.max(0, cap)));
    const inputs = Array.from({ length: this.nIn }, () => new Float32Array(Math.max(0, cap)));
    let out = 0;
    let at = 0;
    while (at < n) {
      const take = Math.min(n - at, this.size - this.fill);
      for (let i = 0; i < this.nIn; i++) this.frameIn[i]!.set(blocks[i]!.subarray(at, at + take), this.fill);
      this.fill += take;
      at += take;
      if (this.fill < this.size) break;
      this.runFrame();
      out += this.emit(outputs, inputs, out);
    }
    return { outputs: outputs.map((o) => o.subarray(0, out)), inputs: inputs.map((x) => x.subarray(0, out)) };
  }

  private runFrame(): void {
    const { size, re, im } = this;
    const half = size / 2;
    const w = this.win.analysis;
    // Two real frames per complex FFT: x + i y, separated by conjugate symmetry.
    for (let i = 0; i < this.nIn; i += 2) {
      const a = this.frameIn[i]!;
      const b = i + 1 < this.nIn ? this.frameIn[i + 1]! : null;
      for (let t = 0; t < size; t++) {
        re[t] = a[t]! * w[t]!;
        im[t] = b ? b[t]! * w[t]! : 0;
      }
      fft(re, im, false);
      const sa = this.inSpec[i]!;
      const sb = b ? this.inSpec[i + 1]! : null;
      for (let k = 0; k <= half; k++) {
        const m = (size - k) & (size - 1);
        sa.re[k] = (re[k]! + re[m]!) / 2;
        sa.im[k] = (im[k]! - im[m]!) / 2;
        if (sb) {
          sb.re[k] = (im[k]! + im[m]!) / 2;
          sb.im[k] = (re[m]! - re[k]!) / 2;
        }
      }
    }
    for (const s of this.outSpec) {
      s.re.fill(0);
      s.im.fill(0);
    }
    this.fn(this.inSpec, this.outSpec);
    const ws = this.win.synthesis;
    for (let o = 0; o < this.nOut; o += 2) {
      const sa = this.outSpec[o]!;
      const sb = o + 1 < this.nOut ? this.outSpec[o + 1]! : null;
      // Z = A + i B over the full circle (A, B Hermitian), whose inverse is a + i b.
      for (let k = 0; k <= half; k++) {
        const ar = sa.re[k]!;
        const ai = k === 0 || k === half ? 0 : sa.im[k]!;
        const br = sb ? sb.re[k]! : 0;
        const bi = sb && k !== 0 && k !== half ? sb.im[k]! : 0;
        re[k] = ar - bi;
        im[k] = ai + br;
        if (k !== 0 && k !== half) {
          re[size - k] = ar + bi;
          im[size - k] = br - ai;
        }
      }
      fft(re, im, true);
      const oa = this.ola[o]!;
      const ob = sb ? this.ola[o + 1]! : null;
      for (let t = 0; t < size; t++) {
        oa[t]! += re[t]! * ws[t]!;
        if (ob) ob[t]! += im[t]! * ws[t]!;
      }
    }
  }

  /**
   * The first hop of the overlap-add is final: copy it (past the leading zeros) to `outputs` and the
   * same samples of the inputs to `inputs` at `at`, slide everything by one hop, and return the count.
   */
  private emit(outputs: Float32Array[], inputs: Float32Array[], at: number): number {
    const { hop, size } = this;
    const drop = Math.min(this.skip, hop);
    this.skip -= drop;
    const count = hop - drop;
    for (let o = 0; o < this.nOut; o++) {
      const a = this.ola[o]!;
      outputs[o]!.set(a.subarray(drop, hop), at);
      a.copyWithin(0, hop);
      a.fill(0, size - hop);
    }
    for (let i = 0; i < this.nIn; i++) {
      const a = this.frameIn[i]!;
      inputs[i]!.set(a.subarray(drop, hop), at);
      a.copyWithin(0, hop);
    }
    this.emitted += count;
    this.fill = size - hop;
    return count;
  }
}
