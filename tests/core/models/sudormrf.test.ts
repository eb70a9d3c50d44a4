import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { Tensor, Tensor2D } from '../../../core/tf';
import { countParameters, createSudoRmRf, needsCheckpointing, PRESETS, type SudoRmRf, type SudoRmRfConfig } from '../../../core/models/sudormrf';
import { referenceForward, type Weights } from './reference';
import { maxRelErr } from './compare';

const TINY: SudoRmRfConfig = {
  nSources: 2, nBlocks: 2, upsamplingDepth: 3, encBasis: 16, encKernel: 5, bottleneck: 8, hidden: 12, dwKernel: 5,
};
// The real encoder/decoder geometry (kernel 21, stride 10) with small channel counts.
const SMALL21: SudoRmRfConfig = { ...TINY, nSources: 3, encKernel: 21, upsamplingDepth: 2, nBlocks: 1 };

let backend = '';
before(async () => {
  backend = (await initBackend()).tfBackend;
});

function randomMixture(batch: number, length: number, seed: number): Tensor2D {
  return tf.randomNormal([batch, length], 0, 1, 'float32', seed) as Tensor2D;
}

test('runs on the wasm backend here (no silent cpu fallback)', () => {
  assert.equal(backend, 'wasm');
});

test('parameter counts match the original code and the published sizes', () => {
  const expected = { '1.0x': 2_660_998, '0.5x': 1_413_766, '0.25x': 790_150 } as const;
  const published = { '1.0x': 2.66e6, '0.5x': 1.42e6, '0.25x': 0.79e6 } as const;
  for (const p of ['1.0x', '0.5x', '0.25x'] as const) {
    const n = countParameters(PRESETS[p]);
    assert.equal(n, expected[p]);
    assert.ok(Math.abs(n - published[p]) / published[p] < 0.02, `${p}: ${n}`);
  }
  const m = createSudoRmRf(PRESETS['0.25x'], 0);
  try {
    assert.equal(m.paramCount(), expected['0.25x']);
    assert.equal(new Set(m.variables.map((v) => v.name)).size, m.variables.length);
  } finally {
    m.dispose();
  }
});

test('output is [batch, nSrc, time] for odd and short lengths', () => {
  const m = createSudoRmRf(SMALL21, 3);
  try {
    for (const length of [1, 7, 159, 161, 333]) {
      const y = tf.tidy(() => m.apply(randomMixture(3, length, length)));
      assert.deepEqual(y.shape, [3, 3, length]);
      assert.ok(y.dataSync().every(Number.isFinite));
      y.dispose();
    }
    assert.throws(() => m.apply(tf.zeros([2, 0]) as Tensor2D), /empty input/);
    assert.throws(() => m.apply(tf.zeros([8]) as unknown as Tensor2D), /expects \[batch, time\]/);
  } finally {
    m.dispose();
  }
});

test('examples are independent and trailing zero padding does not change the output', () => {
  const m = createSudoRmRf(SMALL21, 4);
  try {
    const x = randomMixture(2, 150, 1);
    const both = m.apply(x);
    const first = m.apply(x.slice([1, 0], [1, 150]) as Tensor2D);
    assert.ok(maxRelErr(first.dataSync(), both.slice([1, 0, 0], [1, 3, 150]).dataSync()) < 1e-5);
    const padded = m.apply(tf.pad(x, [[0, 0], [0, 10]]) as Tensor2D); // 160 = one length multiple
    assert.ok(maxRelErr(padded.slice([0, 0, 0], [2, 3, 150]).dataSync(), both.dataSync()) < 1e-5);
    tf.dispose([x, both, first, padded]);
  } finally {
    m.dispose();
  }
});

test('same seed gives the same weights; another seed different ones', () => {
  const a = createSudoRmRf(TINY, 7);
  const b = createSudoRmRf(TINY, 7);
  const c = createSudoRmRf(TINY, 8);
  try {
    assert.notEqual(a.scope, b.scope);
    assert.deepEqual(a.weightNames, b.weightNames);
    const flat = (m: SudoRmRf) => m.variables.flatMap((v) => Array.from(v.dataSync()));
    assert.deepEqual(flat(a), flat(b));
    assert.notDeepEqual(flat(a), flat(c));
  } finally {
    [a, b, c].forEach((m) => m.dispose());
  }
});

test('masks sum to one across sources: with shared decoder kernels the sources sum to the unmasked decode', () => {
  const m = createSudoRmRf(TINY, 5);
  try {
    const w = m.namedWeights();
    const dec = w.get('decoder/weight')!;
    const shared = tf.tidy(() => tf.concat([dec.slice([0, 0, 0], [1, 16, 5]), dec.slice([0, 0, 0], [1, 16, 5])], 0));
    dec.assign(shared);
    w.get('decoder/bias')!.assign(tf.zeros([2]));
    const x = randomMixture(2, 99, 2);
    const y1 = m.apply(x);
    const sum1 = tf.sum(y1, 1);
    // Changing everything that shapes the masks must not change the sum of the sources.
    for (const [name, v] of w) {
      if (name.startsWith('blocks/') || name.startsWith('masks/')) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.5, 'float32', 9))));
    }
    const y2 = m.apply(x);
    const sum2 = tf.sum(y2, 1);
    assert.ok(maxRelErr(sum2.dataSync(), sum1.dataSync()) < 1e-4);
    // ... while the individual sources do change.
    assert.ok(maxRelErr(y2.dataSync(), y1.dataSync()) > 1e-2);
    tf.dispose([shared, x, y1, sum1, sum2, y2]);
  } finally {
    m.dispose();
  }
});

