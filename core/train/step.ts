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
import { crossClassRows, negPitSiSdrPerSource_BST } from '../losses/siSdr';
import { mixtureConsistent_BST } from '../losses/consistency';
import { stemLevelDb_BST } from '../losses/silence';
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

/** Labels play no part in a step (the shards sent to gradient workers leave them out). */
export type StepBatch = Omit<MixtureBatch, 'labels'> | TensorMixtureBatch;

export const DEFAULT_CLIP_NORM = 5;

export interface StepOptions {
  /** Default: uniform per mixture (the plain mean). */
  reweighter?: Reweighter;
  /** Global-norm clipping threshold (> 0); Infinity turns clipping off. Default 5. */
  clipNorm?: number;
  progress: TrainingProgress;
  /**
   * 'fixed': in mixtures of sources of different classes, output s is scored against source s (the
   * stems are named by what they hold); same-class mixtures still use PIT. 'pit' (default): every
   * mixture takes its best permutation.
   */
  slots?: SlotAssignment;
  /** Score the estimates after the mixture-consistency projection that separation applies (see losses/consistency.ts). */
  mixtureConsistency?: boolean;
}

export type SlotAssignment = 'fixed' | 'pit';

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

/**
 * [batch * nSrc] true where a reference is all zeros (a one-class input's missing source), or null
 * when none is. Silent targets name their slot, so they need fixed slots.
 */
function silentSources(sources: Tensor3D, slots: SlotAssignment | undefined): boolean[] | null {
  const energy = tf.tidy(() => tf.sum(tf.square(sources), 2).dataSync()); // [batch * nSrc]
  if (!energy.some((e) => e === 0)) return null;
  if (slots !== 'fixed') throw new Error('trainStep: a batch with a silent source needs fixed slots');
  if (sources.shape[1] !== 2) throw new Error(`trainStep: silent sources are supported for two-stem models; this one has ${sources.shape[1]}`);
  return Array.from(energy, (e) => e === 0);
}

/**
 * Per-source losses with each silent reference's SI-SDR loss replaced by the level of its stem as
 * separation delivers it, `delivered` (gain-matched and projected onto the mixture,
 * losses/consistency.ts): the raw output's gain means nothing, the delivered stem's level is what a
 * user hears.
 */
function silentStemLosses(delivered: Tensor3D, mixture: Tensor2D, siSdrLosses: Tensor2D, silent: boolean[]): Tensor2D {
  const mask = tf.tensor2d(silent, siSdrLosses.shape as [number, number], 'bool');
  return tf.where(mask, stemLevelDb_BST(delivered, mixture), siSdrLosses) as Tensor2D;
}

function rows(flat: ArrayLike<number>, n: number): number[][] {
  return Array.from({ length: flat.length / n }, (_, b) => Array.from({ length: n }, (_, s) => flat[b * n + s]!));
}

/**
 * A shard of a batch split across gradient workers. The weights are a pmf over the whole batch, so
 * each shard's losses are gathered with the others' before weighing; the shard then differentiates
 * its own units' part of sum_u p_u L_u, and the shards' gradients add up to the whole batch's.
 */
export interface BatchShard {
  /** Index of the shard's first mixture in the whole batch. */
  offset: number;
  classes: SoundClass[][]; // [batch][nSrc] of the whole batch
  mixtureTypes: MixtureType[]; // [batch]
  /**
   * Takes this shard's per-source losses [shard * nSrc] and returns the whole batch's
   * [batch * nSrc]. Synchronous, as it runs inside the gradient tape.
   */
  gather(own: Float32Array): Float32Array;
}

export interface GradientOptions extends Omit<StepOptions, 'clipNorm'> {
  /** Absent: the batch is the whole batch. */
  shard?: BatchShard;
}

/**
 * Forward pass, per-source PIT losses, weights p = softmax(F) from their values, and the gradients
 * of sum_u p_u L_u with respect to the model's variables. When the weights are uniform the
 * objective is the plain mean of the per-example losses, exactly. For a shard, the report covers
 * the whole batch and the gradients this shard's units.
 */
