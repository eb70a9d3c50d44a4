import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { NamedTensorMap } from '../../../core/tf';
import { createSudoRmRf, PRESETS } from '../../../core/models/sudormrf';
import type { SudoRmRf, SudoRmRfConfig } from '../../../core/models/sudormrf';
import { classTerm, createReweighter, customTerm, robustTerm } from '../../../core/reweighting';
import type { Reweighter } from '../../../core/reweighting';
import { parallelSteps, resolveWorkers, shardSizes } from '../../../core/train/parallel';
import { parseWorkerCount } from '../../../core/train/workerCount';
import { trainStep } from '../../../core/train/step';
import type { StepResult, StepRunner } from '../../../core/train/step';
import type { MixtureBatch, SoundClass } from '../../../core/types';
import { rng, toyBatch } from './toyData';

const SCRIPT = new URL('../../../core/train/worker.ts', import.meta.url);
const CONFIG: SudoRmRfConfig = { ...PRESETS['0.25x'], nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 };
const CLASSES: SoundClass[][] = [['speech', 'env'], ['env', 'speech'], ['speech', 'speech'], ['env', 'env'], ['speech', 'env']];
const progress = { step: 3, epoch: 0, totalSteps: 100 };

// One two-worker runner serves the tests that need no other reweighter (helpers take ~1 s to start).
const robust = createReweighter([robustTerm({ alpha: 0.5 })]);
let shared: { model: SudoRmRf; runner: StepRunner };

before(async () => {
  await initBackend('wasm');
  const model = createSudoRmRf(CONFIG, 5);
  shared = { model, runner: await parallelSteps(model, robust, 2, SCRIPT) };
});

after(async () => {
  await shared.runner.close();
  shared.model.dispose();
});

/** Threads of this process (Linux): each worker thread is one. */
const threads = () => readdirSync('/proc/self/task').length;

/** Records the gradients it is given (then applies them as SGD with lr 1). */
class Recorder extends tf.SGDOptimizer {
  grads = new Map<string, Float32Array>();

  constructor(private readonly names: Map<string, string>) {
    super(1);
  }

  override applyGradients(grads: NamedTensorMap): void {
    for (const [name, g] of Object.entries(grads)) this.grads.set(this.names.get(name)!, g.dataSync() as Float32Array);
    super.applyGradients(grads);
  }
}

/** Variable name -> stable weight name, so that two models' gradients compare by weight. */
const stableNames = (model: SudoRmRf) => new Map(model.variables.map((v, k) => [v.name, model.weightNames[k]!]));

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * Every entry within `rel` of the gradient's largest entry. Not per weight: a weight whose gradient
 * is near zero would compare rounding noise.
 */
function assertClose(actual: Map<string, Float32Array>, expected: Map<string, Float32Array>, rel: number): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  const scale = Math.max(...[...expected.values()].map(maxAbs));
  assert.ok(scale > 0, 'a zero gradient makes the comparison empty');
  for (const [name, e] of expected) {
    const a = actual.get(name)!;
    const worst = Math.max(...a.map((v, i) => Math.abs(v - e[i]!)));
    assert.ok(worst <= rel * scale, `${name}: max difference ${worst} vs gradient scale ${scale}`);
  }
}

const near = (a: number, b: number, rel = 1e-5) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-30);

function assertSameReport(got: StepResult, want: StepResult): void {
  assert.equal(got.skipped, want.skipped);
  assert.equal(got.skipReason, want.skipReason);
  assert.equal(got.exampleLosses.length, want.exampleLosses.length);
  got.exampleLosses.forEach((l, b) => assert.ok(near(l, want.exampleLosses[b]!), `example ${b}: ${l} vs ${want.exampleLosses[b]}`));
  got.sourceLosses.flat().forEach((l, u) => assert.ok(near(l, want.sourceLosses.flat()[u]!), `unit ${u}`));
  for (const key of ['weightedLoss', 'meanLoss', 'gradNorm', 'clipScale'] as const) {
    assert.ok(near(got[key], want[key]) || (Number.isNaN(got[key]) && Number.isNaN(want[key])), `${key}: ${got[key]} vs ${want[key]}`);
  }
  if (want.weighting === null) return assert.equal(got.weighting, null);
  const [g, w] = [got.weighting!, want.weighting];
  assert.equal(g.uniform, w.uniform);
  g.weights.forEach((p, u) => assert.ok(near(p, w.weights[u]!), `weight ${u}: ${p} vs ${w.weights[u]}`));
  const [gd, wd] = [g.diagnostics, w.diagnostics];
  assert.equal(gd.units, wd.units);
  for (const key of ['entropy', 'effectiveBatchSize', 'maxWeight'] as const) assert.ok(near(gd[key], wd[key]), `${key}: ${gd[key]} vs ${wd[key]}`);
  for (const [c, m] of Object.entries(wd.classMass)) assert.ok(near(gd.classMass[c as SoundClass], m), `class mass ${c}`);
}

