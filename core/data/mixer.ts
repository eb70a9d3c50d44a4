// Online two-source mixtures from clips held in memory at the model's rate.
//
// Each example: pick a mixture type by its prior, one clip per source of the needed classes (two
// different speakers / sound types for same-class mixtures when the split has them), a random crop
// of `segmentSeconds` (shorter clips are zero-padded at a random offset, so short events stay
// events instead of becoming artificial loops), each source scaled to unit energy per second (so the
// level does not depend on the segment length: a model fine-tuned on other crops keeps its input
// level), then source 0 gains +snr/2 dB and source 1 -snr/2 dB so that 10 log10(E0/E1) = snr,
// snr ~ U(snrRange).
// In speech+env mixtures source 0 is speech. The mixture is the exact sum of the sources. With
// augmentation, a speech+env mixture may leave one source out (all zeros): one-class input.
import { join } from 'node:path';
import { MODEL_RATE, type MixtureBatch, type MixtureType, type SoundClass } from '../types';
import { loadMono } from '../io/input';
import type { CorpusEntry } from './manifest';
import { readPcm } from './manifest';
import type { Split } from './split';
import { Rng } from './random';
import { augmentChannel, resampleLinear, silence, type AugmentConfig } from './augment';
import { audible, energy } from '../dsp/energy';
import { audibleClip, placeRun, SOUNDS, TURNS } from './runs';

export interface Clip {
  id: string;
  class: SoundClass;
  label: string;
  split: Split;
  /** Mono at MODEL_RATE. */
  audio: Float32Array;
}

/** Loads the clips of the given splits into memory (from the 8 kHz cache when the entry has one). */
export async function loadClips(entries: CorpusEntry[], opts: { cacheDir?: string; splits?: Split[] } = {}): Promise<Clip[]> {
  const clips: Clip[] = [];
  for (const e of entries) {
    if (opts.splits && !opts.splits.includes(e.split)) continue;
    const audio = e.pcm && opts.cacheDir
      ? await readPcm(join(opts.cacheDir, e.pcm))
      : await loadMono(e.file, MODEL_RATE, { rejectSilence: false, quality: 'fast' });
    clips.push({ id: e.file, class: e.class, label: e.label, split: e.split, audio });
  }
  return clips;
}

const SOURCES: Record<MixtureType, [SoundClass, SoundClass]> = {
  'speech+env': ['speech', 'env'],
  'speech+speech': ['speech', 'speech'],
  'env+env': ['env', 'env'],
};

export interface MixerOptions {
  segmentSeconds?: number;
  rate?: number;
  snrRange?: [number, number];
  /** Relative weights of the mixture types (normalised); default speech+env only. */
  priors?: Partial<Record<MixtureType, number>>;
  seed?: number | string;
  /** Per-source augmentation (see augment.ts); absent: sources are plain crops. */
  augment?: AugmentConfig | null;
}

/** A batch plus what made it, for evaluation breakdowns and checks. */
export interface MixerBatch extends MixtureBatch {
  /** [batch]: drawn 10 log10(E_source0 / E_source1) in dB. */
  snrDb: number[];
  /** [batch][nSrc]: clip ids (source file paths). */
  clipIds: string[][];
}

const MAX_REDRAWS = 20;

export class Mixer {
  readonly time: number;
  private readonly byClass: Record<SoundClass, Clip[]>;
  private readonly audible: Partial<Record<SoundClass, Clip[]>> = {};
  private readonly types: MixtureType[];
  private readonly cumulative: number[];
  private readonly snrRange: [number, number];
  private readonly rng: Rng;

  constructor(clips: Clip[], private readonly opts: MixerOptions = {}) {
    this.time = Math.round((opts.segmentSeconds ?? 4) * (opts.rate ?? MODEL_RATE));
    this.snrRange = opts.snrRange ?? [-5, 5];
    const priors = opts.priors ?? { 'speech+env': 1 };
    this.types = (Object.keys(priors) as MixtureType[]).filter((t) => (priors[t] ?? 0) > 0);
    if (this.types.length === 0) throw new RangeError('mixture priors: at least one type needs a positive weight');
    for (const t of this.types) if (!SOURCES[t]) throw new RangeError(`unknown mixture type "${t}"`);
    const total = this.types.reduce((s, t) => s + priors[t]!, 0);
    let acc = 0;
    this.cumulative = this.types.map((t) => (acc += priors[t]! / total));
    this.byClass = { speech: [], env: [] };
    for (const c of clips) if (c.audio.length > 0) this.byClass[c.class].push(c);
    for (const t of this.types) {
      for (const cls of SOURCES[t]) {
        if (this.byClass[cls].length === 0) throw new RangeError(`mixture type ${t} needs ${cls} clips and there are none`);
      }
    }
    this.rng = new Rng(opts.seed ?? 0);
  }

