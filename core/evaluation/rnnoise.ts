// RNNoise as a baseline: a speech denoiser, so its output on the mixture is the speech stem and the
// rest of the mixture the env stem.
import { loadRnnoise, rnnoiseDenoise } from '../dsp/rnnoise';
import type { SeparationSystem } from './systems';

/** RNNoise's output as the speech stem, the mixture less it as the env stem. */
export async function rnnoiseSystem(): Promise<SeparationSystem> {
  await loadRnnoise();
  return {
    name: 'RNNoise',
    async separate(mixture) {
      const speech = await rnnoiseDenoise(mixture);
      const env = new Float32Array(mixture.length);
      for (let i = 0; i < env.length; i++) env[i] = mixture[i]! - speech[i]!;
      return { speech, env };
    },
  };
}
