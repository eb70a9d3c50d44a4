/// <reference types="svelte" />
// (The reference declares the runes the state modules use, for tsc.)
// The Train view's state: how each engine event moves a run's phase, curves, checkpoints and errors;
// how a data check settles (its result may overtake the reply naming its job); how Start goes from the
// check to the download question to the run; and the settings kept across reloads. The API is a fake
// handed in through app.connect, as the shells hand in theirs.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import '../svelte-loader.mjs';
import { FakeApi, nextTurn, installStorage } from './fakes';
import type { BeforeAfterSummary, CheckpointInfo, DataCheck, EngineEvent, TrainingSnapshot, ValidationMetrics, WeightsDiagnostics } from '../../../app/contract';

const storage = installStorage({ 'tilt:train-settings': { name: 'my-speech-tilt', steps: 500, robust: { on: true, alpha: 0.5 } } });
const { app } = await import('../../../renderer/src/state/app.svelte');
const { training } = await import('../../../renderer/src/state/train.svelte');

const api = new FakeApi().on('train:continue', ({ modelId }) => {
  if (modelId === 'gone') throw new Error('No run gone in the models folder');
  return { jobId: `job-${modelId}`, modelId };
});
app.connect(api);

/** Follows a fresh run of model `modelId` (job `job-<modelId>`), as Train's Continue starts one. */
async function follow(modelId: string, totalSteps = 100): Promise<string> {
  await training.continueRun(modelId, totalSteps, 0);
  return `job-${modelId}`;
}

const weights = (entropy: number, effectiveBatchSize: number): WeightsDiagnostics => ({
  units: 4, entropy, effectiveBatchSize, maxWeight: 0.4, classMass: { speech: 0.5, env: 0.5 }, mixtureTypeMass: { 'speech+env': 1, 'speech+speech': 0, 'env+env': 0 },
});
const stepEvent = (jobId: string, step: number, loss: number, w: WeightsDiagnostics | null): EngineEvent =>
  ({ type: 'train-step', jobId, step, totalSteps: 100, loss, lr: 1e-3, weights: w, ...(w ? {} : { skipped: 'non-finite loss' }) });
const metrics = (perClass: ValidationMetrics['perClass']): ValidationMetrics => ({ mean: 7, std: 2, perClass, perMixtureType: {}, percentiles: { 50: 7 } });
const checkpoint = (kind: CheckpointInfo['kind'], step: number): CheckpointInfo => ({ kind, step, dir: `/runs/r/${kind}`, modelId: `r@${kind}` });
const dataCheck = (over: Partial<DataCheck> = {}): DataCheck => ({
  folders: [], corpus: null, clips: { speech: { train: 9, validation: 2, test: 2 }, env: { train: 9, validation: 2, test: 2 } },
  hours: { speech: { train: 1, validation: 0.2, test: 0.2 }, env: { train: 1, validation: 0.2, test: 0.2 } }, skipped: [], heldOutSplit: 'test', problems: [], notes: [], ...over,
});

test('settings saved by an earlier session come back at start, and a change is saved again', async () => {
  assert.equal(training.name, 'my-speech-tilt');
  assert.equal(training.steps, 500);
  assert.deepEqual(training.terms, [{ robust: { alpha: 0.5 } }]);
  training.steps = 800;
  await nextTurn();
  assert.equal(JSON.parse(storage.getItem('tilt:train-settings')!).steps, 800);
});

test('step events move the step and extend the curves; a skipped step moves only the step; other jobs change nothing', async () => {
  const job = await follow('steps');
  assert.equal(training.status, 'running');
  assert.equal(training.active, true);
  training.handle(stepEvent(job, 1, -5, weights(1.3, 3.5)));
  training.handle(stepEvent(job, 2, -6, weights(1.2, 3.1)));
  training.handle(stepEvent(job, 3, NaN, null));
  training.handle(stepEvent('job-someone-else', 50, -9, weights(1, 1)));
  assert.equal(training.step, 3);
  assert.deepEqual(training.loss, [{ step: 1, value: -5 }, { step: 2, value: -6 }]);
  assert.deepEqual(training.entropy, [{ step: 1, value: 1.3 }, { step: 2, value: 1.2 }]);
  assert.deepEqual(training.effectiveBatch, [{ step: 1, value: 3.5 }, { step: 2, value: 3.1 }]);
  assert.deepEqual(training.lastWeights, { step: 2, weights: weights(1.2, 3.1) });
});

