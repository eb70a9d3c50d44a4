import { permutations } from '../losses/permutations';

/**
 * Relative error reduction (of the summed squared difference over the overlap, divided by both
 * chunks' energy there) a reordering must bring before it replaces the model's own output order.
 * A real swap of uncorrelated sources scores about 1; silence or near-identical stems score near 0,
 * and there the model's order is kept, so a model whose output index means a class never has its
 * labels flipped by noise.
 */
export const MIN_REORDER_GAIN = 0.1;

/**
 * Chooses the order of the current chunk's outputs that best continues the previous chunk's
 * (already aligned) outputs over their overlap: the permutation maximising the summed inner products,
 * i.e. minimising the squared difference. Returns perm with aligned[s] = current[perm[s]].
 *
 * prev[s] and cur[j] are views of the same absolute samples (the overlap), all the same length.
 */
export function alignToPrevious(prev: readonly Float32Array[], cur: readonly Float32Array[]): number[] {
  const n = prev.length;
  const identity = Array.from({ length: n }, (_, i) => i);
  if (n < 2) return identity;
  const dot = (a: Float32Array, b: Float32Array): number => {
    let acc = 0;
    for (let t = 0; t < a.length; t++) acc += a[t]! * b[t]!;
    return acc;
  };
  const corr = prev.map((p) => cur.map((c) => dot(p, c)));
  let energy = 0;
  for (let i = 0; i < n; i++) energy += dot(prev[i]!, prev[i]!) + dot(cur[i]!, cur[i]!);
  if (energy === 0) return identity;
  const score = (perm: readonly number[]): number => perm.reduce((acc, j, s) => acc + corr[s]![j]!, 0);
  let best = identity;
  let bestScore = score(identity);
  for (const perm of permutations(n)) {
    const sc = score(perm);
    if (sc > bestScore) [best, bestScore] = [perm, sc];
  }
  // ||p - c||² summed = energy - 2 * score, so the error reduction over the identity is 2 * Δscore.
  const gain = (2 * (bestScore - score(identity))) / energy;
  return gain >= MIN_REORDER_GAIN ? best : identity;
}

export function invertPermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((j, s) => (inv[j] = s));
  return inv;
}