  /** The next training batch (the stream advances). */
  batch(size: number): MixerBatch {
    return this.make(size, this.rng);
  }

  /**
   * A fixed set (validation or test): the same for a given seed and name whatever the training
   * stream has consumed. Build the mixer from that split's clips only.
   */
  fixed(size: number, name: string): MixerBatch {
    return this.make(size, new Rng(`${this.opts.seed ?? 0}:fixed:${name}`));
  }

  private make(size: number, rng: Rng): MixerBatch {
    const T = this.time;
    const mixture = new Float32Array(size * T);
    const sources = new Float32Array(size * 2 * T);
    const out: MixerBatch = {
      batch: size, nSrc: 2, time: T, mixture, sources, classes: [], labels: [], mixtureTypes: [], snrDb: [], clipIds: [],
    };
    for (let b = 0; b < size; b++) {
      const u = rng.next();
      const type = this.types[this.cumulative.findIndex((c) => u < c)] ?? this.types[this.types.length - 1]!;
      const [c0, c1] = SOURCES[type];
      const s0 = sources.subarray((b * 2) * T, (b * 2 + 1) * T);
      const s1 = sources.subarray((b * 2 + 1) * T, (b * 2 + 2) * T);
      const clip0 = this.sourceInto(s0, c0, rng, c0 !== c1);
      const clip1 = this.sourceInto(s1, c1, rng, c0 !== c1, c0 === c1 ? clip0.label : undefined);
      const snr = rng.uniform(this.snrRange[0], this.snrRange[1]);
      levelAtSnr(s0, s1, snr, T / MODEL_RATE);
      const absent = type === 'speech+env' ? this.absentSource(rng) : -1;
      if (absent >= 0) (absent === 0 ? s0 : s1).fill(0);
      const m = mixture.subarray(b * T, (b + 1) * T);
      for (let i = 0; i < T; i++) m[i] = s0[i]! + s1[i]!;
      out.classes.push([c0, c1]);
      out.labels.push([clip0.label, clip1.label]);
      out.mixtureTypes.push(type);
      out.snrDb.push(absent < 0 ? snr : absent === 0 ? -Infinity : Infinity);
      out.clipIds.push([clip0.id, clip1.id]);
    }
    return out;
  }

  /** With augmentation, the speech+env source left out (0 speech, 1 env), or -1 for none. */
  private absentSource(rng: Rng): number {
    const aug = this.opts.augment;
    // No draw when the option is off, so existing configs keep their mixture streams.
    if (!aug || aug.absentSpeech + aug.absentEnv === 0) return -1;
    const u = rng.next();
    return u < aug.absentSpeech ? 0 : u < aug.absentSpeech + aug.absentEnv ? 1 : -1;
  }

  /**
   * Fills `dst` with one source of class `cls` (avoiding label `not` when possible): a crop of a
   * random clip, or with augmentation in a mixture of two classes (`mayRun`) sometimes a run of
   * clips; then with augmentation its channel, a pause (speech crops), and layered sounds and a
   * steady bed (env). Returns the main clip.
   */
  private sourceInto(dst: Float32Array, cls: SoundClass, rng: Rng, mayRun: boolean, not?: string): Clip {
    const aug = this.opts.augment;
    // No draw when runs are off, so existing configs keep their mixture streams.
    const run = aug && mayRun && aug.runs > 0 && rng.next() < aug.runs ? this.runInto(dst, cls, rng) : null;
    const clip = run ?? this.cropInto(dst, cls, rng, not);
    if (!aug) return clip;
    keepAudible(dst, augmentChannel(dst, rng, aug));
    if (cls === 'speech' && !run && rng.next() < aug.pause) {
      const kept = Float32Array.from(dst);
      const length = Math.round(rng.uniform(...aug.pauseFraction) * dst.length);
      silence(dst, rng.int(dst.length - length + 1), length);
      if (!audible(dst)) dst.set(kept);
    }
    if (cls === 'env') {
      const unit = Math.sqrt(energy(dst));
      const layers = aug.envLayers[0] + rng.int(aug.envLayers[1] - aug.envLayers[0] + 1);
      const layer = new Float32Array(dst.length);
      for (let k = 0; k < layers; k++) {
        this.cropInto(layer, 'env', rng);
        keepAudible(layer, augmentChannel(layer, rng, aug));
        addScaled(dst, layer, (unit * 10 ** (rng.uniform(...aug.layerGainDb) / 20)) / Math.sqrt(energy(layer)));
      }
      if (rng.next() < aug.bed) {
        this.bedInto(layer, rng);
        keepAudible(layer, augmentChannel(layer, rng, aug));
        addScaled(dst, layer, (unit * 10 ** (rng.uniform(...aug.bedGainDb) / 20)) / Math.sqrt(energy(layer)));
      }
    }
    return clip;
  }