export function weightedGradients(model: Separator, batch: StepBatch, opts: GradientOptions): WeightedGradients {
  const reweighter = opts.reweighter ?? createReweighter([]);
  const shard = opts.shard;
  let report: LossReport | null = null;
  // An exception thrown inside variableGrads would leak its tape, so a failing user term or
  // gather is caught there and rethrown once the gradients are disposed.
  let failure: unknown = null;
  const grads = tf.tidy(() => {
    const { mixture, sources } = batchTensors(batch, model.nSources);
    const silent = silentSources(sources, opts.slots);
    const { grads } = tf.variableGrads(() => {
      const raw = model.apply(mixture); // [shard, nSrc, time]
      const est = opts.mixtureConsistency ? mixtureConsistent_BST(raw, mixture) : raw;
      const fixedRows = opts.slots === 'fixed' ? crossClassRows(batch.classes) : undefined;
      const siSdrLosses = negPitSiSdrPerSource_BST(est, sources, undefined, fixedRows).loss; // [shard, nSrc]
      // The stems as separation delivers them: `est` already is when the loss scores them.
      const perSource = silent // [shard, nSrc]
        ? silentStemLosses(opts.mixtureConsistency ? est : mixtureConsistent_BST(raw, mixture), mixture, siSdrLosses, silent)
        : siSdrLosses;
      const perExample = tf.mean(perSource, 1) as Tensor1D; // [shard]
      const meanLoss = tf.mean(perExample) as tf.Scalar;
      let sourceValues: Float32Array; // [batch * nSrc]
      let sourceLosses: number[][];
      let exampleLosses: number[];
      let plainMean: number;
      let weighting: Weighting;
      try {
        const own = perSource.dataSync() as Float32Array;
        sourceValues = shard ? shard.gather(own) : own;
        sourceLosses = rows(sourceValues, model.nSources);
        exampleLosses = exampleLossesOf(sourceLosses);
        plainMean = exampleLosses.reduce((a, b) => a + b, 0) / exampleLosses.length;
        if (!sourceValues.every(Number.isFinite)) {
          report = { weightedLoss: NaN, meanLoss: plainMean, exampleLosses, sourceLosses, weighting: null };
          return meanLoss;
        }
        const ctx = makeReweightContext({
          granularity: reweighter.granularity, sourceLosses,
          classes: shard?.classes ?? batch.classes, mixtureTypes: shard?.mixtureTypes ?? batch.mixtureTypes, ...opts.progress,
        });
        weighting = reweighter.weigh(ctx);
      } catch (e) {
        failure = e;
        return meanLoss;
      }
      if (weighting.uniform && !shard) {
        report = { weightedLoss: plainMean, meanLoss: plainMean, exampleLosses, sourceLosses, weighting };
        return meanLoss;
      }
      const perMixture = reweighter.granularity === 'mixture';
      const unitLosses = perMixture ? exampleLosses : Array.from(sourceValues);
      const weightedLoss = weighting.uniform ? plainMean : weighting.weights.reduce((sum, p, u) => sum + p * unitLosses[u]!, 0);
      report = { weightedLoss, meanLoss: plainMean, exampleLosses, sourceLosses, weighting };
      const units = perMixture ? perExample : tf.reshape(perSource, [-1]); // [shard units]
      const first = (shard?.offset ?? 0) * (perMixture ? 1 : model.nSources);
      const p = Float32Array.from(weighting.weights.subarray(first, first + units.size));
      return tf.sum(tf.mul(units, tf.tensor1d(p))) as tf.Scalar;
    }, model.variables.filter((v) => v.trainable) as Variable[]);
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

export function checkClipNorm(clipNorm: number): void {
  if (!(clipNorm > 0)) throw new Error(`trainStep: clipNorm must be > 0 or Infinity (got ${clipNorm})`);
}

/**
 * The update from a batch's gradients: global-norm clipping (the reported norm is the pre-clip
 * one), then optimizer.applyGradients (Adam in training). A non-finite loss (no gradients) or
 * gradient norm skips the update. Disposes the gradients.
 */
export function applyWeightedGradients(optimizer: tf.Optimizer, { grads, ...report }: WeightedGradients, clipNorm: number): StepResult {
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

/**
 * One optimisation step: weighted gradients, then applyWeightedGradients.
 * Returns plain numbers; leaves no tensors.
 */
export function trainStep(model: Separator, optimizer: tf.Optimizer, batch: StepBatch, opts: StepOptions): StepResult {
  const clipNorm = opts.clipNorm ?? DEFAULT_CLIP_NORM;
  checkClipNorm(clipNorm);
  return applyWeightedGradients(optimizer, weightedGradients(model, batch, opts), clipNorm);
}

/** How a training loop takes its steps: on this thread alone, or split across gradient workers. */
export interface StepRunner {
  /** Threads that compute each step's gradients (1: this one alone). */
  readonly workers: number;
  step(optimizer: tf.Optimizer, batch: MixtureBatch, opts: Omit<StepOptions, 'reweighter'>): Promise<StepResult>;
  /** Ends the runner's threads. */
  close(): Promise<void>;
}

export function localSteps(model: Separator, reweighter: Reweighter): StepRunner {
  return {
    workers: 1,
    step: async (optimizer, batch, opts) => trainStep(model, optimizer, batch, { ...opts, reweighter }),
    close: async () => {},
  };
}