/** Outputs and gradients of sum(y * r) from the fast model (this backend) and the reference (cpu). */
async function compareWithReference(config: SudoRmRfConfig, batch: number, length: number, checkpointing: boolean) {
  const m = createSudoRmRf(config, 11);
  m.gradientCheckpointing = checkpointing;
  try {
    const xData = randomMixture(batch, length, 3);
    const r = tf.randomNormal([batch, config.nSources, length], 0, 1, 'float32', 4);
    const xs = xData.dataSync().slice();
    const rs = r.dataSync().slice();
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.apply(xData), r)), [...m.trainableVariables]);
    const fastOut = m.apply(xData).dataSync().slice();
    // Every weight but the frozen decoder bias has a gradient.
    assert.deepEqual(m.weightNames.filter((_, i) => !m.variables[i]!.trainable), ['decoder/bias']);
    const fastGrads = new Map(m.weightNames.flatMap((n, i) => (grads[m.variables[i]!.name] ? [[n, grads[m.variables[i]!.name]!.dataSync().slice()] as const] : [])));
    const names = m.weightNames;
    const weightData = new Map(names.map((n, i) => [n, { data: m.variables[i]!.dataSync().slice(), shape: m.variables[i]!.shape }]));
    tf.dispose([value, xData, r, ...Object.values(grads)]);

    await tf.setBackend('cpu');
    tf.engine().startScope();
    const ref = (() => {
      const w: Weights = {};
      for (const [n, { data, shape }] of weightData) w[n] = tf.tensor(data, shape);
      const x = tf.tensor(xs, [batch, length]);
      const rr = tf.tensor(rs, [batch, config.nSources, length]);
      const out = referenceForward(config, w, x).dataSync().slice();
      const order = names.map((n) => w[n]!);
      const g = tf.grads((...ws: Tensor[]) => {
        const wm: Weights = {};
        names.forEach((n, i) => (wm[n] = ws[i]!));
        return tf.sum(tf.mul(referenceForward(config, wm, x), rr));
      })(order);
      return { out, grads: new Map(names.map((n, i) => [n, g[i]!.dataSync().slice()])) };
    })();
    tf.engine().endScope();
    await tf.setBackend(backend);

    assert.ok(maxRelErr(fastOut, ref.out) < 2e-4, `outputs differ: ${maxRelErr(fastOut, ref.out)}`);
    for (const n of fastGrads.keys()) {
      const e = maxRelErr(fastGrads.get(n)!, ref.grads.get(n)!);
      assert.ok(e < 2e-3, `gradient of ${n} differs: ${e}`);
    }
  } finally {
    m.dispose();
  }
}

test('outputs and gradients equal the stock-conv reference (kernel 5, checkpointing)', async () => {
  await compareWithReference(TINY, 2, 37, true);
});

test('outputs and gradients equal the stock-conv reference (kernel 21, 3 sources, no checkpointing)', async () => {
  await compareWithReference(SMALL21, 2, 121, false);
});

test('a tiny model trains: finite gradients, lower loss, no tensor growth', () => {
  const m = createSudoRmRf(TINY, 1);
  const opt = tf.train.adam(3e-3);
  try {
    const x = randomMixture(2, 80, 5);
    const target = tf.stack([tf.mul(x, 0.7), tf.mul(x, 0.3)], 1);
    const lossFn = () => tf.mean(tf.squaredDifference(m.apply(x as Tensor2D), target)) as tf.Scalar;
    const { grads, value } = tf.variableGrads(lossFn, [...m.trainableVariables]);
    for (const g of Object.values(grads)) assert.ok(g.dataSync().every(Number.isFinite));
    const first = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    const step = () => tf.tidy(() => opt.minimize(lossFn, true)!.dataSync()[0]!);
    step();
    const count = tf.memory().numTensors;
    let last = 0;
    for (let i = 0; i < 20; i++) last = step();
    assert.equal(tf.memory().numTensors, count);
    assert.ok(last < first * 0.7, `loss ${first} -> ${last}`);
    tf.dispose([x, target]);
  } finally {
    opt.dispose();
    m.dispose();
  }
});

test('repeated apply and gradient computations do not leak tensors', () => {
  const m = createSudoRmRf(TINY, 2);
  try {
    const x = randomMixture(2, 50, 6);
    const once = () => {
      m.apply(x).dispose();
      const { value, grads } = tf.variableGrads(() => tf.sum(m.apply(x)), [...m.trainableVariables]);
      tf.dispose([value, ...Object.values(grads)]);
    };
    once();
    const count = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) once();
    assert.equal(tf.memory().numTensors, count);
    x.dispose();
  } finally {
    m.dispose();
  }
});

test('automatic checkpointing: only once the blocks\' tape outgrows its budget', () => {
  const rows = (batch: number, seconds: number) => (batch * seconds * 8000) / 10;
  assert.equal(needsCheckpointing(PRESETS['0.25x'], rows(4, 1)), false);
  assert.equal(needsCheckpointing(PRESETS['0.25x'], rows(4, 4)), true);
  assert.equal(needsCheckpointing(PRESETS['0.5x'], rows(4, 1)), true);
  assert.equal(needsCheckpointing(PRESETS['1.0x'], rows(1, 1)), false);
  assert.equal(needsCheckpointing(PRESETS['1.0x'], rows(4, 1)), true);
  const m = createSudoRmRf(TINY, 0);
  assert.equal(m.gradientCheckpointing, 'auto');
  m.dispose();
});

test('bad configs are rejected with the field named', () => {
  assert.throws(() => createSudoRmRf({ ...TINY, encKernel: 20 }, 0), /encKernel must be an odd integer/);
  assert.throws(() => createSudoRmRf({ ...TINY, nBlocks: 0 }, 0), /nBlocks must be a positive integer/);
  assert.throws(() => createSudoRmRf({ ...TINY, encBasis: 15 }, 0), /encBasis must be even/);
});
