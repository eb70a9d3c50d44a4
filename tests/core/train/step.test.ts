import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { NamedTensorMap, Tensor, Tensor2D, Tensor3D, Variable } from '../../../core/tf';
import type { Separator } from '../../../core/models/types';
import { crossClassRows, mixtureConsistent_BST, negPitSiSdrPerSource_BST, negPitSiSdr_BST, stemLevelDb_BST } from '../../../core/losses';
import { classTerm, createReweighter, customTerm, robustTerm } from '../../../core/reweighting';
import type { Reweighter } from '../../../core/reweighting';
import { trainStep, weightedGradients } from '../../../core/train/step';
import type { StepBatch } from '../../../core/train/step';
import type { MixtureBatch, SoundClass } from '../../../core/types';
import { TinySeparator } from './tinySeparator';
import { rng, toyBatch } from './toyData';

before(async () => {
  await initBackend('wasm');
});

const progress = { step: 3, epoch: 0, totalSteps: 100 };
const CLASSES: SoundClass[][] = [['speech', 'env'], ['env', 'speech'], ['speech', 'speech'], ['env', 'env'], ['speech', 'env']];

function makeBatch(seed = 4, time = 200): MixtureBatch {
  return toyBatch(rng(seed), time, CLASSES);
}

/** Gradient of f w.r.t. the model's variables, as plain arrays keyed by variable name. */
function gradientOf(model: Separator, f: () => tf.Scalar): Map<string, Float64Array> {
  const { value, grads } = tf.variableGrads(f, model.variables as Variable[]);
  const out = toArrays(grads);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

function exampleTensors(batch: MixtureBatch, b: number): { mixture: Tensor2D; sources: Tensor3D } {
  const { time, nSrc } = batch;
  return {
    mixture: tf.tensor2d(batch.mixture.subarray(b * time, (b + 1) * time), [1, time]),
    sources: tf.tensor3d(batch.sources.subarray(b * nSrc * time, (b + 1) * nSrc * time), [1, nSrc, time]),
  };
}

function toArrays(grads: NamedTensorMap): Map<string, Float64Array> {
  return new Map(Object.entries(grads).map(([k, g]) => [k, Float64Array.from(g.dataSync())]));
}

function assertClose(actual: Map<string, Float64Array>, expected: Map<string, Float64Array>, rel: number): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [name, e] of expected) {
    const a = actual.get(name)!;
    const scale = Math.max(...e.map(Math.abs));
    assert.ok(scale > 0, `${name}: zero gradient makes the comparison empty`);
    const worst = Math.max(...a.map((v, i) => Math.abs(v - e[i]!)));
    assert.ok(worst <= rel * scale, `${name}: max difference ${worst} vs gradient scale ${scale}`);
  }
}

/** sum_u p_u g_u from separately computed per-unit gradients. */
function combine(parts: { weight: number; grad: Map<string, Float64Array> }[]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const { weight, grad } of parts) {
    for (const [name, g] of grad) {
      const acc = out.get(name) ?? new Float64Array(g.length);
      g.forEach((v, i) => { acc[i]! += weight * v; });
      out.set(name, acc);
    }
  }
  return out;
}

/** Each (mixture, source) unit's weight and the gradient of its own loss, the estimates passed through `project`. */
function perSourceParts(
  model: Separator, batch: MixtureBatch, weights: ArrayLike<number>, project = (est: Tensor3D, _mixture: Tensor2D) => est,
): { weight: number; grad: Map<string, Float64Array> }[] {
  return Array.from(weights, (weight, u) => {
    const s = u % batch.nSrc;
    const { mixture, sources } = exampleTensors(batch, Math.floor(u / batch.nSrc));
    const grad = gradientOf(model, () => {
      const { loss, perm } = negPitSiSdrPerSource_BST(project(model.apply(mixture), mixture), sources);
      perm.dispose();
      return tf.reshape(tf.slice(loss, [0, s], [1, 1]), []) as tf.Scalar;
    });
    tf.dispose([mixture, sources]);
    return { weight, grad };
  });
}

