// What gets scored: anything that turns a mixture into a speech stem and an env stem.
import type { Separator } from '../models/types';
import { separateSignal, type SeparateOptions } from '../separate/separate';
import { metadataStems } from '../separate/stems';
import { SOUND_CLASSES } from '../types';
import type { SoundClass } from '../types';
import type { NamedStems } from './score';

export interface SeparationSystem {
  /** Row name in reports. */
  name: string;
  /** Stems of a MODEL_RATE mixture, each as long as it. */
  separate(mixture: Float32Array): Promise<NamedStems>;
}

/**
 * Which model output carries each class: the model's own stem names (model.json metadata.stems, read
 * and checked as separation reads them), or, for a model that has none, output 0 speech and output 1
 * env as the mixer orders the sources.
 */
export function stemOutputs(nSources: number, stemNames: unknown): Record<SoundClass, number> {
  if (nSources !== 2) throw new Error(`scoring by stem name needs a 2-stem model; this one has ${nSources}`);
  const names = metadataStems(stemNames, nSources);
  if (!names) return { speech: 0, env: 1 };
  const outputs = SOUND_CLASSES.map((c) => names.indexOf(c));
  if (outputs.some((i) => i < 0)) {
    throw new Error(`scoring by stem name needs stems named speech and env; the model names them ${JSON.stringify(stemNames)}`);
  }
  return { speech: outputs[0]!, env: outputs[1]! };
}

/**
 * The model as users get it: separateSignal (normalisation, chunking, gain matching), stems by name;
 * `options` as `tilt separate` passes them (the window length, the RNNoise blend, adapting to each mixture).
 */
export function modelSystem(name: string, model: Separator, stemNames: unknown, options: Pick<SeparateOptions, 'windowSec' | 'denoiserBlend' | 'adapt'> = {}): SeparationSystem {
  const outputs = stemOutputs(model.nSources, stemNames);
  return {
    name,
    async separate(mixture) {
      const stems = await separateSignal(model, mixture, options);
      return { speech: stems[outputs.speech]!, env: stems[outputs.env]! };
    },
  };
}

/** No separation: the mixture as both stems (SI-SDRi 0 by definition; scored all the same). */
export const MIXTURE_SYSTEM: SeparationSystem = {
  name: 'mixture',
  separate: async (mixture) => ({ speech: mixture, env: mixture }),
};
