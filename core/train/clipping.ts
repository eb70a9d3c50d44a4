import { tf } from '../tf';
import type { NamedTensorMap, Tensor } from '../tf';

/** sqrt of the sum of squares of every element of every gradient, as a scalar tensor. */
export function globalNorm(grads: NamedTensorMap): Tensor {
  const tensors = Object.values(grads);
  if (tensors.length === 0) throw new Error('globalNorm: no gradients');
  return tf.tidy(() => tf.sqrt(tf.addN(tensors.map((g) => tf.sum(tf.square(g))))));
}

/**
 * Scales every gradient by min(1, maxNorm / norm), given the global norm already measured, so
 * the update's global norm is at most maxNorm. maxNorm = Infinity leaves them as they are.
 */
export function clipByGlobalNorm(grads: NamedTensorMap, maxNorm: number, norm: number): { grads: NamedTensorMap; scale: number } {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be > 0 (got ${maxNorm})`);
  const scale = norm > maxNorm ? maxNorm / norm : 1;
  if (scale === 1) return { grads, scale };
  const clipped: NamedTensorMap = {};
  for (const [name, g] of Object.entries(grads)) clipped[name] = tf.mul(g, scale);
  return { grads: clipped, scale };
}