test('progress sets the phase, train-state pauses and resumes, and done ends the run with its checkpoints and scores', async () => {
  const job = await follow('phases');
  training.handle({ type: 'progress', jobId: job, kind: 'train', stage: 'decoding', fraction: 0.25, etaSec: 40 });
  assert.deepEqual(training.phase, { stage: 'decoding', fraction: 0.25, etaSec: 40 });
  training.handle({ type: 'progress', jobId: job, kind: 'train', stage: 'training', fraction: null });
  assert.deepEqual(training.phase, { stage: 'training', fraction: null });
  training.handle({ type: 'train-state', jobId: job, state: 'paused' });
  assert.equal(training.status, 'paused');
  assert.equal(training.active, true);
  training.handle({ type: 'train-state', jobId: job, state: 'running' });
  assert.equal(training.status, 'running');
  const beforeAfter: BeforeAfterSummary = { split: 'test', clips: { speech: 2, env: 2 }, mixtures: 8, rows: [{ label: 'overall', count: 8, before: 7.9, after: 8.7 }] };
  const saved = [checkpoint('best', 80), checkpoint('last', 100)];
  training.handle({ type: 'train-done', jobId: job, checkpoints: saved, modelId: 'phases', beforeAfter });
  assert.equal(training.status, 'done');
  assert.equal(training.active, false);
  assert.equal(training.phase, null);
  assert.deepEqual(training.checkpoints, saved);
  assert.deepEqual(training.beforeAfter, beforeAfter);
});

test('a checkpoint replaces the one of its kind, and the one saved on cancel moves the step to where the run stopped', async () => {
  const job = await follow('checkpoints');
  training.handle({ type: 'train-checkpoint', jobId: job, checkpoint: checkpoint('best', 100) });
  training.handle({ type: 'train-checkpoint', jobId: job, checkpoint: checkpoint('last', 100) });
  training.handle({ type: 'train-checkpoint', jobId: job, checkpoint: checkpoint('best', 200) });
  assert.deepEqual(training.checkpoints, [checkpoint('last', 100), checkpoint('best', 200)]);
  assert.equal(training.step, 200);
  training.handle({ type: 'train-checkpoint', jobId: job, checkpoint: checkpoint('last', 150) });
  assert.equal(training.step, 200, 'an older checkpoint does not move the step back');
  training.handle({ type: 'progress', jobId: job, kind: 'train', stage: 'training', fraction: 0.5 });
  training.handle({ type: 'job-cancelled', jobId: job, kind: 'train' });
  assert.equal(training.status, 'cancelled');
  assert.equal(training.phase, null);
});

test('validations chart per class, and a validation replayed by a continued run is not charted twice', async () => {
  const job = await follow('validations');
  training.handle({ type: 'train-validation', jobId: job, step: 0, metrics: metrics({ speech: 6, env: 4 }) });
  training.handle({ type: 'train-validation', jobId: job, step: 100, metrics: metrics({ speech: 8 }) });
  training.handle({ type: 'train-validation', jobId: job, step: 0, metrics: metrics({ speech: 6, env: 4 }) });
  assert.deepEqual(training.valPerClass, { speech: [{ step: 0, value: 6 }, { step: 100, value: 8 }], env: [{ step: 0, value: 4 }] });
  assert.deepEqual(training.lastValidation, metrics({ speech: 6, env: 4 }));
});

