// One training step with unified gradient reweighting (Tzinis, Bralios, Smaragdis, ICASSP 2021):
// the update follows the gradient of sum_u p_u L_u, where p = softmax(F) over the batch's units is
// computed from the losses' values and enters as a constant.
//
// The losses are read back synchronously (dataSync) between the forward and backward passes, which
// suits the CPU-side backends the engine runs on (tfjs-node, wasm, cpu).
import { tf } from '../tf';
import type { NamedTensorMap, Tensor1D, Tensor2D, Tensor3D, Variable } from '../tf';
import type { Separator } from '../models/types';
import type { MixtureBatch, MixtureType, SoundClass } from '../types';
import { negPitSiSdrPerSource_BST } from '../losses/siSdr';
import { exampleLossesOf, makeReweightContext } from '../reweighting/context';
import type { TrainingProgress } from '../reweighting/context';
import { createReweighter } from '../reweighting/reweighter';
import type { Reweighter, Weighting } from '../reweighting/reweighter';
import { clipByGlobalNorm, globalNorm } from './clipping';

/** A batch already on the backend; the caller keeps ownership of the tensors. */
export interface TensorMixtureBatch {
  mixture: Tensor2D; // [batch, time]
  sources: Tensor3D; // [batch, nSrc, time]
  classes: SoundClass[][]; // [batch][nSrc]
  mixtureTypes: MixtureType[]; // [batch]
}

export type StepBatch = MixtureBatch | TensorMixtureBatch;

export const DEFAULT_CLIP_NORM = 5;

export interface StepOptions {
  /** Default: uniform per mixture (the plain mean). */
  reweighter?: Reweighter;
  /** Global-norm clipping threshold (> 0); Infinity turns clipping off. Default 5. */
  clipNorm?: number;
  progress: TrainingProgress;
}

export interface LossReport {
  /** sum_u p_u L_u, the objective that was differentiated. */
  weightedLoss: number;
  /** Plain mean of the per-example losses. */
  meanLoss: number;
  /** [batch]: negative PIT SI-SDR (dB). */
  exampleLosses: number[];
  /** [batch][nSrc]: negative SI-SDR per reference source under the best permutation. */
  sourceLosses: number[][];
  /** The weights and their diagnostics; null when a loss was not finite (no weights exist). */
  weighting: Weighting | null;
}

export interface WeightedGradients extends LossReport {
  /** Gradients of the objective by variable name; the caller disposes them. Null when a loss was not finite. */
  grads: NamedTensorMap | null;
}

export interface StepResult extends LossReport {
  /** Global gradient norm before clipping (NaN when a loss was not finite). */
  gradNorm: number;
  /** The factor the gradients were scaled by (1: not clipped). */
  clipScale: number;
  /** True when no update was applied. */
  skipped: boolean;
  skipReason: 'non-finite loss' | 'non-finite gradient' | null;
}

function isTensorBatch(batch: StepBatch): batch is TensorMixtureBatch {
  return batch.mixture instanceof tf.Tensor;
}

function batchTensors(batch: StepBatch, nSources: number): { mixture: Tensor2D; sources: Tensor3D } {
  if (isTensorBatch(batch)) {
    const [b, t] = batch.mixture.shape;
    const [sb, ss, st] = batch.sources.shape;
    if (sb !== b || st !== t || ss !== nSources) {
      throw new Error(`trainStep: sources are [${batch.sources.shape.join(', ')}], expected [${b}, ${nSources}, ${t}]`);
    }
    return { mixture: batch.mixture, sources: batch.sources };
  }
  const { batch: b, nSrc, time } = batch;
  if (nSrc !== nSources) throw new Error(`trainStep: the batch has ${nSrc} sources, the model separates ${nSources}`);
  if (batch.mixture.length !== b * time || batch.sources.length !== b * nSrc * time) {
    throw new Error(`trainStep: MixtureBatch arrays do not match batch=${b}, nSrc=${nSrc}, time=${time}`);
  }
  return { mixture: tf.tensor2d(batch.mixture, [b, time]), sources: tf.tensor3d(batch.sources, [b, nSrc, time]) };
}

function rows(flat: ArrayLike<number>, n: number): number[][] {
  return Array.from({ length: flat.length / n }, (_, b) => Array.from({ length: n }, (_, s) => flat[b * n + s]!));
}

/**
 * Forward pass, per-source PIT losses, weights p = softmax(F) from their values, and the gradients
 * of sum_u p_u L_u with respect to the model's variables. When the weights are uniform the
 * objective is the plain mean of the per-example losses, exactly.
 */
