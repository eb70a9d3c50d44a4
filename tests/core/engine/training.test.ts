// Training through the engine: the Train view's parameters become a real fine-tuning run on real
// recordings (the ci corpus) whose checkpoints show up as models.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../../core/engine/host';
import { trainConfigFor } from '../../../core/engine/training';
import { previewWeights, SAMPLE_BATCH } from '../../../core/engine/preview';
import type { EngineEvent, TrainParams } from '../../../core/engine/types';
import { parseTrainConfig } from '../../../core/train/config';
import { loadModel } from '../../../core/models/io';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';
import { makeUserFolders, type UserFolders } from '../../fixtures/user-folders';
import { saveTinyModel } from '../../e2e/fixtures';
import { waitForEvent } from './events';

let engine: Engine;
let root: string;
let folders: UserFolders;
const events: EngineEvent[] = [];

const PARAMS: TrainParams = {
  name: 'Speech tilt', baseModelId: 'tiny', data: { kind: 'corpus' }, reweighting: [{ class: { speech: 3, env: 0 } }],
  steps: 4, batchSize: 2, segmentSec: 0.5, lr: 1e-3, seed: 1, validateEvery: 2,
};

const until = <T extends EngineEvent['type']>(jobId: string, types: T[]) => waitForEvent(engine, events, jobId, types);

before(async () => {
  await ensureTestAudio();
  root = await mkdtemp(join(tmpdir(), 'tilt-train-'));
  const modelsDir = join(root, 'models');
  await saveTinyModel(join(modelsDir, 'tiny'));
  folders = await makeUserFolders(root);
  engine = new Engine({
    modelsDir, settingsFile: join(root, 'settings.json'), workDir: join(root, 'work'), exportDir: join(root, 'exports'),
    training: { corpus: 'ci', cacheDir: TEST_AUDIO_DIR, validation: { mixtures: 2, batchSize: 2 } },
  });
  engine.on((e) => events.push(e));
});

