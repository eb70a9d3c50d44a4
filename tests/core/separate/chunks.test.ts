import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planChunks, chunkSpan, chunkWeight } from '../../../core/separate/chunks';
import { alignToPrevious, invertPermutation, MIN_REORDER_GAIN } from '../../../core/separate/align';
import { seededRandom } from '../../../core/models/init';

test('chunk weights sum to exactly 1 at every sample, for many lengths, hops and margins', () => {
  const cases: [number, number, number, number][] = [
    // length, window, hop, margin
    [1000, 100, 50, 0],
    [1000, 100, 50, 10],
    [1001, 100, 80, 10],
    [1000, 100, 17, 10],
    [1000, 100, 1, 5],
    [437, 64, 32, 16],
    [101, 100, 50, 10],
    [100, 100, 50, 10],
    [37, 100, 50, 10],
  ];
  for (const [length, window, hop, margin] of cases) {
    const plan = planChunks(length, window, hop, margin);
    const total = new Float64Array(length);
    plan.starts.forEach((start, k) => {
      const [from, to] = chunkSpan(plan, k);
      assert.ok(from >= start && to <= start + plan.window, `chunk ${k} weight stays inside the chunk`);
      for (let n = 0; n < length; n++) {
        const w = chunkWeight(plan, k, n);
        if (n < from || n >= to) assert.equal(w, 0);
        total[n]! += w;
      }
    });
    for (let n = 0; n < length; n++) assert.ok(Math.abs(total[n]! - 1) < 1e-12, `case ${[length, window, hop, margin]}: sum ${total[n]} at ${n}`);
    assert.equal(plan.starts[0], 0);
    assert.equal(plan.starts.at(-1)! + plan.window, length, 'the last chunk ends at the signal end (no padding)');
    for (let k = 1; k < plan.starts.length; k++) assert.ok(plan.starts[k]! - plan.starts[k - 1]! <= hop, 'chunk gap <= hop');
  }
});

test('inner chunk edges within the margin get no weight; the signal ends keep theirs', () => {
  const plan = planChunks(2000, 200, 100, 30);
  assert.equal(plan.starts.length, 19);
  for (let k = 0; k < plan.starts.length; k++) {
    const s = plan.starts[k]!;
    for (let t = 0; t < 30; t++) {
      if (k > 0) assert.equal(chunkWeight(plan, k, s + t), 0);
      if (k < plan.starts.length - 1) assert.equal(chunkWeight(plan, k, s + 199 - t), 0);
    }
  }
  assert.equal(chunkWeight(plan, 0, 0), 1);
  assert.equal(chunkWeight(plan, plan.starts.length - 1, 1999), 1);
});

test('a signal that fits in one window is one chunk of its own length', () => {
  const plan = planChunks(500, 800, 400, 50);
  assert.deepEqual(plan.starts, [0]);
  assert.equal(plan.window, 500);
});

test('invalid plans are refused with the allowed range', () => {
  assert.throws(() => planChunks(1000, 100, 81, 10), /hop must be an integer in \[1, window - 2\*margin\] = \[1, 80\], got 81/);
  assert.throws(() => planChunks(1000, 100, 0, 10), /hop/);
  assert.throws(() => planChunks(1000, 20, 5, 10), /window \(20\) must be an integer longer than twice the margin/);
  assert.throws(() => planChunks(0, 100, 50, 10), /length must be a positive integer/);
});

function noise(n: number, rand: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => 2 * rand() - 1);
}

test('alignment finds the permutation that continues the previous chunk, for 2 and 3 sources', () => {
  const rand = seededRandom(7);
  const a = noise(500, rand);
  const b = noise(500, rand);
  const c = noise(500, rand);
  const jitter = (x: Float32Array): Float32Array => x.map((v) => v * 0.9 + 0.05 * (2 * rand() - 1));
  assert.deepEqual(alignToPrevious([a, b], [jitter(b), jitter(a)]), [1, 0]);
  assert.deepEqual(alignToPrevious([a, b], [jitter(a), jitter(b)]), [0, 1]);
  // aligned[s] = cur[perm[s]]: cur holds (c, a, b), prev is (a, b, c).
  const perm = alignToPrevious([a, b, c], [jitter(c), jitter(a), jitter(b)]);
  assert.deepEqual(perm, [1, 2, 0]);
  assert.deepEqual(invertPermutation(perm), [2, 0, 1]);
});

test("alignment keeps the model's order when the overlap gives no evidence", () => {
  const rand = seededRandom(3);
  const silence = new Float32Array(400);
  assert.deepEqual(alignToPrevious([silence, silence], [silence, silence]), [0, 1]);
  // Near-silent, unrelated noise: correlations are far below the gain threshold.
  const tiny = (): Float32Array => noise(4000, rand).map((v) => v * 1e-6);
  assert.deepEqual(alignToPrevious([tiny(), tiny()], [tiny(), tiny()]), [0, 1]);
  // Identical stems: a swap changes nothing, so nothing is swapped.
  const same = noise(400, rand);
  assert.deepEqual(alignToPrevious([same, same], [same, same]), [0, 1]);
  assert.ok(MIN_REORDER_GAIN > 0 && MIN_REORDER_GAIN < 1, 'threshold in (0, 1)');
});
