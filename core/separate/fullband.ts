// Stems at the input's quality from a model that works at 8 kHz mono: the model's stems, brought
// back to the input's rate, become time-frequency masks that are applied to every channel of the
// original recording; above the model's band each stem's mask is its share of the energy at the top
// of that band, weighted toward the residual. One stem (the residual, environmental sound) is the input minus the others, so the
// stems add up to the input at full band in every channel. docs/full-band.md has the method and the
// numbers that chose it.
import { StftStream, stftSize, type Spectrum } from '../dsp/stft';
import { MODEL_RATE } from '../types';

/**
 * Fraction of the model's Nyquist frequency that reaches it intact: the downsampling to MODEL_RATE
 * (a sinc that passes 90% of the band, like the libsamplerate 'medium' the training corpus was
 * made with) rolls off above.
 */
export const MODEL_PASSBAND = 0.9;

export interface FullBandOptions {
  /** The input's sample rate. */
  rate: number;
  channels: number;
  nStems: number;
  /** The stem that takes whatever the others leave: the input minus the other stems. */
  residual: number;
  /**
   * Above the model's band, up to `sharedUpToHz`, each stem's mask is its share of the energy at the
   * top of the model's band, with the residual's energy counted `residualWeight` times; above
   * `sharedUpToHz` the residual takes it all. Defaults HIGH_BAND (docs/full-band.md).
   */
  residualWeight?: number;
  sharedUpToHz?: number;
}

/**
 * The high-band rule chosen on held-out 44.1 kHz stereo mixtures (docs/full-band.md): the other
 * stems take high-band energy only where they clearly dominate the top of the model's band (more
 * than 12 dB over the residual), and none above 8 kHz, where speech has little left.
 */
export const HIGH_BAND = { residualWeight: 16, sharedUpToHz: 8000 } as const;

/** The band the model saw of a signal at `rate`: all of it at or below the model's rate, else the downsampler's passband. */
export function modelBand(rate: number): number {
  return rate <= MODEL_RATE ? rate / 2 : (MODEL_PASSBAND * MODEL_RATE) / 2;
}

// Relative floor of |X|² in the mask's denominator: keeps silent bins finite without biasing the others.
const FLOOR = 1e-9;
/**
 * Largest mask magnitude in the model's band with more than one channel: where stems partly cancel
 * a mask may exceed 1, and another channel need not cancel alike. A single channel is never limited:
 * its masks give back the model's stems exactly.
 */
const MAX_GAIN = 2;
/** Bottom of the band, below the model's band edge, whose stem energies set the masks above it. */
const FOLLOW_FROM_HZ = 2000;

/**
 * Streaming splitter. `push` takes one block of every input channel and the same stretch of every
 * model stem but the residual (mono, already at the input's rate) and returns the stems' samples
 * that are final, as [stem][channel]; `flush` returns the rest. The output trails the input by one
 * STFT window (one channel at the model's rate: not at all).
 */
export class FullBandSplitter {
  /** Null for one channel at the model's rate, where the masks would give back the model's stems: they pass through. */
  private readonly stft: StftStream | null;
  private readonly channels: number;
  private readonly nStems: number;
  private readonly residual: number;
  /** The stems that are masked (all but the residual), in order. */
  readonly masked: number[];

