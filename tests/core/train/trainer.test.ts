import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import { parseTrainConfig } from '../../../core/train/config';
import type { TrainConfig } from '../../../core/train/config';
import { Trainer } from '../../../core/train/trainer';
import type { MixtureSource } from '../../../core/train/trainer';
import { mixtureSourceFor } from '../../../core/train/data';
import { loadCheckpoint } from '../../../core/train/checkpoint';
import { PERCENTILES } from '../../../core/train/metrics';
import { ConfigError } from '../../../core/schema';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';

const TINY = { nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 };

function tinyConfig(overrides: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({
    name: 'tiny',
    seed: 3,
    model: { preset: '0.25x', overrides: TINY },
    data: { corpus: 'ci', cacheDir: TEST_AUDIO_DIR, segmentSeconds: 0.5 },
    batchSize: 2,
    epochs: 2,
    stepsPerEpoch: 3,
    validation: { mixtures: 4, batchSize: 4 },
    reweighting: [{ robust: { alpha: 0.1 } }, { class: { speech: 1, env: 0 } }],
    ...overrides,
  });
}

let source: MixtureSource;
let workDir: string;

before(async () => {
  await initBackend();
  await ensureTestAudio();
  source = await mixtureSourceFor(tinyConfig());
  workDir = await mkdtemp(join(tmpdir(), 'tilt-trainer-'));
  process.on('exit', () => void rm(workDir, { recursive: true, force: true }));
});

async function weightsOf(dir: string): Promise<Map<string, Float32Array>> {
  const { model } = await loadCheckpoint(dir);
  const out = new Map([...model.namedWeights()].map(([n, v]) => [n, v.dataSync() as Float32Array]));
  model.dispose();
  return out;
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let m = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  }
  return m;
}

