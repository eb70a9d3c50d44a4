// Mixture consistency (Wisdom et al., ICASSP 2019): the estimates moved so they add up to the
// mixture, the shortfall shared equally. Separation always delivers stems projected this way
// (core/separate/separate.ts), so a loss computed after it scores what users get: in a two-stem
// mixture one stem's error is then the other's negated, and only how that error lies along each
// reference (SI-SDR ignores the part along its own reference) differs between the stems.
import { tf } from '../tf';
import type { Tensor2D, Tensor3D } from '../tf';

/** est [batch, nSrc, time], mixture [batch, time] -> [batch, nSrc, time] whose sources sum to mixture. */
export function mixtureConsistent_BST(est: Tensor3D, mixture: Tensor2D): Tensor3D {
  return tf.tidy(() => {
    const shortfall = tf.sub(tf.expandDims(mixture, 1), tf.sum(est, 1, true)); // [batch, 1, time]
    return tf.add(est, tf.div(shortfall, est.shape[1])) as Tensor3D;
  });
}
