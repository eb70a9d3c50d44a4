import type { MixtureType, SoundClass } from '../types';

/**
 * What one weight is assigned to: a whole mixture (the paper's setting; default) or one
 * (mixture, source) pair, whose loss is that source's negative SI-SDR under the best permutation.
 */
export type Granularity = 'mixture' | 'source';
export const GRANULARITIES: readonly Granularity[] = ['mixture', 'source'];

/** Where training stands; curriculum schedules read it. */
export interface TrainingProgress {
  /** Global optimisation step, from 0. */
  step: number;
  epoch: number;
  /** Planned number of steps of the whole run. */
  totalSteps: number;
}

/**
 * The batch as the logit function sees it. Units are what gets a weight: `batch` mixtures, or
 * `batch * nSrc` (mixture, source) pairs in row-major order (unit b * nSrc + s).
 */
export interface ReweightContext extends Readonly<TrainingProgress> {
  readonly granularity: Granularity;
  readonly batch: number;
  readonly nSrc: number;
  /** Loss of each unit (negative SI-SDR, dB): exampleLosses or the flattened sourceLosses. */
  readonly losses: readonly number[];
  /** [batch]: negative PIT SI-SDR of each mixture (mean over its sources). */
  readonly exampleLosses: readonly number[];
  /** [batch][nSrc]: negative SI-SDR of each reference source under the best permutation. */
  readonly sourceLosses: readonly (readonly number[])[];
  /** [batch][nSrc]. */
  readonly classes: readonly (readonly SoundClass[])[];
  /** [batch]. */
  readonly mixtureTypes: readonly MixtureType[];
}

export interface ContextInput extends TrainingProgress {
  granularity: Granularity;
  sourceLosses: readonly (readonly number[])[];
  classes: readonly (readonly SoundClass[])[];
  mixtureTypes: readonly MixtureType[];
}

/** Builds and checks a context; exampleLosses are the mean of each mixture's source losses. */
export function makeReweightContext(input: ContextInput): ReweightContext {
  const batch = input.sourceLosses.length;
  if (batch === 0) throw new Error('reweighting: the batch is empty');
  const nSrc = input.sourceLosses[0]!.length;
  if (nSrc === 0) throw new Error('reweighting: mixtures have no sources');
  if (input.sourceLosses.some((row) => row.length !== nSrc)) throw new Error('reweighting: sourceLosses rows differ in length');
  if (input.classes.length !== batch || input.classes.some((row) => row.length !== nSrc)) {
    throw new Error(`reweighting: classes must be [batch][nSrc] = [${batch}][${nSrc}]`);
  }
  if (input.mixtureTypes.length !== batch) {
    throw new Error(`reweighting: mixtureTypes must have one entry per mixture (${batch}), got ${input.mixtureTypes.length}`);
  }
  const exampleLosses = exampleLossesOf(input.sourceLosses);
  return {
    granularity: input.granularity,
    batch,
    nSrc,
    losses: input.granularity === 'mixture' ? exampleLosses : input.sourceLosses.flat(),
    exampleLosses,
    sourceLosses: input.sourceLosses,
    classes: input.classes,
    mixtureTypes: input.mixtureTypes,
    step: input.step,
    epoch: input.epoch,
    totalSteps: input.totalSteps,
  };
}

/** Per-example loss: the mean of its sources' losses, [batch][nSrc] -> [batch]. */
export function exampleLossesOf(sourceLosses: readonly (readonly number[])[]): number[] {
  return sourceLosses.map((row) => row.reduce((a, b) => a + b, 0) / row.length);
}

/** Number of weighted units. */
export function unitCount(ctx: ReweightContext): number {
  return ctx.granularity === 'mixture' ? ctx.batch : ctx.batch * ctx.nSrc;
}
