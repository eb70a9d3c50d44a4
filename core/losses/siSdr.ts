// Scale-invariant SDR on tensors (differentiable; used by training).
//
// SI-SDR(est, ref) = 10 log10((||a r||^2 + eps) / (||a r - e||^2 + eps)), a = <e, r> / (||r||^2 + eps),
// after removing each signal's mean. eps keeps silent inputs finite: a silent reference gives
// a = 0 and a very low value (0 dB if the estimate is silent too); a silent estimate gives 0 dB.
import { tf } from '../tf';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D } from '../tf';
import { permutations } from './permutations';

export const SI_SDR_EPS = 1e-8;

function zeroMean<T extends Tensor>(x: T): T {
  return tf.sub(x, tf.mean(x, -1, true));
}

/** SI-SDR in dB along the last axis of equally shaped (or broadcastable) est and ref. */
function siSdrLastAxis(est: Tensor, ref: Tensor, eps: number): Tensor {
  const e = zeroMean(est);
  const r = zeroMean(ref);
  const dot = tf.sum(tf.mul(e, r), -1, true);
  const refEnergy = tf.sum(tf.square(r), -1, true);
  const target = tf.mul(tf.div(dot, tf.add(refEnergy, eps)), r);
  const targetEnergy = tf.sum(tf.square(target), -1);
  const noiseEnergy = tf.sum(tf.square(tf.sub(target, e)), -1);
  const ratio = tf.div(tf.add(targetEnergy, eps), tf.add(noiseEnergy, eps));
  return tf.mul(tf.log(ratio), 10 / Math.LN10);
}