test('a failed run shows the engine\'s error; a warning is a toast that goes after 6 s', async () => {
  const job = await follow('failing');
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    training.handle({ type: 'train-warning', jobId: job, message: 'validation took 40 s' });
    assert.deepEqual(app.toasts.map((t) => [t.kind, t.message]), [['info', 'validation took 40 s']]);
    mock.timers.tick(5999);
    assert.equal(app.toasts.length, 1);
    mock.timers.tick(1);
    assert.equal(app.toasts.length, 0);
  } finally {
    mock.timers.reset();
  }
  training.handle({ type: 'progress', jobId: job, kind: 'train', stage: 'training', fraction: 0.1 });
  training.handle({ type: 'job-failed', jobId: job, kind: 'train', error: { message: 'out of memory', code: 'internal' } });
  assert.equal(training.status, 'failed');
  assert.equal(training.error, 'out of memory');
  assert.equal(training.phase, null);
});

test('continuing the run on screen keeps its curves up to the checkpoint it continues from; another run starts blank', async () => {
  const job = await follow('resumed');
  for (let s = 1; s <= 4; s++) training.handle(stepEvent(job, s, -s, weights(1, 2)));
  training.handle({ type: 'train-validation', jobId: job, step: 2, metrics: metrics({ speech: 8 }) });
  training.handle({ type: 'train-checkpoint', jobId: job, checkpoint: checkpoint('last', 2) });
  await training.continueRun('resumed', 100, 2);
  assert.deepEqual(training.loss.map((p) => p.step), [1, 2]);
  assert.deepEqual(training.entropy.map((p) => p.step), [1, 2]);
  // Validations and checkpoints come again from the engine's replay.
  assert.deepEqual(training.valPerClass, {});
  assert.deepEqual(training.checkpoints, []);
  assert.equal(training.step, 0);
  assert.equal(training.jobId, 'job-resumed');
  await training.continueRun('another', 100, 2);
  assert.deepEqual(training.loss, []);
});

test('a run that cannot start is failed with the reason', async () => {
  await training.continueRun('gone', 100, 0);
  assert.equal(training.status, 'failed');
  assert.equal(training.error, 'No run gone in the models folder');
});

test('a reloaded page takes in the run going with its curves, and lets go of it once the engine has none', () => {
  const snapshot: TrainingSnapshot = {
    jobId: 'job-going', modelId: 'going', label: 'going', state: 'paused', step: 300, totalSteps: 1000,
    phase: { stage: 'training', fraction: 0.3 }, loss: [{ step: 300, value: -7 }], entropy: [{ step: 300, value: 1.1 }], effectiveBatch: [{ step: 300, value: 2.8 }],
    validations: [{ step: 0, metrics: metrics({ speech: 6, env: 4 }) }, { step: 200, metrics: metrics({ speech: 8, env: 5 }) }],
    checkpoints: [checkpoint('best', 200)], lastWeights: weights(1.1, 2.8),
  };
  training.restore(snapshot);
  assert.equal(training.status, 'paused');
  assert.equal(training.runModelId, 'going');
  assert.deepEqual([training.step, training.totalSteps], [300, 1000]);
  assert.deepEqual(training.valPerClass, { speech: [{ step: 0, value: 6 }, { step: 200, value: 8 }], env: [{ step: 0, value: 4 }, { step: 200, value: 5 }] });
  assert.deepEqual(training.lastValidation, metrics({ speech: 8, env: 5 }));
  assert.deepEqual(training.lastWeights, { step: 300, weights: weights(1.1, 2.8) });
  training.handle(stepEvent('job-going', 301, -7.5, weights(1, 2.5)));
  assert.deepEqual(training.loss, [{ step: 300, value: -7 }, { step: 301, value: -7.5 }]);

  training.restore(null);
  assert.equal(training.status, 'idle');
  assert.equal(training.phase, null);
  assert.match(training.error!, /ended while this page was not connected/);
  training.error = null;
  training.restore(null);
  assert.equal(training.error, null, 'a run no longer followed is let go of once');
});

