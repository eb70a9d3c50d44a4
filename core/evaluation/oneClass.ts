// The one-class check: inputs that hold only one class (traffic with nobody talking, speech in a quiet
// room), where SI-SDR is undefined because one reference is silence. What users see there is how
// much of the input lands in the stem of the absent class, so that is what is measured:
// leak = 10 log10(||stem of the absent class||^2 / ||input||^2) in dB, 0 dB when all of it leaks.
import type { AugmentConfig } from '../data/augment';
import { packageOfFile } from '../data/manifest';
import { Mixer } from '../data/mixer';
import { energy } from '../dsp/energy';
import type { Split } from '../data/split';
import type { DataConfig } from '../train/config';
import { dataEntries, fixedBatches, splitClips } from '../train/data';
import type { HeldOutSet } from '../train/heldout';
import { summarize } from '../train/metrics';
import { SOUND_CLASSES } from '../types';
import type { SoundClass } from '../types';
import type { SeparationSystem } from './systems';

/** Energy ratios are floored here (-60 dB), so that a silent stem scores a finite number. */
export const LEAK_FLOOR = 1e-6;

/** An input leaks when more than this (dB, relative to the input) lands in the absent class's stem. */
export const LEAK_THRESHOLD_DB = -10;

/** Table labels of the inputs, by the class they lack. */
export const ONE_CLASS_INPUTS: Record<SoundClass, string> = { speech: 'no speech (env only)', env: 'no env (speech only)' };

/** The leak (dB) of `stem` on `input`: its energy relative to the input's, floored at LEAK_FLOOR. */
export function leakDb(stem: Float32Array, input: Float32Array): number {
  const inputEnergy = energy(input);
  if (inputEnergy === 0) throw new RangeError('leak: the input is silent, so no share of it can leak');
  return 10 * Math.log10(Math.max(LEAK_FLOOR, energy(stem) / inputEnergy));
}

export interface LeakSummary {
  count: number;
  /** dB. */
  mean: number;
  median: number;
  /** The 95th percentile: the leak the worst 5 % of inputs reach. */
  p95: number;
  /** Share (0..1) of inputs whose leak is above LEAK_THRESHOLD_DB. */
  leaking: number;
}

export function summarizeLeaks(leaks: readonly number[]): LeakSummary {
  const s = summarize(leaks);
  return { count: s.count, mean: s.mean, median: s.p[50]!, p95: s.p[95]!, leaking: leaks.filter((v) => v > LEAK_THRESHOLD_DB).length / leaks.length };
}

/**
 * Every transform off, so that the inputs are plain crops like the SI-SDRi table's, and the `absent`
 * source of each speech+env mixture left out. Written out in full (ranges unused) rather than spread
 * from the defaults: a transform added to AugmentConfig later must be turned off here on purpose.
 */
export function oneClassAugment(absent: SoundClass): AugmentConfig {
  return {
    eq: 0, eqDb: 0, bandLimit: 0, codec: 0,
    reverb: 0, reverbSeconds: [0, 0], reverbDrrDb: [0, 0],
    speed: 0, speedRange: [1, 1], pause: 0, pauseFraction: [0, 0],
    envLayers: [0, 0], layerGainDb: [0, 0], bed: 0, bedGainDb: [0, 0], runs: 0,
    absentSpeech: absent === 'speech' ? 1 : 0, absentEnv: absent === 'env' ? 1 : 0,
  };
}

export interface OneClassOptions {
  data: DataConfig;
  split: Split;
  /** Inputs in the set. */
  count: number;
  seed: number;
  batchSize?: number;
}

/**
 * Fixed, seeded one-class inputs from one split of the data, by the class they lack: speech+env
 * mixtures (whatever types the data names) with that source zeroed, so each row's mixture is the
 * other source and its references are that source and silence. Both kinds are drawn under the same
 * key: input i lacking speech is the env source that input i lacking env left out, and the other way
 * round. The split's clips are loaded once for both.
 */
export async function oneClassSets(opts: OneClassOptions): Promise<Record<SoundClass, HeldOutSet>> {
  const { entries, cacheDir } = await dataEntries(opts.data);
  const clips = await splitClips(entries, cacheDir, opts.split);
  const packageOf = packageOfFile(entries);
  const setLacking = (absent: SoundClass): HeldOutSet => {
    const mixer = new Mixer(clips, {
      segmentSeconds: opts.data.segmentSeconds, snrRange: opts.data.snrDb, priors: { 'speech+env': 1 }, seed: opts.seed, augment: oneClassAugment(absent),
    });
    return { batches: fixedBatches(mixer, opts.count, opts.batchSize ?? 8, `${opts.split}-one-class`), packageOf };
  };
  return { speech: setLacking('speech'), env: setLacking('env') };
}