function assertSameShape(what: string, a: Tensor, b: Tensor, rank: number): void {
  if (a.rank !== rank || b.rank !== rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${what}: expected two rank-${rank} tensors of the same shape, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
}

/** est [batch, time], ref [batch, time] -> SI-SDR in dB [batch]. */
export function siSdr_BT(est: Tensor2D, ref: Tensor2D, eps = SI_SDR_EPS): Tensor1D {
  assertSameShape('siSdr_BT', est, ref, 2);
  return tf.tidy(() => siSdrLastAxis(est, ref, eps) as Tensor1D);
}

/** est [batch, nSrc, time], ref [batch, nSrc, time] -> SI-SDR of each source as given [batch, nSrc] (no permutation). */
export function siSdr_BST(est: Tensor3D, ref: Tensor3D, eps = SI_SDR_EPS): Tensor2D {
  assertSameShape('siSdr_BST', est, ref, 3);
  return tf.tidy(() => siSdrLastAxis(est, ref, eps) as Tensor2D);
}

/** est [batch, nSrc, time], ref [batch, nSrc, time] -> SI-SDR of every (estimate j, reference s) pair [batch, nSrc(j), nSrc(s)]. */
export function pairwiseSiSdr_BST(est: Tensor3D, ref: Tensor3D, eps = SI_SDR_EPS): Tensor3D {
  assertSameShape('pairwiseSiSdr_BST', est, ref, 3);
  return tf.tidy(() => siSdrLastAxis(tf.expandDims(est, 2), tf.expandDims(ref, 1), eps) as Tensor3D);
}

export interface PitPerSource {
  /** -SI-SDR of each reference source against its assigned estimate [batch, nSrc]. */
  loss: Tensor2D;
  /** int32 [batch, nSrc]: perm[b, s] is the estimate assigned to reference s. */
  perm: Tensor2D;
}

export interface PitPerExample {
  /** -(mean over sources of SI-SDR) under the best permutation [batch]. */
  loss: Tensor1D;
  /** int32 [batch, nSrc]: perm[b, s] is the estimate assigned to reference s. */
  perm: Tensor2D;
}

/**
 * Permutation-invariant negative SI-SDR kept per (example, source): for each example the
 * permutation maximising the mean SI-SDR over sources is chosen (all n! are tried), and each
 * source's loss under it is returned. Gradients flow only through the chosen pairs.
 * est, ref [batch, nSrc, time]. `fixedRows` [batch] (optional): rows scored in the given order
 * (estimate s against reference s, no search), for outputs whose slots have a fixed meaning.
 */
export function negPitSiSdrPerSource_BST(est: Tensor3D, ref: Tensor3D, eps = SI_SDR_EPS, fixedRows?: readonly boolean[]): PitPerSource {
  assertSameShape('negPitSiSdrPerSource_BST', est, ref, 3);
  const [batch, nSrc] = est.shape;
  if (fixedRows && fixedRows.length !== batch) throw new Error(`negPitSiSdrPerSource_BST: fixedRows has ${fixedRows.length} entries for a batch of ${batch}`);
  const perms = permutations(nSrc);
  const nPerm = perms.length;
  return tf.tidy(() => {
    const pair = pairwiseSiSdr_BST(est, ref, eps); // [batch, nSrc(est), nSrc(ref)]
    // Gather the pairs of every permutation with a constant 0/1 matrix: a matMul has a gradient on
    // every backend (the wasm backend has no UnsortedSegmentSum for gather's gradient).
    const select = new Float32Array(nSrc * nSrc * nPerm * nSrc);
    perms.forEach((p, k) => p.forEach((j, s) => {
      select[(j * nSrc + s) * (nPerm * nSrc) + k * nSrc + s] = 1;
    }));
    const perPerm = tf.reshape(
      tf.matMul(tf.reshape(pair, [batch, nSrc * nSrc]), tf.tensor2d(select, [nSrc * nSrc, nPerm * nSrc])),
      [batch, nPerm, nSrc],
    ); // SI-SDR [batch, nPerm, nSrc]
    const searched = tf.argMax(tf.mean(perPerm, 2), 1); // [batch]
    // The identity is permutation 0.
    const best = fixedRows?.some(Boolean)
      ? tf.mul(searched, tf.tensor1d(fixedRows.map((f) => (f ? 0 : 1)), 'int32'))
      : searched;
    // oneHot's dtype argument is ignored by the wasm kernel (it writes int32 bits), hence the cast.
    const chosen = tf.expandDims(tf.cast(tf.oneHot(best, nPerm), 'float32'), 2); // [batch, nPerm, 1]
    const loss = tf.neg(tf.sum(tf.mul(perPerm, chosen), 1)) as Tensor2D; // [batch, nSrc]
    const perm = tf.gather(tf.tensor2d(perms.flat(), [nPerm, nSrc], 'int32'), best) as Tensor2D;
    return { loss, perm };
  });
}

/**
 * Rows whose sources all differ in class: their output slots mean classes (slot s holds source s's
 * class, speech first in speech+env mixtures), so they are scored without permutation search.
 */
export function crossClassRows(classes: readonly (readonly string[])[]): boolean[] {
  return classes.map((row) => new Set(row).size === row.length);
}

/** Negative permutation-invariant SI-SDR per example: est, ref [batch, nSrc, time] -> loss [batch]. */
export function negPitSiSdr_BST(est: Tensor3D, ref: Tensor3D, eps = SI_SDR_EPS): PitPerExample {
  return tf.tidy(() => {
    const { loss, perm } = negPitSiSdrPerSource_BST(est, ref, eps);
    return { loss: tf.mean(loss, 1) as Tensor1D, perm };
  });
}

/**
 * SI-SDR improvement in dB [batch, nSrc]: for each reference source, the SI-SDR of the estimate
 * the best permutation assigns to it minus the SI-SDR of the mixture [batch, time] used as the estimate.
 */
export function siSdri_BST(est: Tensor3D, ref: Tensor3D, mixture: Tensor2D, eps = SI_SDR_EPS): Tensor2D {
  assertSameShape('siSdri_BST', est, ref, 3);
  if (mixture.rank !== 2 || mixture.shape[0] !== ref.shape[0] || mixture.shape[1] !== ref.shape[2]) {
    throw new Error(`siSdri_BST: mixture must be [batch, time] = [${ref.shape[0]}, ${ref.shape[2]}], got [${mixture.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const { loss } = negPitSiSdrPerSource_BST(est, ref, eps);
    const baseline = siSdrLastAxis(tf.expandDims(mixture, 1), ref, eps); // [batch, nSrc]
    return tf.sub(tf.neg(loss), baseline) as Tensor2D;
  });
}
