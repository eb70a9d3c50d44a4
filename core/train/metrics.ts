// Evaluation statistics as in the paper's tables: SI-SDRi mean, std and percentiles, overall, per
// class of the reference source and per mixture type.
import { tf } from '../tf';
import type { Tensor2D, Tensor3D } from '../tf';
import type { Separator } from '../models/types';
import { mixtureConsistent_BST, negPitSiSdrPerSource_BST, siSdri_BST } from '../losses';
import { MIXTURE_TYPES, SOUND_CLASSES } from '../types';
import type { MixtureBatch, MixtureType, SoundClass } from '../types';

export const PERCENTILES = [1, 5, 10, 25, 50, 75, 90, 95, 99] as const;

export interface Summary {
  count: number;
  mean: number;
  /** Population standard deviation. */
  std: number;
  /** Percentile (linear interpolation between order statistics) by its number: p[1] ... p[99]. */
  p: Record<number, number>;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { count: 0, mean: NaN, std: NaN, p: Object.fromEntries(PERCENTILES.map((q) => [q, NaN])) };
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  const p: Record<number, number> = {};
  for (const q of PERCENTILES) {
    const pos = (q / 100) * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    p[q] = sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
  }
  return { count: n, mean, std, p };
}

/** Mean and standard error of paired differences (a minus b, element by element, over the same items). */
export interface PairedDiff {
  n: number;
  mean: number;
  se: number;
}

export function pairedDifference(a: readonly number[], b: readonly number[]): PairedDiff {
  if (a.length !== b.length) throw new RangeError(`paired difference: ${a.length} values against ${b.length}`);
  const { mean, std } = summarize(a.map((x, i) => x - b[i]!));
  return { n: a.length, mean, se: a.length > 1 ? std / Math.sqrt(a.length - 1) : NaN };
}

/** SI-SDRi (dB) of every reference source of every mixture, with what it belongs to. */
export interface SourceScores {
  /** [mixture][source]. */
  siSdri: number[][];
  classes: SoundClass[][];
  mixtureTypes: MixtureType[];
  /** [mixture][source]: which model output the best permutation gave to each reference source. */
  estimateOf: number[][];
}

export interface EvaluationReport {
  /** Per mixture: the mean SI-SDRi over its sources. */
  overall: Summary;
  /** Per reference source of that class. */
  byClass: Record<SoundClass, Summary>;
  /** Per mixture of that type (mean over its sources); only the types present. */
  byMixtureType: Partial<Record<MixtureType, Summary>>;
}

/** Separates each batch (no gradients) and scores every source against its reference. */
/** Each mixture brought to the level the model was trained at, as separation does (SI-SDR ignores the gain). */
function atInputLevel(model: Separator, mixture: Tensor2D): Tensor2D {
  if (model.inputStd === undefined) return mixture;
  const { mean, variance } = tf.moments(mixture, 1, true);
  return mixture.sub(mean).mul(tf.scalar(model.inputStd).div(variance.sqrt().maximum(1e-8)));
}

export function scoreBatches(model: Separator, batches: readonly MixtureBatch[], opts: { mixtureConsistency?: boolean } = {}): SourceScores {
  const scores: SourceScores = { siSdri: [], classes: [], mixtureTypes: [], estimateOf: [] };
  for (const b of batches) {
    const [values, perm] = tf.tidy(() => {
      const mixture = tf.tensor2d(b.mixture, [b.batch, b.time]) as Tensor2D;
      const sources = tf.tensor3d(b.sources, [b.batch, b.nSrc, b.time]) as Tensor3D;
      const input = atInputLevel(model, mixture);
      const raw = model.apply(input);
      // Projected at the input level: the mixture's scale does not change any SI-SDR.
      const estimates = opts.mixtureConsistency ? mixtureConsistent_BST(raw, input) : raw;
      return [siSdri_BST(estimates, sources, mixture).dataSync(), negPitSiSdrPerSource_BST(estimates, sources).perm.dataSync()];
    });
    for (let i = 0; i < b.batch; i++) {
      scores.siSdri.push(Array.from(values.subarray(i * b.nSrc, (i + 1) * b.nSrc)));
      scores.estimateOf.push(Array.from(perm.subarray(i * b.nSrc, (i + 1) * b.nSrc)));
      scores.classes.push(b.classes[i]!);
      scores.mixtureTypes.push(b.mixtureTypes[i]!);
    }
  }
  return scores;
}

export function summarizeScores(scores: SourceScores): EvaluationReport {
  const perMixture = scores.siSdri.map((row) => row.reduce((a, b) => a + b, 0) / row.length);
  const byClass = Object.fromEntries(SOUND_CLASSES.map((c) => [
    c,
    summarize(scores.siSdri.flatMap((row, i) => row.filter((_, s) => scores.classes[i]![s] === c))),
  ])) as Record<SoundClass, Summary>;
  const byMixtureType: EvaluationReport['byMixtureType'] = {};
  for (const t of MIXTURE_TYPES) {
    const values = perMixture.filter((_, i) => scores.mixtureTypes[i] === t);
    if (values.length > 0) byMixtureType[t] = summarize(values);
  }
  return { overall: summarize(perMixture), byClass, byMixtureType };
}

export function evaluateModel(model: Separator, batches: readonly MixtureBatch[]): EvaluationReport {
  return summarizeScores(scoreBatches(model, batches));
}

/**
 * Which class each output of a 2-source model carries, by majority over the speech+env mixtures:
 * PIT training leaves the order free, and users need stems named "speech" and "env".
 * `agreement` is the fraction of those mixtures that follow the chosen order.
 */
export function stemClassAssignment(scores: SourceScores): { stems: SoundClass[]; agreement: number } | null {
  let speechFirst = 0;
  let total = 0;
  scores.estimateOf.forEach((estimateOf, i) => {
    if (scores.mixtureTypes[i] !== 'speech+env' || estimateOf.length !== 2) return;
    const speechRef = scores.classes[i]!.indexOf('speech');
    total++;
    if (estimateOf[speechRef] === 0) speechFirst++;
  });
  if (total === 0) return null;
  return speechFirst * 2 >= total
    ? { stems: ['speech', 'env'], agreement: speechFirst / total }
    : { stems: ['env', 'speech'], agreement: (total - speechFirst) / total };
}
