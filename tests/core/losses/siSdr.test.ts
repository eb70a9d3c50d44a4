import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom as rng } from '../../../core/models/init';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { Tensor } from '../../../core/tf';
import {
  crossClassRows, negPitSiSdrPerSource_BST, negPitSiSdr_BST, pairwiseSiSdr_BST, permutations, pitSiSdr, siSdr, siSdr_BST, siSdr_BT, siSdri, siSdri_BST,
} from '../../../core/losses';

before(async () => {
  await initBackend('wasm');
});


function randomSignal(n: number, r: () => number): number[] {
  return Array.from({ length: n }, () => r() * 2 - 1);
}

const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
const zeroMean = (a: number[]): number[] => {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  return a.map((v) => v - m);
};

/** est = a * ref + noise, with noise zero-mean, orthogonal to ref and of energy a^2 ||ref||^2 / 10^(dB/10). */
function knownSdr(n: number, a: number, dB: number, seed: number): { est: number[]; ref: number[] } {
  const r = rng(seed);
  const ref = zeroMean(randomSignal(n, r));
  let noise = zeroMean(randomSignal(n, r));
  const proj = dot(noise, ref) / dot(ref, ref);
  noise = zeroMean(noise.map((v, i) => v - proj * ref[i]!));
  const wanted = (a * a * dot(ref, ref)) / 10 ** (dB / 10);
  const k = Math.sqrt(wanted / dot(noise, noise));
  return { ref, est: ref.map((v, i) => a * v + k * noise[i]!) };
}

