// The loss of a stem whose reference is silent (one-class input: no speech, or no sound, in the
// mixture). SI-SDR has no target there, so the stem is scored by its level relative to the mixture,
// 10 log10(||stem||^2 / ||mixture||^2 + 10^(-floorDb/10)) (the thresholded form of Wisdom et al.,
// NeurIPS 2020): 0 dB when the whole mixture lands in the stem, -floorDb at best. The floor bounds
// the gradient, which would otherwise grow without limit as the stem falls silent.
import { tf } from '../tf';
import type { Tensor2D, Tensor3D } from '../tf';

export const SILENT_STEM_FLOOR_DB = 30;

/** stems [batch, nSrc, time], mixture [batch, time] -> floored level of each stem relative to the mixture in dB [batch, nSrc]. */
export function stemLevelDb_BST(stems: Tensor3D, mixture: Tensor2D, floorDb = SILENT_STEM_FLOOR_DB): Tensor2D {
  if (stems.rank !== 3 || mixture.rank !== 2 || stems.shape[0] !== mixture.shape[0] || stems.shape[2] !== mixture.shape[1]) {
    throw new Error(`stemLevelDb_BST: expected stems [batch, nSrc, time] and mixture [batch, time], got [${stems.shape.join(', ')}] and [${mixture.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const stemEnergy = tf.sum(tf.square(stems), 2); // [batch, nSrc]
    const mixtureEnergy = tf.add(tf.sum(tf.square(mixture), 1, true), 1e-12); // [batch, 1]
    const level = tf.add(tf.div(stemEnergy, mixtureEnergy), 10 ** (-floorDb / 10));
    return tf.mul(tf.log(level), 10 / Math.LN10) as Tensor2D;
  });
}