  constructor(opts: FullBandOptions) {
    const { rate, channels, nStems, residual } = opts;
    if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`FullBandSplitter: channels must be a positive integer, got ${channels}`);
    if (!Number.isInteger(nStems) || nStems < 1) throw new RangeError(`FullBandSplitter: nStems must be a positive integer, got ${nStems}`);
    if (!Number.isInteger(residual) || residual < 0 || residual >= nStems) throw new RangeError(`FullBandSplitter: residual must name one of the ${nStems} stems, got ${residual}`);
    this.channels = channels;
    this.nStems = nStems;
    this.residual = residual;
    const masked = Array.from({ length: nStems }, (_, j) => j).filter((j) => j !== residual);
    this.masked = masked;
    if (channels === 1 && rate === MODEL_RATE) {
      this.stft = null;
      return;
    }
    const size = stftSize(rate);
    const binHz = rate / size;
    const bins = size / 2 + 1;
    const band = modelBand(rate);
    // The Nyquist bin too when the model heard the whole band.
    const kBand = band >= rate / 2 ? bins : Math.min(bins, Math.ceil(band / binHz));
    const kFollow = Math.min(kBand - 1, Math.max(1, Math.floor(FOLLOW_FROM_HZ / binHz)));
    const maxGain = channels > 1 ? MAX_GAIN : Infinity;
    const nMasked = masked.length;
    const residualWeight = opts.residualWeight ?? HIGH_BAND.residualWeight;
    const kShared = Math.max(kBand, Math.min(bins, Math.floor((opts.sharedUpToHz ?? HIGH_BAND.sharedUpToHz) / binHz) + 1));
    const mRe = Array.from({ length: nMasked }, () => new Float64Array(bins));
    const mIm = Array.from({ length: nMasked }, () => new Float64Array(bins));
    const mono: Spectrum = { re: new Float64Array(bins), im: new Float64Array(bins) };
    const top = new Float64Array(nStems);
    this.stft = new StftStream(channels + nMasked, channels * nMasked, size, (inputs: readonly Spectrum[], outputs: Spectrum[]) => {
      const guides = inputs.slice(channels);
      // The model heard the channels' mean: its spectrum is the mean of theirs.
      mono.re.fill(0);
      mono.im.fill(0);
      for (let c = 0; c < channels; c++) {
        const x = inputs[c]!;
        for (let k = 0; k < bins; k++) {
          mono.re[k]! += x.re[k]! / channels;
          mono.im[k]! += x.im[k]! / channels;
        }
      }
      let mean = 0;
      for (let k = 0; k < kBand; k++) mean += mono.re[k]! ** 2 + mono.im[k]! ** 2;
      const floor = (FLOOR * mean) / kBand + 1e-30;
      // In the model's band: the complex ratio of each stem to the mixture the model heard, which gives
      // back the model's own output for a mono input and carries it into every channel otherwise.
      top.fill(0);
      for (let k = 0; k < kBand; k++) {
        const dr = mono.re[k]!;
        const di = mono.im[k]!;
        const den = dr * dr + di * di + floor;
        let rr = dr;
        let ri = di;
        for (let m = 0; m < nMasked; m++) {
          const g = guides[m]!;
          let re = (g.re[k]! * dr + g.im[k]! * di) / den;
          let im = (g.im[k]! * dr - g.re[k]! * di) / den;
          const mag = Math.hypot(re, im);
          if (mag > maxGain) {
            re *= maxGain / mag;
            im *= maxGain / mag;
          }
          mRe[m]![k] = re;
          mIm[m]![k] = im;
          rr -= g.re[k]!;
          ri -= g.im[k]!;
          if (k >= kFollow) top[masked[m]!]! += g.re[k]! ** 2 + g.im[k]! ** 2;
        }
        if (k >= kFollow) top[residual]! += rr * rr + ri * ri;
      }
      // Above it: each stem's share of the energy at the top of the model's band, the residual's
      // weighted; the same for every bin up to kShared, then nothing.
      let total = residualWeight * top[residual]!;
      for (const j of masked) total += top[j]!;
      for (let m = 0; m < nMasked; m++) {
        mRe[m]!.fill(total > 0 ? top[masked[m]!]! / total : 0, kBand, kShared);
        mRe[m]!.fill(0, kShared);
        mIm[m]!.fill(0, kBand);
      }
      for (let c = 0; c < channels; c++) {
        const x = inputs[c]!;
        for (let m = 0; m < nMasked; m++) {
          const y = outputs[m * channels + c]!;
          const ar = mRe[m]!;
          const ai = mIm[m]!;
          for (let k = 0; k < bins; k++) {
            y.re[k] = ar[k]! * x.re[k]! - ai[k]! * x.im[k]!;
            y.im[k] = ar[k]! * x.im[k]! + ai[k]! * x.re[k]!;
          }
        }
      }
    });
  }

  /** `guides`: the model's stems but the residual, in stem order, at the input's rate. */
  push(channels: readonly Float32Array[], guides: readonly Float32Array[]): Float32Array[][] {
    if (channels.length !== this.channels) throw new RangeError(`FullBandSplitter: ${channels.length} channels given for ${this.channels}`);
    if (guides.length !== this.masked.length) throw new RangeError(`FullBandSplitter: ${guides.length} stems given for ${this.masked.length} (all but the residual)`);
    return this.assemble(this.stft ? this.stft.push([...channels, ...guides]) : { outputs: [...guides], inputs: [...channels] });
  }

  flush(): Float32Array[][] {
    return this.assemble(this.stft ? this.stft.flush() : { outputs: this.masked.map(() => new Float32Array(0)), inputs: [new Float32Array(0)] });
  }

  private assemble({ outputs, inputs }: { outputs: Float32Array[]; inputs: Float32Array[] }): Float32Array[][] {
    const n = inputs[0]?.length ?? 0;
    const out: Float32Array[][] = Array.from({ length: this.nStems }, () => []);
    this.masked.forEach((j, m) => (out[j] = outputs.slice(m * this.channels, (m + 1) * this.channels)));
    const rest: Float32Array[] = [];
    for (let c = 0; c < this.channels; c++) {
      const r = Float32Array.from(inputs[c]!.subarray(0, n));
      for (const j of this.masked) {
        const s = out[j]![c]!;
        for (let t = 0; t < n; t++) r[t]! -= s[t]!;
      }
      rest.push(r);
    }
    out[this.residual] = rest;
    return out;
  }
}

/** The whole-signal form of FullBandSplitter: stems as [stem][channel], each as long as the input. */
export function splitFullBand(
  channels: readonly Float32Array[], guides: readonly Float32Array[], opts: Omit<FullBandOptions, 'channels'>,
): Float32Array[][] {
  const splitter = new FullBandSplitter({ ...opts, channels: channels.length });
  const head = splitter.push(channels, guides);
  const tail = splitter.flush();
  return head.map((stem, j) => stem.map((h, c) => {
    const out = new Float32Array(channels[c]!.length);
    out.set(h);
    out.set(tail[j]![c]!, h.length);
    return out;
  }));
}