test('per mixture: the reweighted gradient is sum_i p_i g_i of per-example gradients', () => {
  const model = new TinySeparator(2, 16, 7);
  const batch = makeBatch();
  const reweighter = createReweighter([robustTerm({ alpha: 0.3 }), classTerm({ speech: 1, env: -0.5 })]);
  const result = weightedGradients(model, batch, { reweighter, progress });
  const stepGrad = toArrays(result.grads!);
  tf.dispose(result.grads!);
  const p = Array.from(result.weighting!.weights);
  assert.ok(Math.max(...p) / Math.min(...p) > 1.5, `weights ${p} should be far from uniform for this check`);

  const parts = p.map((weight, b) => {
    const { mixture, sources } = exampleTensors(batch, b);
    let loss = NaN;
    const grad = gradientOf(model, () => {
      const l = tf.mean(negPitSiSdr_BST(model.apply(mixture), sources).loss) as tf.Scalar;
      loss = l.dataSync()[0]!;
      return l;
    });
    tf.dispose([mixture, sources]);
    assert.ok(Math.abs(loss - result.exampleLosses[b]!) < 1e-3, `example ${b}: ${loss} vs ${result.exampleLosses[b]}`);
    return { weight, grad };
  });
  assertClose(stepGrad, combine(parts), 1e-4);
  // The weights are softmax(alpha L + mean gamma) of those losses.
  const logits = result.exampleLosses.map((l, b) => 0.3 * l + CLASSES[b]!.reduce((s, c) => s + (c === 'speech' ? 1 : -0.5), 0) / 2);
  const z = logits.map((v) => Math.exp(v - Math.max(...logits)));
  z.forEach((v, b) => assert.ok(Math.abs(v / z.reduce((s, x) => s + x, 0) - p[b]!) < 1e-12));
  model.dispose();
});

test('per source: the reweighted gradient is sum_(i,s) p_is g_is of per-source gradients', () => {
  const model = new TinySeparator(2, 16, 8);
  const batch = makeBatch(5);
  const reweighter = createReweighter([robustTerm({ alpha: 0.2 }), classTerm({ speech: 2 })], 'source');
  const result = weightedGradients(model, batch, { reweighter, progress });
  const stepGrad = toArrays(result.grads!);
  tf.dispose(result.grads!);
  assert.equal(result.weighting!.weights.length, batch.batch * 2);
  assertClose(stepGrad, combine(perSourceParts(model, batch, result.weighting!.weights)), 1e-4);
  model.dispose();
});

test('mixture consistency: per-source losses and gradients are those of the projected estimates', () => {
  const model = new TinySeparator(2, 16, 8);
  const batch = makeBatch(6);
  const reweighter = createReweighter([classTerm({ speech: 3 })], 'source');
  const result = weightedGradients(model, batch, { reweighter, progress, mixtureConsistency: true });
  const plain = weightedGradients(model, batch, { reweighter, progress });
  const stepGrad = toArrays(result.grads!);
  tf.dispose([result.grads!, plain.grads!]);
  assert.notDeepEqual(result.sourceLosses, plain.sourceLosses, 'the projection changes what is scored');
  const parts = perSourceParts(model, batch, result.weighting!.weights, (est, mixture) => mixtureConsistent_BST(est, mixture));
  assertClose(stepGrad, combine(parts), 1e-4);
  model.dispose();
});

test('a silent source (one-class input) is scored by the level of its delivered stem, in fixed slots only', () => {
  const model = new TinySeparator(2, 16, 8);
  const classes: SoundClass[][] = [['speech', 'env'], ['speech', 'env'], ['speech', 'env']];
  const batch = toyBatch(rng(11), 200, classes);
  const { time } = batch;
  // Row 0 has no speech, row 1 no env: the mixture is the one source left.
  for (const [row, gone] of [[0, 0], [1, 1]] as const) {
    batch.sources.fill(0, (row * 2 + gone) * time, (row * 2 + gone + 1) * time);
    const kept = batch.sources.subarray((row * 2 + 1 - gone) * time, (row * 2 + 2 - gone) * time);
    batch.mixture.set(kept, row * time);
  }
  const tensors = tf.memory().numTensors;
  const result = weightedGradients(model, batch, { progress, slots: 'fixed' });
  const stepGrad = toArrays(result.grads!);
  tf.dispose(result.grads!);
  const expected = gradientOf(model, () => {
    const mixture = tf.tensor2d(batch.mixture, [3, time]);
    const sources = tf.tensor3d(batch.sources, [3, 2, time]);
    const raw = model.apply(mixture);
    const siSdr = negPitSiSdrPerSource_BST(raw, sources, undefined, crossClassRows(classes)).loss;
    const level = stemLevelDb_BST(mixtureConsistent_BST(raw, mixture), mixture);
    const silent = tf.tensor2d([[true, false], [false, true], [false, false]], [3, 2], 'bool');
    const losses = tf.where(silent, level, siSdr);
    const expectedLosses = losses.arraySync() as number[][];
    expectedLosses.forEach((row, b) => row.forEach((l, s) => assert.ok(Math.abs(l - result.sourceLosses[b]![s]!) < 1e-3, `loss ${b},${s}`)));
    return tf.mean(losses) as tf.Scalar;
  });
  assertClose(stepGrad, expected, 1e-4);
  const [speechGone, envGone] = [result.sourceLosses[0]![0]!, result.sourceLosses[1]![1]!];
  assert.ok(speechGone <= 0.5 && speechGone >= -30, `a level in [-30, ~0] dB, got ${speechGone}`);
  assert.ok(envGone <= 0.5 && envGone >= -30, `a level in [-30, ~0] dB, got ${envGone}`);
  assert.throws(() => weightedGradients(model, batch, { progress, slots: 'pit' }), /silent source needs fixed slots/);
  assert.equal(tf.memory().numTensors, tensors);
  model.dispose();
});

