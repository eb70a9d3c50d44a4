// The Train view's live preview: the weights a reweighting config gives one sample batch, computed
// by the same reweighter the trainer uses.
import { createReweighter, makeReweightContext, termFromConfig } from '../reweighting';
import type { MixtureType, SoundClass } from '../types';
import type { ReweightTerm, WeightsPreview } from './types';
import { granularityFor } from './training';

/**
 * A sample batch spanning easy to hard examples of each mixture type. The losses (negative SI-SDR
 * of each estimated source, dB) are typical of a partly trained separator, so that the preview
 * shows how each term moves weight between easy/hard examples and between classes.
 */
export const SAMPLE_BATCH: { classes: SoundClass[]; mixtureType: MixtureType; sourceLosses: number[] }[] = [
  { classes: ['speech', 'env'], mixtureType: 'speech+env', sourceLosses: [-14, -11] },
  { classes: ['speech', 'env'], mixtureType: 'speech+env', sourceLosses: [-9, -6] },
  { classes: ['speech', 'env'], mixtureType: 'speech+env', sourceLosses: [-4, -1] },
  { classes: ['speech', 'env'], mixtureType: 'speech+env', sourceLosses: [1, 4] },
  { classes: ['speech', 'speech'], mixtureType: 'speech+speech', sourceLosses: [-8, -7] },
  { classes: ['speech', 'speech'], mixtureType: 'speech+speech', sourceLosses: [-2, 0] },
  { classes: ['env', 'env'], mixtureType: 'env+env', sourceLosses: [-10, -5] },
  { classes: ['env', 'env'], mixtureType: 'env+env', sourceLosses: [-3, 2] },
];

/** Each example's weight is the sum over its sources when the run weighs sources (class bias). */
export function previewWeights(reweighting: ReweightTerm[], step: number, totalSteps: number): WeightsPreview {
  const granularity = granularityFor(reweighting);
  const reweighter = createReweighter(reweighting.map(termFromConfig), granularity);
  const ctx = makeReweightContext({
    granularity,
    sourceLosses: SAMPLE_BATCH.map((e) => e.sourceLosses),
    classes: SAMPLE_BATCH.map((e) => e.classes),
    mixtureTypes: SAMPLE_BATCH.map((e) => e.mixtureType),
    step,
    epoch: 0,
    totalSteps,
  });
  const w = reweighter.weigh(ctx);
  return {
    examples: SAMPLE_BATCH.map((e, i) => ({
      classes: e.classes,
      loss: ctx.exampleLosses[i]!,
      weight: granularity === 'mixture' ? w.weights[i]! : e.sourceLosses.reduce((sum, _, j) => sum + w.weights[i * e.sourceLosses.length + j]!, 0),
    })),
    diagnostics: w.diagnostics,
  };
}