after(async () => {
  await engine?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

test('the Train view parameters map to a valid training config; a class bias is applied per source', () => {
  const raw = trainConfigFor({ ...PARAMS, steps: 5, validateEvery: 2 }, '/models/tiny', 'speech-tilt', { corpus: 'ci', cacheDir: '/cache' });
  const c = parseTrainConfig(raw);
  assert.deepEqual(c.model, { from: '/models/tiny' });
  assert.equal(c.stepsPerEpoch, 2);
  assert.equal(c.epochs, 3, 'covers at least the 5 steps asked for');
  assert.equal(c.data.corpus, 'ci');
  assert.equal(c.data.cacheDir, '/cache');
  assert.equal(c.data.segmentSeconds, 0.5);
  assert.deepEqual(c.reweighting, { granularity: 'source', terms: [{ class: { speech: 3, env: 0 } }] });
  const robust = parseTrainConfig(trainConfigFor({ ...PARAMS, reweighting: [{ robust: { alpha: 0.2 } }] }, '/m', 'r'));
  assert.equal(robust.reweighting.granularity, 'mixture');
  const folders = parseTrainConfig(trainConfigFor({
    ...PARAMS, data: { kind: 'folders', folders: [{ path: '/a', class: 'speech' }, { path: '/b', class: 'env' }, { path: '/c', class: 'speech' }] },
  }, '/m', 'f'));
  assert.equal(folders.data.corpus, null);
  assert.deepEqual(folders.data.speechDirs, ['/a', '/c']);
  assert.deepEqual(folders.data.envDirs, ['/b']);
  assert.throws(() => trainConfigFor({ ...PARAMS, data: { kind: 'folders', folders: [] } }, '/m', 'x'), /at least one folder/);
  assert.throws(() => trainConfigFor({ ...PARAMS, validateEvery: 0 }, '/m', 'x'), /Validate every/);
});

test('the weights preview weighs like the run: a class bias per source, each example the sum of its sources', () => {
  const v = previewWeights([{ class: { speech: 3, env: 0 } }], 0, 100);
  assert.equal(v.diagnostics.units, 16);
  const speechSources = SAMPLE_BATCH.flatMap((e) => e.classes).filter((c) => c === 'speech').length;
  const z = speechSources * Math.exp(3) + (16 - speechSources);
  assert.ok(Math.abs((v.diagnostics.classMass.speech ?? 0) - (speechSources * Math.exp(3)) / z) < 1e-9);
  SAMPLE_BATCH.forEach((e, i) => {
    const expected = e.classes.reduce((sum, c) => sum + (c === 'speech' ? Math.exp(3) : 1), 0) / z;
    assert.ok(Math.abs(v.examples[i]!.weight - expected) < 1e-9, `example ${i}`);
  });
  assert.equal(previewWeights([{ robust: { alpha: 0.2 } }], 0, 100).diagnostics.units, 8);
});

test('a run toward speech trains the tiny model on real audio; its best checkpoint becomes a usable model', async () => {
  const { jobId } = await engine.train(PARAMS);
  await assert.rejects(engine.train(PARAMS), /already going/);
  const end = await until(jobId, ['train-done', 'job-failed']);
  assert.equal(end.type, 'train-done', JSON.stringify(end));
  const done = end as Extract<EngineEvent, { type: 'train-done' }>;
  assert.equal(done.modelId, 'speech-tilt');

  const steps = events.filter((e): e is Extract<EngineEvent, { type: 'train-step' }> => e.jobId === jobId && e.type === 'train-step');
  assert.ok(steps.length >= 1);
  assert.equal(steps.at(-1)!.step, 4);
  for (const s of steps) {
    assert.ok(Number.isFinite(s.loss) && s.weights, JSON.stringify(s));
    // Per-source weighting: batch 2 x 2 sources; gamma(speech) = 3 puts e^3 / (e^3 + 1) of the mass on speech.
    assert.equal(s.weights.units, 4);
    assert.ok(Math.abs((s.weights.classMass.speech ?? 0) - Math.exp(3) / (Math.exp(3) + 1)) < 1e-4, JSON.stringify(s.weights.classMass));
    assert.ok(s.weights.entropy > 0 && s.weights.entropy <= Math.log(4) + 1e-9);
  }
  const all = events.filter((e): e is Extract<EngineEvent, { type: 'train-validation' }> => e.jobId === jobId && e.type === 'train-validation');
  // Step 0 is the starting model's validation (the baseline), scored before the first step.
  assert.deepEqual(all.map((v) => v.step), [0, 2, 4]);
  const vals = all.slice(1);
  for (const v of all) {
    assert.ok(Number.isFinite(v.metrics.mean) && Number.isFinite(v.metrics.perClass.speech!) && Number.isFinite(v.metrics.perClass.env!));
    assert.ok(v.metrics.percentiles['1']! <= v.metrics.percentiles['50']! && v.metrics.percentiles['50']! <= v.metrics.percentiles['99']!);
  }
  const best = done.checkpoints.find((c) => c.kind === 'best');
  const last = done.checkpoints.find((c) => c.kind === 'last');
  assert.ok(best && last, JSON.stringify(done.checkpoints));
  assert.equal(last.step, 4);
  // Toward speech: the best checkpoint is the one that separates speech best.
  assert.equal(best.valSiSdri, Math.max(...vals.map((v) => v.metrics.perClass.speech!)));
  // Scored at the end on the corpus's held-out test mixtures, base model against the tuned one.
  const ba = done.beforeAfter!;
  assert.equal(ba.split, 'test');
  assert.deepEqual(ba.rows.map((r) => r.label).slice(0, 3), ['all mixtures', 'speech stem', 'env stem']);
  assert.ok(ba.rows.every((r) => Number.isFinite(r.before) && Number.isFinite(r.after)));
  const scoring = events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.jobId === jobId && e.type === 'progress' && e.stage === 'scoring');
  assert.equal(scoring.at(-1)?.fraction, 1);

  assert.equal((await engine.models.active()).id, 'tiny', 'a new model does not take over separation by itself');
  const model = await engine.models.get('speech-tilt');
  assert.equal(model.name, 'Speech tilt');
  assert.equal(model.dir, best.dir);
  assert.equal(model.metrics?.valSiSdri, best.valSiSdri);
  assert.equal(model.metrics?.heldOutSiSdriBase, ba.rows[0]!.before);
  assert.equal(model.metrics?.heldOutSiSdri, ba.rows[0]!.after);
  assert.match(model.card ?? '', /^# speech-tilt\n[^]*- \*\*Base model\*\*: Tiny base[^]*## Before \/ after/);
  const loaded = await loadModel(model.dir);
  try {
    assert.ok(Array.isArray(loaded.metadata?.stems));
  } finally {
    loaded.model.dispose();
  }
  await engine.models.activate('speech-tilt');
  assert.equal((await engine.models.active()).id, 'speech-tilt');
});

test('pause, resume and cancel: a cancelled run keeps its last checkpoint as a model', async () => {
  const { jobId } = await engine.train({ ...PARAMS, name: 'Long run', steps: 10_000, validateEvery: 10_000, reweighting: [] });
  await until(jobId, ['train-step']);
  assert.equal(engine.pauseTraining(jobId), true);
  await new Promise<void>((resolve) => {
    const off = engine.on((e) => {
      if (e.jobId === jobId && e.type === 'train-state' && e.state === 'paused') {
        off();
        resolve();
      }
    });
  });
  await assert.rejects(engine.deleteModel('long-run'), /being trained/);
  assert.equal(engine.resumeTraining(jobId), true);
  assert.equal(engine.cancelTraining(jobId), true);
  const end = await until(jobId, ['job-cancelled', 'train-done', 'job-failed']);
  assert.equal(end.type, 'job-cancelled');
  const ckpt = events.find((e) => e.jobId === jobId && e.type === 'train-checkpoint') as Extract<EngineEvent, { type: 'train-checkpoint' }> | undefined;
  assert.equal(ckpt?.checkpoint.kind, 'last');
  const m = await engine.models.get('long-run');
  assert.equal(m.dir, ckpt.checkpoint.dir);
  assert.throws(() => engine.cancelTraining(jobId), /no longer going/);
});

test('a cancelled run continues from its last checkpoint: its validations and checkpoints so far first, then the steps after', async () => {
  const { jobId, modelId } = await engine.train({ ...PARAMS, name: 'Resumable', steps: 10_000, validateEvery: 2, reweighting: [] });
  assert.equal(modelId, 'resumable');
  await until(jobId, ['train-checkpoint']);
  engine.cancelTraining(jobId);
  assert.equal((await until(jobId, ['job-cancelled', 'train-done', 'job-failed'])).type, 'job-cancelled');
  const ofJob = <T extends EngineEvent['type']>(id: string, type: T) => events.filter((e): e is Extract<EngineEvent, { type: T }> => e.jobId === id && e.type === type);
  const stoppedAt = ofJob(jobId, 'train-checkpoint').filter((e) => e.checkpoint.kind === 'last').at(-1)!.checkpoint.step;
  assert.ok(stoppedAt >= 2);
  assert.deepEqual((await engine.models.get('resumable')).run, { step: stoppedAt, totalSteps: 10_000 });

  const again = await engine.continueTraining('resumable');
  assert.equal(again.modelId, 'resumable');
  await assert.rejects(engine.continueTraining('resumable'), /already going/);
  const step = await until(again.jobId, ['train-step']);
  assert.ok(step.step > stoppedAt && step.totalSteps === 10_000, JSON.stringify(step));
  const progress = ofJob(again.jobId, 'progress');
  assert.deepEqual([progress[0]?.stage, progress[0]?.fraction], ['loading data', null], 'loading the data is announced first');
  assert.equal(progress.find((p) => p.stage === 'training')?.fraction, stoppedAt / 10_000, 'the worker starts at the step the run stopped at');
  const strip = (v: { step: number; metrics: unknown }) => ({ step: v.step, metrics: v.metrics });
  assert.deepEqual(ofJob(again.jobId, 'train-validation').map(strip), ofJob(jobId, 'train-validation').map(strip), 'the run so far is replayed');
  const replayed = ofJob(again.jobId, 'train-checkpoint').map((e) => e.checkpoint);
  assert.equal(replayed.find((c) => c.kind === 'last')?.step, stoppedAt);
  assert.ok(replayed.some((c) => c.kind === 'best' && c.valSiSdri !== undefined));

  engine.cancelTraining(again.jobId);
  assert.equal((await until(again.jobId, ['job-cancelled', 'train-done', 'job-failed'])).type, 'job-cancelled');
  assert.ok((await engine.models.get('resumable')).run!.step > stoppedAt);
});

test('only a training run with steps left can be continued', async () => {
  assert.deepEqual((await engine.models.get('speech-tilt')).run, { step: 4, totalSteps: 4 });
  assert.equal((await engine.models.get('tiny')).run, undefined);
  await assert.rejects(engine.continueTraining('speech-tilt'), /trained all its 4 steps/);
  await assert.rejects(engine.continueTraining('tiny'), /nothing to continue/);
  await assert.rejects(engine.continueTraining('missing'), /No model named/);
});

test('a data check of flat folders runs in the engine with progress, and a check can be cancelled', async () => {
  const data = { kind: 'folders' as const, folders: [{ path: folders.speech, class: 'speech' as const }, { path: folders.env, class: 'env' as const }] };
  const { jobId } = engine.checkData(data);
  const checked = await until(jobId, ['train-data-check', 'job-failed']);
  assert.equal(checked.type, 'train-data-check', JSON.stringify(checked));
  const { check } = checked as Extract<EngineEvent, { type: 'train-data-check' }>;
  assert.deepEqual(check.problems, []);
  assert.deepEqual(check.folders.map((f) => [f.kind, f.layout, f.clips]), [['speech', 'flat', 16], ['env', 'flat', 16]]);
  assert.deepEqual(check.skipped.map((s) => s.file.split('/').pop()).sort(), ['empty.wav', 'notes.txt']);
  assert.ok(events.some((e) => e.jobId === jobId && e.type === 'job-started' && e.kind === 'check'));
  const decoding = events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.jobId === jobId && e.type === 'progress');
  assert.ok(decoding.length > 0 && decoding.every((e) => e.kind === 'check' && e.stage === 'decoding'));

  const again = engine.checkData({ kind: 'folders', folders: [{ path: join(root, 'nowhere'), class: 'speech' }] });
  assert.equal(engine.cancel(again.jobId), true);
  const end = await until(again.jobId, ['job-cancelled', 'train-data-check', 'job-failed']);
  // The check may have finished before the cancel arrived; either way it ends, and a missing folder is named.
  if (end.type === 'train-data-check') assert.match(end.check.problems.join('\n'), /nowhere: no such folder/);
  else assert.equal(end.type, 'job-cancelled');
});

test('a run on built-in recordings not yet downloaded is refused until the user agrees, telling the size', async () => {
  const fresh = new Engine({
    modelsDir: join(root, 'models'), settingsFile: join(root, 'settings.json'), workDir: join(root, 'work-fresh'), exportDir: join(root, 'exports'),
    training: { corpus: 'ci', cacheDir: join(root, 'no-corpus-yet') },
  });
  try {
    await assert.rejects(fresh.train({ ...PARAMS, name: 'Needs download' }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'needs-download');
      assert.match(e.message, /not downloaded yet: \d+ MB in 3 packages/);
      return true;
    });
    assert.equal(await fresh.models.has('needs-download'), false, 'no model folder is left behind');
  } finally {
    await fresh.close();
  }
});