test('trainStep applies exactly the reweighted gradient (SGD, lr 1, no clipping) and reports it', () => {
  const model = new TinySeparator(2, 16, 9);
  const batch = makeBatch(6);
  const reweighter = createReweighter([robustTerm({ alpha: 0.5 })]);
  const expected = weightedGradients(model, batch, { reweighter, progress });
  const grad = toArrays(expected.grads!);
  tf.dispose(expected.grads!);
  const before = model.snapshot();
  const sgd = tf.train.sgd(1);
  const result = trainStep(model, sgd, batch, { reweighter, progress, clipNorm: Infinity });
  assert.equal(result.skipped, false);
  assert.equal(result.clipScale, 1);
  assert.deepEqual(Array.from(result.weighting!.weights), Array.from(expected.weighting!.weights));
  const after = model.snapshot();
  const applied = new Map(model.variables.map((v, k) => [v.name, Float64Array.from(before[k]!, (x, i) => x - after[k]![i]!)]));
  assertClose(applied, grad, 1e-4);
  const norm = Math.sqrt([...grad.values()].reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
  assert.ok(Math.abs(result.gradNorm - norm) < 1e-4 * norm, `grad norm ${result.gradNorm} vs ${norm}`);
  assert.ok(Math.abs(result.weightedLoss - result.exampleLosses.reduce((s, l, b) => s + l * result.weighting!.weights[b]!, 0)) < 1e-9);
  sgd.dispose();
  model.dispose();
});

test('uniform weights give exactly the plain mean loss and exactly its gradient', () => {
  const model = new TinySeparator(2, 16, 10);
  const batch = makeBatch(7, 203);
  for (const granularity of ['mixture', 'source'] as const) {
    const result = weightedGradients(model, batch, { reweighter: createReweighter([], granularity), progress });
    assert.equal(result.weighting!.uniform, true);
    assert.equal(result.weightedLoss, result.meanLoss);
    assert.equal(result.meanLoss, result.exampleLosses.reduce((a, b) => a + b, 0) / batch.batch);
    const got = toArrays(result.grads!);
    tf.dispose(result.grads!);
    const mixture = tf.tensor2d(batch.mixture, [batch.batch, batch.time]);
    const sources = tf.tensor3d(batch.sources, [batch.batch, 2, batch.time]);
    const plain = gradientOf(model, () => tf.mean(negPitSiSdr_BST(model.apply(mixture), sources).loss) as tf.Scalar);
    tf.dispose([mixture, sources]);
    for (const [name, g] of plain) assert.deepEqual(got.get(name), g, `${granularity}: ${name}`);
  }
  model.dispose();
});

test('global-norm clipping scales the update to the threshold and reports the pre-clip norm', () => {
  const model = new TinySeparator(2, 16, 11);
  const batch = makeBatch(8);
  const first = weightedGradients(model, batch, { progress });
  const grad = toArrays(first.grads!);
  tf.dispose(first.grads!);
  const norm = Math.sqrt([...grad.values()].reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
  const before = model.snapshot();
  const sgd = tf.train.sgd(1);
  const result = trainStep(model, sgd, batch, { progress, clipNorm: norm / 10 });
  assert.ok(Math.abs(result.gradNorm - norm) < 1e-4 * norm);
  assert.ok(Math.abs(result.clipScale - 0.1) < 1e-4, `scale ${result.clipScale}`);
  const after = model.snapshot();
  const updateNorm = Math.sqrt(before.reduce((s, w, k) => s + w.reduce((a, x, i) => a + (x - after[k]![i]!) ** 2, 0), 0));
  assert.ok(Math.abs(updateNorm - norm / 10) < 1e-3 * norm, `update norm ${updateNorm} vs ${norm / 10}`);
  assert.throws(() => trainStep(model, sgd, batch, { progress, clipNorm: 0 }), /clipNorm must be > 0/);
  sgd.dispose();
  model.dispose();
});

/** Wraps a separator so its output's gradient is NaN while the forward pass stays finite. */
function withNaNGradient(inner: Separator): Separator {
  const poison = tf.customGrad((...args) => ({ value: tf.clone(args[0] as Tensor), gradFunc: (dy: Tensor) => tf.mul(dy, NaN) }));
  return { nSources: inner.nSources, variables: inner.variables, apply: (m) => poison(inner.apply(m)) as Tensor3D, dispose: () => inner.dispose() };
}

test('a non-finite loss or gradient skips the step: no update, reason reported, nothing leaked', () => {
  const model = new TinySeparator(2, 16, 12);
  const adam = tf.train.adam(1e-2);
  const batch = makeBatch(9);
  trainStep(model, adam, batch, { progress }); // creates Adam's slots
  const tensors = tf.memory().numTensors;
  const before = model.snapshot();

  const badGrad = trainStep(withNaNGradient(model), adam, batch, { progress });
  assert.equal(badGrad.skipped, true);
  assert.equal(badGrad.skipReason, 'non-finite gradient');
  assert.ok(Number.isFinite(badGrad.meanLoss) && Number.isNaN(badGrad.gradNorm));
  assert.deepEqual(model.snapshot(), before);

  const nanBatch = { ...batch, mixture: batch.mixture.map((v, i) => (i === 5 ? NaN : v)) };
  const badLoss = trainStep(model, adam, nanBatch, { progress });
  assert.equal(badLoss.skipped, true);
  assert.equal(badLoss.skipReason, 'non-finite loss');
  assert.equal(badLoss.weighting, null);
  assert.deepEqual(model.snapshot(), before);
  assert.equal(tf.memory().numTensors, tensors);
  adam.dispose();
  model.dispose();
});

test('a failing logit function surfaces its error and leaks nothing; bad batches are rejected', () => {
  const model = new TinySeparator(2, 16, 13);
  const batch = makeBatch(10);
  const tensors = tf.memory().numTensors;
  const broken: Reweighter = createReweighter([customTerm('broken', () => { throw new Error('user F failed'); })]);
  assert.throws(() => weightedGradients(model, batch, { reweighter: broken, progress }), /user F failed/);
  assert.throws(() => weightedGradients(model, { ...batch, nSrc: 3 }, { progress }), /3 sources, the model separates 2/);
  assert.throws(() => weightedGradients(model, { ...batch, mixture: batch.mixture.subarray(1) }, { progress }), /do not match/);
  assert.equal(tf.memory().numTensors, tensors);
  model.dispose();
});

test('repeated Adam steps keep the tensor count flat, from plain arrays or from tensors', () => {
  const model = new TinySeparator(2, 16, 14);
  const adam = tf.train.adam(1e-3);
  const r = rng(11);
  const reweighter = createReweighter([robustTerm({ alpha: 0.2 }), classTerm({ speech: 3 })], 'source');
  const arrays = (): StepBatch => toyBatch(r, 256, CLASSES);
  trainStep(model, adam, arrays(), { reweighter, progress });
  const tensors = tf.memory().numTensors;
  for (let k = 0; k < 5; k++) trainStep(model, adam, arrays(), { reweighter, progress: { ...progress, step: k } });
  assert.equal(tf.memory().numTensors, tensors);
  const b = toyBatch(r, 256, CLASSES);
  const onDevice = {
    mixture: tf.tensor2d(b.mixture, [b.batch, b.time]), sources: tf.tensor3d(b.sources, [b.batch, 2, b.time]), classes: b.classes, mixtureTypes: b.mixtureTypes,
  };
  const withInputs = tf.memory().numTensors;
  for (let k = 0; k < 5; k++) {
    const result = trainStep(model, adam, onDevice, { reweighter, progress: { ...progress, step: k } });
    assert.equal(result.skipped, false);
    assert.equal(result.sourceLosses.length, b.batch);
  }
  assert.equal(tf.memory().numTensors, withInputs);
  tf.dispose([onDevice.mixture, onDevice.sources]);
  assert.equal(tf.memory().numTensors, tensors);
  adam.dispose();
  model.dispose();
});
