// The stems separation delivers (core/separate/separate.ts), as tensors a loss can see: each output
// first given the least-squares gain with which the outputs best add up to the mixture (a model
// trained with SI-SDR leaves each output's gain arbitrary), then the mixture-consistency projection
// (Wisdom et al., ICASSP 2019), the shortfall shared equally. A loss after it scores what users get:
// in a two-stem mixture one stem's error is then the other's negated, and only how that error lies
// along each reference (SI-SDR ignores the part along its own reference) differs between the stems.
import { tf } from '../tf';
import type { Tensor, Tensor2D, Tensor3D } from '../tf';

// Relative ridge on the gains' normal equations: keeps a silent output (gain 0) or two nearly equal
// outputs solvable, far below any gain that matters.
const RIDGE = 1e-6;

/** est [batch, 2, time], mixture [batch, time] -> [batch, 2, time]: gain-matched, summing to mixture. */
export function mixtureConsistent_BST(est: Tensor3D, mixture: Tensor2D): Tensor3D {
  if (est.shape[1] !== 2) throw new RangeError(`mixture consistency is implemented for two stems; the model has ${est.shape[1]}`);
  return tf.tidy(() => {
    const m = tf.expandDims(mixture, 1); // [batch, 1, time]
    const [a, b] = tf.split(est, 2, 1) as [Tensor3D, Tensor3D]; // [batch, 1, time] each
    const dot = (x: Tensor, y: Tensor) => tf.sum(tf.mul(x, y), 2, true); // [batch, 1, 1]
    const gaa = tf.add(tf.mul(dot(a, a), 1 + RIDGE), 1e-20);
    const gbb = tf.add(tf.mul(dot(b, b), 1 + RIDGE), 1e-20);
    const gab = dot(a, b);
    const ra = dot(a, m);
    const rb = dot(b, m);
    const det = tf.sub(tf.mul(gaa, gbb), tf.square(gab));
    const ga = tf.div(tf.sub(tf.mul(gbb, ra), tf.mul(gab, rb)), det);
    const gb = tf.div(tf.sub(tf.mul(gaa, rb), tf.mul(gab, ra)), det);
    const scaled = tf.concat([tf.mul(a, ga), tf.mul(b, gb)], 1); // [batch, 2, time]
    const shortfall = tf.sub(m, tf.sum(scaled, 1, true)); // [batch, 1, time]
    return tf.add(scaled, tf.div(shortfall, 2)) as Tensor3D;
  });
}