/**
 * The same step on two copies of one model: trainStep on this thread, and the runner over
 * `workers` threads. Returns both results and the gradients each applied.
 */
async function compareStep(reweighter: Reweighter, batch: MixtureBatch, workers: number, clipNorm = Infinity, runner?: { model: SudoRmRf; runner: StepRunner }, mixtureConsistency = false) {
  const local = createSudoRmRf(CONFIG, 5);
  let parallel = runner;
  if (!parallel) {
    const model = createSudoRmRf(CONFIG, 5);
    parallel = { model, runner: await parallelSteps(model, reweighter, workers, SCRIPT) };
  }
  try {
    parallel.model.setWeights(local.namedWeights());
    const [localOpt, parallelOpt] = [new Recorder(stableNames(local)), new Recorder(stableNames(parallel.model))];
    const want = trainStep(local, localOpt, batch, { reweighter, progress, clipNorm, mixtureConsistency });
    const got = await parallel.runner.step(parallelOpt, batch, { progress, clipNorm, mixtureConsistency });
    localOpt.dispose();
    parallelOpt.dispose();
    return { want, got, wantGrads: localOpt.grads, gotGrads: parallelOpt.grads, local, parallel: parallel.model };
  } finally {
    local.dispose();
    if (!runner) {
      await parallel.runner.close();
      parallel.model.dispose();
    }
  }
}

test('worker counts: auto, explicit, and the fallbacks to one', () => {
  const wasm = { choice: 'wasm' as const, tfBackend: 'wasm', skipped: [] };
  const native = { choice: 'tfjs-node' as const, tfBackend: 'tensorflow', skipped: [] };
  assert.equal(resolveWorkers('auto', 8, robust, wasm), Math.min(availableParallelism(), 4));
  assert.equal(resolveWorkers('auto', 2, robust, wasm), Math.min(availableParallelism(), 2));
  assert.equal(resolveWorkers('auto', 8, robust, native), 1);
  assert.equal(resolveWorkers(3, 8, robust, native), 3);
  assert.equal(resolveWorkers(6, 4, robust, wasm), 4, 'no more workers than mixtures');
  assert.equal(resolveWorkers(2, 1, robust, wasm), 1, 'a batch of one');
  assert.equal(resolveWorkers(2, 8, createReweighter([customTerm('mine', (ctx) => ctx.losses)]), wasm), 1, 'a custom term has no JSON form');
  assert.throws(() => resolveWorkers(0, 8, robust, wasm), /whole number >= 1/);
  assert.equal(parseWorkerCount('auto'), 'auto');
  assert.equal(parseWorkerCount('3'), 3);
  assert.throws(() => parseWorkerCount('1.5'), /whole number >= 1 or "auto" \(got "1.5"\)/);
  assert.deepEqual(shardSizes(5, 2), [3, 2]);
  assert.deepEqual(shardSizes(8, 3), [3, 3, 2]);
  assert.deepEqual(shardSizes(2, 4), [1, 1]);
});

for (const { name, reweighter } of [
  { name: 'uniform', reweighter: createReweighter([]) },
  { name: 'robust alpha 0.5', reweighter: robust },
  { name: 'class gamma per mixture', reweighter: createReweighter([classTerm({ speech: 2, env: -1 })]) },
  { name: 'robust + class gamma per source', reweighter: createReweighter([robustTerm({ alpha: 0.3 }), classTerm({ speech: 2 })], 'source') },
]) {
  test(`${name}: a step split 3 + 2 over two threads applies the single-thread gradient and reports the same`, async () => {
    const batch = toyBatch(rng(4), 400, CLASSES);
    const runner = reweighter === robust ? shared : undefined;
    const { want, got, wantGrads, gotGrads } = await compareStep(reweighter, batch, 2, Infinity, runner);
    if (name !== 'uniform') {
      const p = Array.from(want.weighting!.weights);
      assert.ok(Math.max(...p) / Math.min(...p) > 1.5, `weights ${p} should be far from uniform for this check`);
    }
    assertSameReport(got, want);
    assertClose(gotGrads, wantGrads, 1e-5);
  });
}

test('three threads (2 + 2 + 1) with clipping give the single-thread step', async () => {
  const reweighter = createReweighter([robustTerm({ alpha: 0.2 }), classTerm({ env: 1 })], 'source');
  const batch = toyBatch(rng(8), 333, CLASSES);
  const { want, got, wantGrads, gotGrads } = await compareStep(reweighter, batch, 3, 1);
  assert.ok(want.clipScale < 0.1, `clip scale ${want.clipScale}: the check needs clipping`);
  assertSameReport(got, want);
  assertClose(gotGrads, wantGrads, 1e-5);
});