function near(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} is not within ${tol} of ${expected}`);
}

function values(t: Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

test('SI-SDR of a scaled reference plus orthogonal noise of known energy is the known dB', () => {
  const cases = [
    { a: 0.5, dB: 20 },
    { a: 2, dB: 0 },
    { a: -1.5, dB: -7.5 },
  ];
  for (const [i, { a, dB }] of cases.entries()) {
    const { est, ref } = knownSdr(4000, a, dB, 11 + i);
    assert.ok(Math.abs(siSdr(est, ref) - dB) < 1e-6, `plain: ${siSdr(est, ref)} vs ${dB}`);
    const got = values(siSdr_BT(tf.tensor2d([est]), tf.tensor2d([ref])))[0]!;
    assert.ok(Math.abs(got - dB) < 2e-3, `tensor: ${got} vs ${dB}`);
  }
});

test('SI-SDR ignores the scale of the estimate and of the reference, and any DC offset', () => {
  const { est, ref } = knownSdr(2000, 1, 12, 3);
  const base = siSdr(est, ref);
  const close = (v: number, what: string): void => assert.ok(Math.abs(v - base) < 1e-5, `${what}: ${v} vs ${base}`);
  // eps (1e-8) is absolute, so invariance holds while the energies are far above it
  for (const k of [1e-2, 0.37, -4, 1e3]) close(siSdr(est.map((v) => k * v), ref), `estimate x${k}`);
  close(siSdr(est, ref.map((v) => 5 * v)), 'reference x5');
  close(siSdr(est.map((v) => v + 3), ref.map((v) => v - 1)), 'offsets');
  const t = values(siSdr_BT(tf.tensor2d([est, est.map((v) => -2.5 * v + 0.7)]), tf.tensor2d([ref, ref])));
  assert.ok(Math.abs(t[0]! - base) < 2e-3 && Math.abs(t[1]! - base) < 2e-3, `${t} vs ${base}`);
});

test('tensor and plain-array SI-SDR agree on random signals', () => {
  const r = rng(7);
  const est = [0, 1, 2].map(() => randomSignal(500, r));
  const ref = est.map((e) => e.map((v) => v + 0.5 * (r() - 0.5)));
  const tensor = values(siSdr_BT(tf.tensor2d(est), tf.tensor2d(ref)));
  tensor.forEach((v, i) => near(v, siSdr(est[i]!, ref[i]!), 1e-3));
});

test('permutations lists all n! orders, identity first', () => {
  assert.deepEqual(permutations(2), [[0, 1], [1, 0]]);
  const p4 = permutations(4);
  assert.equal(p4.length, 24);
  assert.equal(new Set(p4.map((p) => p.join())).size, 24);
  assert.deepEqual(p4[0], [0, 1, 2, 3]);
  assert.throws(() => permutations(0), /positive integer/);
});

test('PIT: swapped estimates give the same loss and the swapped permutation', () => {
  const a = knownSdr(800, 1, 15, 21);
  const b = knownSdr(800, 0.8, 5, 22);
  const ref = tf.tensor3d([[a.ref, b.ref]]);
  const straight = negPitSiSdr_BST(tf.tensor3d([[a.est, b.est]]), ref);
  const swapped = negPitSiSdr_BST(tf.tensor3d([[b.est, a.est]]), ref);
  const l1 = values(straight.loss)[0]!;
  const l2 = values(swapped.loss)[0]!;
  assert.equal(l1, l2);
  assert.ok(Math.abs(l1 - -(15 + 5) / 2) < 2e-3, `loss ${l1}`);
  assert.deepEqual(values(straight.perm), [0, 1]);
  assert.deepEqual(values(swapped.perm), [1, 0]);
  const perSource = negPitSiSdrPerSource_BST(tf.tensor3d([[b.est, a.est]]), ref);
  const ps = values(perSource.loss);
  assert.ok(Math.abs(ps[0]! + 15) < 2e-3 && Math.abs(ps[1]! + 5) < 2e-3, `${ps}`);
  perSource.perm.dispose();
});

test('fixed rows are scored in the given order: a swapped estimate keeps its (bad) loss, other rows still search', () => {
  const a = knownSdr(800, 1, 15, 31);
  const b = knownSdr(800, 0.8, 5, 32);
  const ref = tf.tensor3d([[a.ref, b.ref], [a.ref, b.ref]]);
  const est = tf.tensor3d([[b.est, a.est], [b.est, a.est]]); // both rows swapped
  const { loss, perm } = negPitSiSdrPerSource_BST(est, ref, undefined, [true, false]);
  const l = values(loss);
  const pairs = values(pairwiseSiSdr_BST(est, ref)); // [2, est, ref]
  // Row 0 (fixed): estimate s against reference s, whatever fits better.
  near(l[0]!, -pairs[0]!, 1e-4, 'fixed row, source 0');
  near(l[1]!, -pairs[3]!, 1e-4, 'fixed row, source 1');
  assert.ok(l[0]! > 0 && l[1]! > 0, `a swapped fixed row scores below 0 dB: ${l.slice(0, 2)}`);
  // Row 1 (searched): the swap is undone.
  near(l[2]!, -15, 2e-3, 'searched row, source 0');
  near(l[3]!, -5, 2e-3, 'searched row, source 1');
  assert.deepEqual(values(perm), [0, 1, 1, 0]);
  assert.throws(() => negPitSiSdrPerSource_BST(est, ref, undefined, [true]), /fixedRows has 1 entries for a batch of 2/);
  tf.dispose([ref, est]);
});

test('crossClassRows marks mixtures whose sources all differ in class', () => {
  assert.deepEqual(crossClassRows([['speech', 'env'], ['speech', 'speech'], ['env', 'env'], ['env', 'speech']]), [true, false, false, true]);
});

test('PIT over three sources finds the same assignment and values as a brute-force search', () => {
  const r = rng(5);
  const batch = 3;
  const refs = Array.from({ length: batch }, () => [0, 1, 2].map(() => randomSignal(300, r)));
  // Each estimate is a noisy, rescaled copy of a shuffled reference.
  const orders = [[2, 0, 1], [0, 1, 2], [1, 2, 0]];
  const ests = refs.map((rs, b) => orders[b]!.map((s) => rs[s]!.map((v) => 1.7 * v + 0.6 * (r() - 0.5))));
  const { loss, perm } = negPitSiSdrPerSource_BST(tf.tensor3d(ests), tf.tensor3d(refs));
  const lossV = values(loss);
  const permV = values(perm);
  for (let b = 0; b < batch; b++) {
    const brute = pitSiSdr(ests[b]!, refs[b]!);
    assert.deepEqual(permV.slice(b * 3, b * 3 + 3), brute.perm);
    // the estimate at position j copies reference orders[b][j], so reference s sits at orders[b].indexOf(s)
    assert.deepEqual(brute.perm, [0, 1, 2].map((s) => orders[b]!.indexOf(s)));
    brute.siSdr.forEach((v, s) => near(-lossV[b * 3 + s]!, v, 2e-3));
  }
});

test('pairwise SI-SDR matches SI-SDR of each (estimate, reference) pair', () => {
  const r = rng(9);
  const est = [[randomSignal(200, r), randomSignal(200, r)]];
  const ref = [[randomSignal(200, r), randomSignal(200, r)]];
  const pair = values(pairwiseSiSdr_BST(tf.tensor3d(est), tf.tensor3d(ref)));
  for (let j = 0; j < 2; j++) for (let s = 0; s < 2; s++) near(pair[j * 2 + s]!, siSdr(est[0]![j]!, ref[0]![s]!), 1e-3);
  const diag = values(siSdr_BST(tf.tensor3d(est), tf.tensor3d(ref)));
  near(diag[0]!, pair[0]!, 1e-5);
  near(diag[1]!, pair[3]!, 1e-5);
});

test('SI-SDRi of the mixture used as every estimate is 0; of the sources themselves it is their gain over the mixture', () => {
  const r = rng(13);
  const s1 = randomSignal(600, r);
  const s2 = randomSignal(600, r).map((v) => 0.3 * v);
  const mix = s1.map((v, i) => v + s2[i]!);
  const zero = values(siSdri_BST(tf.tensor3d([[mix, mix]]), tf.tensor3d([[s1, s2]]), tf.tensor2d([mix])));
  for (const v of zero) assert.ok(Math.abs(v) < 1e-4, `SI-SDRi ${v}`);
  assert.deepEqual(siSdri([mix, mix], [s1, s2], mix).siSdri.map((v) => Math.abs(v) < 1e-9), [true, true]);
  const noisy = [s2.map((v) => v + 0.01 * (r() - 0.5)), s1.map((v) => v + 0.01 * (r() - 0.5))];
  const gain = values(siSdri_BST(tf.tensor3d([noisy]), tf.tensor3d([[s1, s2]]), tf.tensor2d([mix])));
  const plain = siSdri(noisy, [s1, s2], mix);
  assert.deepEqual(plain.perm, [1, 0]);
  gain.forEach((v, s) => {
    assert.ok(v > 10, `gain ${v}`);
    near(v, plain.siSdri[s]!, 2e-3);
  });
});

test('silent estimates and references give finite losses and finite gradients', () => {
  const time = 64;
  const zeros = new Array(time).fill(0);
  const sig = Array.from({ length: time }, (_, i) => Math.sin(i));
  const cases: [number[], number[]][] = [[zeros, zeros], [sig, zeros], [zeros, sig]];
  for (const [e, r] of cases) {
    assert.ok(Number.isFinite(siSdr(e, r)), 'plain SI-SDR is finite');
    const v = values(siSdr_BT(tf.tensor2d([e]), tf.tensor2d([r])))[0]!;
    assert.ok(Number.isFinite(v), `SI-SDR ${v}`);
    const grad = tf.grad((x: Tensor) => tf.sum(siSdr_BT(x as tf.Tensor2D, tf.tensor2d([r]))))(tf.tensor2d([e]));
    assert.ok(values(grad).every(Number.isFinite), 'gradient is finite');
  }
  const pit = negPitSiSdr_BST(tf.zeros([2, 2, time]) as tf.Tensor3D, tf.zeros([2, 2, time]) as tf.Tensor3D);
  assert.ok(values(pit.loss).every(Number.isFinite), 'PIT loss is finite');
  pit.perm.dispose();
});

test('shape mismatches are rejected with the shapes', () => {
  assert.throws(() => siSdr_BT(tf.zeros([2, 10]) as tf.Tensor2D, tf.zeros([2, 11]) as tf.Tensor2D), /\[2, 10\] and \[2, 11\]/);
  assert.throws(() => siSdri_BST(tf.zeros([1, 2, 10]) as tf.Tensor3D, tf.zeros([1, 2, 10]) as tf.Tensor3D, tf.zeros([1, 9]) as tf.Tensor2D), /mixture must be \[batch, time\] = \[1, 10\]/);
  assert.throws(() => siSdr([1, 2], [1]), /2 samples, reference 1/);
});