  /** Fills `dst` with a crop of a random clip of `cls` (avoiding label `not` when possible), sped up or down with augmentation. */
  private cropInto(dst: Float32Array, cls: SoundClass, rng: Rng, not?: string): Clip {
    const pool = this.byClass[cls];
    const others = not === undefined ? pool : pool.filter((c) => c.label !== not);
    const from = others.length > 0 ? others : pool;
    const aug = this.opts.augment;
    const factor = aug && rng.next() < aug.speed ? rng.uniform(...aug.speedRange) : 1;
    const T = dst.length;
    const span = factor === 1 ? T : Math.ceil((T - 1) * factor) + 1;
    const raw = factor === 1 ? dst : new Float32Array(span);
    let clip = from[0]!;
    for (let attempt = 0; attempt < MAX_REDRAWS; attempt++) {
      clip = rng.pick(from);
      raw.fill(0);
      const x = clip.audio;
      if (x.length >= span) raw.set(x.subarray(rng.int(x.length - span + 1)).subarray(0, span));
      else raw.set(x, rng.int(span - x.length + 1));
      if (audible(raw)) {
        if (raw !== dst) dst.set(resampleLinear(raw, factor, T));
        return clip;
      }
    }
    throw new Error(`no audible ${cls} crop found in ${MAX_REDRAWS} draws (last clip ${clip.id})`);
  }

  /** Fills `dst` with a run of clips of `cls` (see runs.ts); null when the run came out inaudible. */
  private runInto(dst: Float32Array, cls: SoundClass, rng: Rng): Clip | null {
    this.audible[cls] ??= this.byClass[cls].filter(audibleClip);
    const pool = this.audible[cls];
    if (pool.length === 0) return null;
    const first = placeRun(dst, pool, rng, this.opts.rate ?? MODEL_RATE, cls === 'speech' ? TURNS : SOUNDS);
    return audible(dst) ? first : null;
  }

  /** A steady bed: an env clip repeated (with 50 ms crossfades) to cover all of `dst`. */
  private bedInto(dst: Float32Array, rng: Rng): void {
    const pool = this.byClass.env;
    let x = rng.pick(pool).audio;
    for (let attempt = 0; attempt < MAX_REDRAWS && !audible(x); attempt++) x = rng.pick(pool).audio;
    const fade = Math.min(Math.round(0.05 * MODEL_RATE), Math.floor(x.length / 2));
    const period = Math.max(1, x.length - fade);
    const offset = rng.int(x.length);
    dst.fill(0);
    for (let start = -offset; start < dst.length; start += period) {
      for (let i = Math.max(0, -start); i < Math.min(x.length, dst.length - start); i++) {
        const n = start + i;
        const g = fade > 0 ? Math.min(1, (i + 1) / fade, (x.length - i) / fade) : 1;
        dst[n]! += g * x[i]!;
      }
    }
  }
}

/** Takes the augmented `y` unless augmentation left it inaudible (e.g. a band-stop on a narrow-band sound). */
function keepAudible(dst: Float32Array, y: Float32Array): void {
  if (audible(y) && y.every(Number.isFinite)) dst.set(y);
}

function addScaled(dst: Float32Array, x: Float32Array, g: number): void {
  if (!Number.isFinite(g)) return;
  for (let i = 0; i < dst.length; i++) dst[i]! += g * x[i]!;
}

/**
 * Expected standard deviation of the mixtures `Mixer` draws, whatever their length: each source has
 * unit energy per second and gains of +-snr/2 dB, so the mixture's mean square is
 * 2 cosh(snr ln10 / 20) / MODEL_RATE on average.
 */
export function expectedMixtureStd(snrRange: readonly [number, number]): number {
  const steps = 64;
  let sum = 0;
  for (let i = 0; i < steps; i++) {
    const snr = snrRange[0] + ((i + 0.5) / steps) * (snrRange[1] - snrRange[0]);
    sum += 10 ** (snr / 20) + 10 ** (-snr / 20);
  }
  return Math.sqrt(sum / steps / MODEL_RATE);
}

/**
 * Scales two sources of `seconds` in place to unit energy per second, then source 0 by +snr/2 dB and
 * source 1 by -snr/2 dB, so that 10 log10(E0/E1) = snr.
 */
export function levelAtSnr(s0: Float32Array, s1: Float32Array, snrDb: number, seconds: number): void {
  const rootSeconds = Math.sqrt(seconds);
  scale(s0, (10 ** (snrDb / 40) * rootSeconds) / Math.sqrt(energy(s0)));
  scale(s1, (10 ** (-snrDb / 40) * rootSeconds) / Math.sqrt(energy(s1)));
}

function scale(x: Float32Array, g: number): void {
  for (let i = 0; i < x.length; i++) x[i]! *= g;
}