test('trains with validation after every epoch, the paper\'s statistics, and best/last checkpoints', async () => {
  const runDir = join(workDir, 'plain');
  const trainer = await Trainer.create(tinyConfig(), source, runDir);
  const progress: number[] = [];
  const epochs: number[] = [];
  const outcome = await trainer.run({ progress: (p) => progress.push(p.step), epoch: (r) => epochs.push(r.epoch) });
  assert.equal(outcome, 'finished');
  assert.deepEqual(progress, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(epochs, [0, 1]);
  const { history, best, stems } = trainer.trainerState;
  assert.equal(history.length, 2);
  for (const record of history) {
    const v = record.validation;
    assert.equal(v.overall.count, 4);
    assert.deepEqual(Object.keys(v.overall.p).map(Number), [...PERCENTILES]);
    assert.ok(Number.isFinite(v.overall.mean) && v.overall.std >= 0);
    assert.equal(v.byClass.speech.count + v.byClass.env.count, 8, 'every source is scored under its class');
    assert.equal(v.byMixtureType['speech+env']!.count, 4);
    assert.ok(Number.isFinite(record.trainLoss));
  }
  // The config's class term favours speech: `best` is the checkpoint that separates speech best.
  assert.equal(best!.siSdri, Math.max(...history.map((h) => h.validation.byClass.speech.mean)));
  assert.deepEqual([...stems!].sort(), ['env', 'speech']);
  assert.ok(existsSync(join(runDir, 'last', 'optimizer.bin')) && existsSync(join(runDir, 'best', 'model.json')));
  // Only `last` is resumed from; `best` is a model and leaves the optimizer's moments out.
  assert.ok(!existsSync(join(runDir, 'best', 'optimizer.bin')) && !existsSync(join(runDir, 'best', 'optimizer.json')));
  trainer.dispose();
});

test('a run stopped after one epoch and resumed ends with exactly the weights of an uninterrupted run', async () => {
  const straight = join(workDir, 'straight');
  const a = await Trainer.create(tinyConfig(), source, straight);
  await a.run();
  a.dispose();

  const split = join(workDir, 'split');
  const b1 = await Trainer.create(tinyConfig({ epochs: 1 }), source, split);
  await b1.run();
  b1.dispose();
  const b2 = await Trainer.create(tinyConfig(), source, split, { resume: true });
  assert.equal(b2.trainerState.step, 3);
  await b2.run();
  b2.dispose();

  assert.equal(maxDiff(await weightsOf(join(straight, 'last')), await weightsOf(join(split, 'last'))), 0);
});

test('a run cancelled mid-epoch and resumed ends bit for bit with an uninterrupted run, with the same history', async () => {
  const straight = await Trainer.create(tinyConfig(), source, join(workDir, 'mid-straight'));
  await straight.run();
  const expected = straight.trainerState.history;
  straight.dispose();
  // Steps 2 and 4: inside the first and the second epoch (Adam's bias correction differs from step 1 on).
  for (const stopAt of [2, 4]) {
    const runDir = join(workDir, `mid-${stopAt}`);
    const abort = new AbortController();
    const first = await Trainer.create(tinyConfig(), source, runDir);
    assert.equal(await first.run({ progress: (p) => { if (p.step === stopAt) abort.abort(); } }, { signal: abort.signal }), 'cancelled');
    first.dispose();
    const resumed = await Trainer.create(tinyConfig(), source, runDir, { resume: true });
    assert.equal(resumed.trainerState.step, stopAt);
    assert.equal(await resumed.run(), 'finished');
    const history = resumed.trainerState.history;
    resumed.dispose();
    assert.equal(maxDiff(await weightsOf(join(workDir, 'mid-straight', 'last')), await weightsOf(join(runDir, 'last'))), 0, `stopped at step ${stopAt}`);
    const comparable = (h: typeof history) => h.map(({ seconds: _, ...r }) => r);
    assert.deepEqual(comparable(history), comparable(expected), `history after stopping at step ${stopAt}`);
  }
});

test('cancel stops after the current step and leaves a checkpoint that resume continues from', async () => {
  const runDir = join(workDir, 'cancel');
  const abort = new AbortController();
  const t = await Trainer.create(tinyConfig(), source, runDir);
  const outcome = await t.run({ progress: (p) => { if (p.step === 2) abort.abort(); } }, { signal: abort.signal });
  t.dispose();
  assert.equal(outcome, 'cancelled');
  const { state } = await loadCheckpoint(join(runDir, 'last')).then((c) => { c.model.dispose(); return c; });
  assert.equal(state.step, 2);
  const resumed = await Trainer.create(tinyConfig(), source, runDir, { resume: true });
  assert.equal(await resumed.run(), 'finished');
  assert.equal(resumed.trainerState.step, 6);
  resumed.dispose();
});

test('non-finite steps are skipped and repeated ones roll back to the last checkpoint', async () => {
  const runDir = join(workDir, 'nan');
  const poisoned: MixtureSource = {
    validation: () => source.validation(),
    trainBatch(step, size) {
      const b = source.trainBatch(step, size);
      // Steps 3 and 4 (the second epoch's first two) carry NaN audio.
      if (step === 3 || step === 4) return { ...b, mixture: new Float32Array(b.mixture.length).fill(NaN) };
      return b;
    },
  };
  const t = await Trainer.create(tinyConfig({ rollbackAfter: 2 }), poisoned, runDir);
  const warnings: string[] = [];
  const skipped: (string | null)[] = [];
  await t.run({ warning: (w) => warnings.push(w), progress: (p) => skipped.push(p.skipped) });
  assert.deepEqual(skipped, [null, null, null, 'non-finite loss', 'non-finite loss', null]);
  assert.ok(warnings.some((w) => /rolled back to the checkpoint at step 3/.test(w)), warnings.join('\n'));
  assert.equal(t.trainerState.rollbacks, 1);
  assert.equal(t.trainerState.history[1]!.skippedSteps, 2);
  for (const v of t.model.variables) assert.ok(v.dataSync().every(Number.isFinite));
  t.dispose();
});

test('a run over 2 gradient workers gives the 1-worker run to rounding, and its helpers end with the run and on cancel', async () => {
  const config = tinyConfig({ batchSize: 3, epochs: 1 });
  const threads = () => readdirSync('/proc/self/task').length;
  const losses = (runDir: string, workers: number) => async () => {
    const t = await Trainer.create(config, source, join(workDir, runDir), { workers });
    assert.equal(t.workers, workers);
    const seen: { loss: number; threads: number }[] = [];
    assert.equal(await t.run({ progress: (p) => seen.push({ loss: p.loss, threads: threads() }) }), 'finished');
    return { t, seen };
  };
  const one = await losses('workers1', 1)();
  const base = threads();
  const two = await losses('workers2', 2)();
  assert.ok(two.seen.every((s) => s.threads > base), 'a helper thread runs during the run');
  assert.equal(threads(), base, 'the helper ended with the run');
  one.seen.forEach((s, k) => assert.ok(Math.abs(s.loss - two.seen[k]!.loss) <= 1e-5 * Math.abs(s.loss), `step ${k + 1}: ${s.loss} vs ${two.seen[k]!.loss}`));
  const [a, b] = [one.t.model, two.t.model];
  a.weightNames.forEach((name, k) => {
    const [x, y] = [a.variables[k]!.dataSync() as Float32Array, b.variables[k]!.dataSync() as Float32Array];
    const scale = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const diff = x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
    assert.ok(diff <= 1e-5 * scale, `${name}: weights differ by ${diff} (scale ${scale})`);
  });
  const [v1, v2] = [one.t.trainerState.history[0]!.validation.overall.mean, two.t.trainerState.history[0]!.validation.overall.mean];
  assert.ok(Math.abs(v1 - v2) < 1e-3, `validation SI-SDRi ${v1} vs ${v2}`);
  one.t.dispose();
  two.t.dispose();

  const abort = new AbortController();
  const cancelled = await Trainer.create(config, source, join(workDir, 'workers-cancel'), { workers: 2 });
  assert.equal(await cancelled.run({ progress: () => abort.abort() }, { signal: abort.signal }), 'cancelled');
  assert.equal(cancelled.trainerState.step, 1);
  assert.equal(threads(), base, 'the helper ended with the cancelled run');
  cancelled.dispose();
});

test('training leaks no tensors across epochs', async () => {
  const t = await Trainer.create(tinyConfig({ epochs: 1 }), source, join(workDir, 'leak1'));
  await t.run();
  t.dispose();
  const before = tf.memory().numTensors;
  const t2 = await Trainer.create(tinyConfig({ epochs: 2 }), source, join(workDir, 'leak2'));
  await t2.run();
  t2.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('a run from a saved model with more blocks trains the deepened model and resumes it as such', async () => {
  const base = join(workDir, 'deepen-base');
  const first = await Trainer.create(tinyConfig({ epochs: 1 }), source, base);
  await first.run();
  first.dispose();
  const config = (epochs: number) => tinyConfig({ model: { from: join(base, 'last'), blocks: 3 }, epochs });
  const dir = join(workDir, 'deepened');
  const trainer = await Trainer.create(config(1), source, dir);
  assert.equal(trainer.model.config.nBlocks, 3);
  await trainer.run();
  trainer.dispose();
  const resumed = await Trainer.create(config(2), source, dir, { resume: true });
  assert.equal(resumed.trainerState.step, 3);
  assert.equal(resumed.model.config.nBlocks, 3);
  assert.equal(await resumed.run(), 'finished');
  resumed.dispose();
  const weights = await weightsOf(join(dir, 'last'));
  assert.ok(weights.has('blocks/2/exp/norm/gamma'));
  // The new block's branch switched itself on: its gain left zero.
  assert.ok(weights.get('blocks/2/exp/norm/gamma')!.some((g) => g !== 0));
});

test('invalid configs are rejected with every bad field named', () => {
  assert.throws(() => parseTrainConfig({
    batchSize: 0, optimizer: { lr: -1, schedule: { halveEvery: 2, plateau: {} } }, data: { snrDb: [5, -5] }, reweighting: [{ robust: { alpha: 'x' } }], colour: 1,
  }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    const paths = e.issues.map((i) => i.path);
    for (const p of ['config.colour', 'batchSize', 'optimizer.lr', 'optimizer.schedule', 'data.snrDb', 'reweighting.terms[0].robust.alpha']) {
      assert.ok(paths.includes(p), `${p} missing from ${paths.join(', ')}`);
    }
    return true;
  });
  assert.throws(() => parseTrainConfig({ model: { from: 'x', preset: '1.0x' } }), /model takes either "from"/);
  assert.throws(() => parseTrainConfig({ model: { blocks: 12 } }), /model.blocks deepens a saved model: it needs "from"/);
  assert.throws(() => parseTrainConfig({ model: { from: 'x', blocks: 2.5 } }), /model.blocks must be an integer/);
  assert.throws(() => parseTrainConfig({ data: { corpus: null } }), /data has no audio/);
});