test('mixture consistency reaches every thread: two threads give the single-thread step', async () => {
  const reweighter = createReweighter([classTerm({ speech: 3 })], 'source');
  const batch = toyBatch(rng(9), 400, CLASSES);
  const { want, got, wantGrads, gotGrads } = await compareStep(reweighter, batch, 2, Infinity, undefined, true);
  const plain = await compareStep(reweighter, batch, 2, Infinity, undefined, false);
  assert.notDeepEqual(want.sourceLosses, plain.want.sourceLosses, 'the projection changes what is scored');
  assertSameReport(got, want);
  assertClose(gotGrads, wantGrads, 1e-5);
});

test('repeated steps keep replicas in sync and the tensor count flat', async () => {
  const { model, runner } = shared;
  const local = createSudoRmRf(CONFIG, 5);
  local.setWeights(model.namedWeights());
  const [localAdam, parallelAdam] = [tf.train.adam(1e-2), tf.train.adam(1e-2)];
  const r = rng(11);
  let tensors = 0;
  for (let step = 0; step < 4; step++) {
    const batch = toyBatch(r, 256, CLASSES);
    const want = trainStep(local, localAdam, batch, { reweighter: robust, progress: { ...progress, step } });
    const got = await runner.step(parallelAdam, batch, { progress: { ...progress, step } });
    assertSameReport(got, want);
    if (step === 0) tensors = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, tensors);
  // Every weight agrees to rounding (the decoder bias, frozen at zero, exactly).
  model.weightNames.forEach((name, k) => {
    const [a, b] = [local.variables[k]!.dataSync() as Float32Array, model.variables[k]!.dataSync() as Float32Array];
    const diff = Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
    assert.ok(diff <= 1e-5 * maxAbs(a), `${name} after 4 Adam steps: max difference ${diff}`);
  });
  localAdam.dispose();
  parallelAdam.dispose();
  local.dispose();
});

test('a non-finite loss in another thread\'s shard skips the step in every thread alike', async () => {
  const { model, runner } = shared;
  const sgd = tf.train.sgd(1e-3);
  const batch = toyBatch(rng(12), 256, CLASSES);
  const before = model.variables.map((v) => v.dataSync().slice());
  // Mixture 4 is in the helper's shard (3 + 2).
  const bad = await runner.step(sgd, { ...batch, mixture: batch.mixture.map((v, i) => (i === 4 * 256 + 7 ? NaN : v)) }, { progress });
  assert.equal(bad.skipped, true);
  assert.equal(bad.skipReason, 'non-finite loss');
  assert.equal(bad.weighting, null);
  assert.ok(Number.isNaN(bad.exampleLosses[4]!) && bad.exampleLosses.slice(0, 4).every(Number.isFinite));
  model.variables.forEach((v, k) => assert.deepEqual(v.dataSync(), before[k]));
  const good = await runner.step(sgd, batch, { progress });
  assert.equal(good.skipped, false);
  sgd.dispose();
});

test('a thread that fails stops the others at once, its error surfaces, and the runner goes on working', async () => {
  const { model, runner } = shared;
  const sgd = tf.train.sgd(1e-3);
  const batch = toyBatch(rng(13), 256, CLASSES);
  const tensors = tf.memory().numTensors;
  // Too short a mixture array: only the helper's shard (the last mixtures) is malformed, so the helper
  // fails before the exchange while this thread waits in it.
  await assert.rejects(runner.step(sgd, { ...batch, mixture: batch.mixture.subarray(0, batch.mixture.length - 1) }, { progress }), /MixtureBatch arrays do not match batch=2/);
  // This thread fails before the exchange while the helper waits in it.
  const failing = Object.create(model, { apply: { value: () => { throw new Error('forward failed'); } } }) as SudoRmRf;
  const failingRunner = await parallelSteps(failing, robust, 2, SCRIPT);
  await assert.rejects(failingRunner.step(sgd, batch, { progress }), /forward failed/);
  await failingRunner.close();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal((await runner.step(sgd, batch, { progress })).skipped, false);
  sgd.dispose();
});

test('close() ends the helper threads', async () => {
  const base = threads();
  const model = createSudoRmRf(CONFIG, 1);
  const runner = await parallelSteps(model, robust, 3, SCRIPT);
  try {
    assert.ok(threads() >= base + 2, `${threads()} threads with 2 helpers, ${base} before`);
  } finally {
    await runner.close();
    model.dispose();
  }
  assert.equal(threads(), base);
});