export function weightedGradients(model: Separator, batch: StepBatch, opts: Omit<StepOptions, 'clipNorm'>): WeightedGradients {
  const reweighter = opts.reweighter ?? createReweighter([]);
  let report: LossReport | null = null;
  // An exception thrown inside variableGrads would leak its tape, so a failing user term is
  // caught there and rethrown once the gradients are disposed.
  let failure: unknown = null;
  const grads = tf.tidy(() => {
    const { mixture, sources } = batchTensors(batch, model.nSources);
    const { grads } = tf.variableGrads(() => {
      const est = model.apply(mixture); // [batch, nSrc, time]
      const perSource = negPitSiSdrPerSource_BST(est, sources).loss; // [batch, nSrc]
      const perExample = tf.mean(perSource, 1) as Tensor1D; // [batch]
      const meanLoss = tf.mean(perExample) as tf.Scalar;
      const sourceValues = perSource.dataSync();
      const sourceLosses = rows(sourceValues, model.nSources);
      const exampleLosses = exampleLossesOf(sourceLosses);
      const plainMean = exampleLosses.reduce((a, b) => a + b, 0) / exampleLosses.length;
      if (!sourceValues.every(Number.isFinite)) {
        report = { weightedLoss: NaN, meanLoss: plainMean, exampleLosses, sourceLosses, weighting: null };
        return meanLoss;
      }
      let weighting: Weighting;
      try {
        const ctx = makeReweightContext({
          granularity: reweighter.granularity, sourceLosses, classes: batch.classes, mixtureTypes: batch.mixtureTypes, ...opts.progress,
        });
        weighting = reweighter.weigh(ctx);
      } catch (e) {
        failure = e;
        return meanLoss;
      }
      if (weighting.uniform) {
        report = { weightedLoss: plainMean, meanLoss: plainMean, exampleLosses, sourceLosses, weighting };
        return meanLoss;
      }
      const perMixture = reweighter.granularity === 'mixture';
      const unitLosses = perMixture ? exampleLosses : Array.from(sourceValues);
      const weightedLoss = weighting.weights.reduce((sum, p, u) => sum + p * unitLosses[u]!, 0);
      report = { weightedLoss, meanLoss: plainMean, exampleLosses, sourceLosses, weighting };
      const units = perMixture ? perExample : tf.reshape(perSource, [-1]); // [units]
      return tf.sum(tf.mul(units, tf.tensor1d(Float32Array.from(weighting.weights)))) as tf.Scalar;
    }, model.variables as Variable[]);
    return grads;
  });
  if (failure !== null || report === null) {
    tf.dispose(grads);
    throw failure ?? new Error('weightedGradients: the forward pass produced no losses');
  }
  const done = report as LossReport;
  if (done.weighting === null) {
    tf.dispose(grads);
    return { ...done, grads: null };
  }
  return { ...done, grads };
}

/**
 * One optimisation step: weighted gradients, global-norm clipping (after the gradients exist;
 * the reported norm is the pre-clip one), then optimizer.applyGradients (Adam in training).
 * A non-finite loss or gradient norm skips the update. Returns plain numbers; leaves no tensors.
 */
export function trainStep(model: Separator, optimizer: tf.Optimizer, batch: StepBatch, opts: StepOptions): StepResult {
  const clipNorm = opts.clipNorm ?? DEFAULT_CLIP_NORM;
  if (!(clipNorm > 0)) throw new Error(`trainStep: clipNorm must be > 0 or Infinity (got ${clipNorm})`);
  const { grads, ...report } = weightedGradients(model, batch, opts);
  if (grads === null) return { ...report, gradNorm: NaN, clipScale: 1, skipped: true, skipReason: 'non-finite loss' };
  let gradNorm = NaN;
  let clipScale = 1;
  try {
    tf.tidy(() => {
      gradNorm = globalNorm(grads).dataSync()[0]!;
      if (!Number.isFinite(gradNorm)) return;
      const clipped = clipByGlobalNorm(grads, clipNorm, gradNorm);
      clipScale = clipped.scale;
      optimizer.applyGradients(clipped.grads);
    });
  } finally {
    tf.dispose(grads);
  }
  const skipped = !Number.isFinite(gradNorm);
  return { ...report, gradNorm, clipScale, skipped, skipReason: skipped ? 'non-finite gradient' : null };
}