export interface InputLeak {
  /** dB. */
  leakDb: number;
  /** The package of the source the input holds. */
  package: string;
}

/**
 * Per system (in the order of `systems`) and input (in the order of the set): the leak of the stem
 * named after the class the set's inputs lack.
 */
export async function leakScores(systems: readonly SeparationSystem[], set: HeldOutSet, absent: SoundClass, onInput?: () => void): Promise<InputLeak[][]> {
  const leaks: InputLeak[][] = systems.map(() => []);
  for (const b of set.batches) {
    for (let i = 0; i < b.batch; i++) {
      const missing = b.classes[i]!.indexOf(absent);
      const present = 1 - missing;
      // A mixture that still holds the absent class would measure separation, not leak.
      const oneClass = b.nSrc === 2 && b.mixtureTypes[i] === 'speech+env'
        && b.sources.subarray((i * 2 + missing) * b.time, (i * 2 + missing + 1) * b.time).every((v) => v === 0);
      if (!oneClass) throw new Error(`one-class check: input ${i} of a batch is not a speech+env mixture without ${absent}`);
      const input = b.mixture.subarray(i * b.time, (i + 1) * b.time);
      const pkg = set.packageOf.get(b.clipIds[i]![present]!) ?? 'unknown';
      for (const [k, system] of systems.entries()) {
        leaks[k]!.push({ leakDb: leakDb((await system.separate(input))[absent], input), package: pkg });
        onInput?.();
      }
    }
  }
  return leaks;
}

export interface OneClassKindReport {
  overall: LeakSummary;
  /** By the package of the source the inputs hold. */
  byPackage: Record<string, LeakSummary>;
}

export interface OneClassReport {
  system: string;
  /** By the class the inputs lack (the stem whose leak is measured); only the kinds scored. */
  byAbsent: Partial<Record<SoundClass, OneClassKindReport>>;
}

export function summarizeKind(leaks: readonly InputLeak[]): OneClassKindReport {
  const packages = [...new Set(leaks.map((l) => l.package))].sort();
  return {
    overall: summarizeLeaks(leaks.map((l) => l.leakDb)),
    byPackage: Object.fromEntries(packages.map((p) => [p, summarizeLeaks(leaks.filter((l) => l.package === p).map((l) => l.leakDb))])),
  };
}

/** One report per system, in the order of `systems`; `sets` by the class their inputs lack. */
export async function evaluateOneClass(
  systems: readonly SeparationSystem[], sets: Partial<Record<SoundClass, HeldOutSet>>, onProgress?: (fraction: number) => void,
): Promise<OneClassReport[]> {
  const kinds = SOUND_CLASSES.filter((c) => sets[c]);
  const total = kinds.reduce((n, c) => n + sets[c]!.batches.reduce((m, b) => m + b.batch, 0), 0) * systems.length;
  let done = 0;
  const reports: OneClassReport[] = systems.map((s) => ({ system: s.name, byAbsent: {} }));
  for (const c of kinds) {
    const leaks = await leakScores(systems, sets[c]!, c, () => onProgress?.(++done / total));
    leaks.forEach((l, k) => (reports[k]!.byAbsent[c] = summarizeKind(l)));
  }
  return reports;
}

export const ONE_CLASS_HEADER = ['input', 'system', 'n', 'mean leak (dB)', 'median', 'p95', 'leaking'];

/**
 * Per input kind, its overall row then one per package, the systems of a row next to each other.
 * The share leaking is a percentage.
 */
export function oneClassRows(reports: readonly OneClassReport[]): (string | number)[][] {
  const rows: (string | number)[][] = [];
  const row = (label: string, system: string, s: LeakSummary) => [label, system, s.count, s.mean, s.median, s.p95, `${(100 * s.leaking).toFixed(0)}%`];
  for (const c of SOUND_CLASSES) {
    const first = reports[0]?.byAbsent[c];
    if (!first) continue;
    for (const r of reports) rows.push(row(ONE_CLASS_INPUTS[c], r.system, r.byAbsent[c]!.overall));
    for (const p of Object.keys(first.byPackage)) {
      for (const r of reports) rows.push(row(`${ONE_CLASS_INPUTS[c]}: ${p}`, r.system, r.byAbsent[c]!.byPackage[p]!));
    }
  }
  return rows;
}