test('a data check settles with its job\'s result, even one that overtakes the reply naming the job; others\' checks do not count', async () => {
  const check = dataCheck();
  api.on('train:check', () => ({ jobId: 'chk-1' }));
  training.dataKind = 'corpus';
  const phaseBefore = training.phase;
  const checking = training.runCheck();
  assert.deepEqual(training.checking, { stage: 'checking', fraction: null });
  await nextTurn();
  training.handle({ type: 'progress', jobId: 'chk-1', kind: 'check', stage: 'decoding', fraction: 0.5, etaSec: 3 });
  training.handle({ type: 'progress', jobId: 'chk-other', kind: 'check', stage: 'listing', fraction: 0.9 });
  assert.deepEqual(training.checking, { stage: 'decoding', fraction: 0.5, etaSec: 3 });
  assert.equal(training.phase, phaseBefore, 'a check is not the run');
  training.handle({ type: 'train-data-check', jobId: 'chk-other', check: dataCheck({ problems: ['not ours'] }) });
  training.handle({ type: 'train-data-check', jobId: 'chk-1', check });
  assert.deepEqual(await checking, check);
  assert.equal(training.checking, null);
  assert.equal(training.checkCurrent, true);
  training.dataKind = 'folders';
  assert.equal(training.checkCurrent, false, 'a check of other data does not count');

  const early = dataCheck({ notes: ['early'] });
  api.on('train:check', () => {
    training.handle({ type: 'train-data-check', jobId: 'chk-2', check: early });
    return { jobId: 'chk-2' };
  });
  assert.deepEqual(await training.runCheck(), early);
  assert.equal(training.checkCurrent, true);
});

test('a check that fails shows the engine\'s error, and Cancel cancels the check going, which then settles as nothing', async () => {
  api.on('train:check', () => ({ jobId: 'chk-3' }));
  const failing = training.runCheck();
  await nextTurn();
  training.handle({ type: 'job-failed', jobId: 'chk-3', kind: 'check', error: { message: 'No folder ~/voices', code: 'not-found' } });
  assert.equal(await failing, null);
  assert.equal(training.checkError, 'No folder ~/voices');

  api.on('train:check', () => ({ jobId: 'chk-4' })).on('job:cancel', () => ({ cancelled: true }));
  const cancelled = training.runCheck();
  assert.equal(training.checkError, null);
  await nextTurn();
  await training.control('cancel');
  assert.deepEqual(api.argsOf('job:cancel').at(-1), { jobId: 'chk-4' });
  training.handle({ type: 'job-cancelled', jobId: 'chk-4', kind: 'check' });
  assert.equal(await cancelled, null);
  assert.equal(training.checking, null);
  assert.equal(training.checkError, null);
});

test('Start stops at the check\'s problems, asks before a download, and starts the run once the download is agreed', async () => {
  let next: DataCheck = dataCheck({ corpus: { set: 'ci', ready: false, download: { packages: ['a', 'b', 'c'], mb: 55 } } });
  let checks = 0;
  api.on('train:check', () => {
    const jobId = `start-check-${++checks}`;
    training.handle({ type: 'train-data-check', jobId, check: next });
    return { jobId };
  }).on('train:start', (p) => ({ jobId: 'job-started', modelId: p.name }));
  training.dataKind = 'corpus';
  training.check = null;

  await training.start();
  assert.deepEqual(training.askDownload, { mb: 55, packages: 3 });
  assert.equal(api.argsOf('train:start').length, 0);
  await training.agreeDownload();
  assert.equal(checks, 1, 'the check on screen is of this data: it is not run again');
  const started = api.argsOf('train:start');
  assert.equal(started.length, 1);
  assert.equal(started[0]!.download, true);
  assert.deepEqual(started[0]!.reweighting, training.terms);
  assert.deepEqual(started[0]!.data, { kind: 'corpus' });
  assert.equal(started[0]!.steps, training.steps);
  assert.deepEqual([training.status, training.jobId, training.runModelId, training.askDownload], ['running', 'job-started', training.name, null]);

  next = dataCheck({ problems: ['No environmental clips for validation'] });
  training.folders = [{ path: '/data/voices', class: 'speech' }];
  training.dataKind = 'folders';
  await training.start();
  assert.equal(checks, 2);
  assert.match(training.error!, /found problems/);
  assert.equal(api.argsOf('train:start').length, 1, 'no run starts on data with problems');
});
