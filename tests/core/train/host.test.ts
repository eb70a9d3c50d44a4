import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainingJob } from '../../../core/train/host';
import type { FromTrainWorker } from '../../../core/train/protocol';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';

const config = {
  name: 'worker',
  model: { preset: '0.25x', overrides: { nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 } },
  data: { corpus: 'ci', cacheDir: TEST_AUDIO_DIR, segmentSeconds: 0.5 },
  batchSize: 2,
  epochs: 50,
  stepsPerEpoch: 4,
  validation: { mixtures: 2, batchSize: 2 },
  reweighting: [{ class: { speech: 3, env: 0 } }],
};

let workDir: string;
before(async () => {
  await ensureTestAudio();
  workDir = await mkdtemp(join(tmpdir(), 'tilt-host-'));
  process.on('exit', () => void rm(workDir, { recursive: true, force: true }));
});

function waitFor(events: FromTrainWorker[], pred: (m: FromTrainWorker) => boolean, listeners: (() => void)[]): Promise<FromTrainWorker> {
  return new Promise((resolve) => {
    const check = () => {
      const hit = events.find(pred);
      if (hit) resolve(hit);
      else listeners.push(check);
    };
    check();
  });
}

test('a worker-thread training job over 2 gradient workers reports progress with weight diagnostics, pauses, resumes and cancels to a checkpoint', async () => {
  const events: FromTrainWorker[] = [];
  const listeners: (() => void)[] = [];
  const runDir = join(workDir, 'run');
  const job = new TrainingJob({ config, runDir, workers: 2 }, (m) => {
    events.push(m);
    listeners.splice(0).forEach((l) => l());
  });
  const started = await waitFor(events, (m) => m.type === 'started', listeners);
  assert.ok(started.type === 'started' && started.totalSteps === 200 && started.params > 0 && /wasm|tfjs-node|cpu/.test(started.backend));
  assert.equal(started.workers, 2);
  const progress = await waitFor(events, (m) => m.type === 'progress', listeners);
  assert.ok(progress.type === 'progress');
  const d = progress.progress.diagnostics!;
  // gamma speech = 3 on speech+env mixtures: every mixture has the same classes, so weights stay uniform.
  assert.ok(Math.abs(d.effectiveBatchSize - 2) < 1e-9 && Math.abs(d.entropy - Math.log(2)) < 1e-9);
  await waitFor(events, (m) => m.type === 'epoch', listeners);
  job.pause();
  await waitFor(events, (m) => m.type === 'paused', listeners);
  const countAtPause = events.filter((m) => m.type === 'progress').length;
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(events.filter((m) => m.type === 'progress').length, countAtPause, 'no steps while paused');
  job.resume();
  await waitFor(events, (m) => m.type === 'resumed', listeners);
  job.cancel();
  const done = await job.done;
  assert.equal(done.outcome, 'cancelled');
  assert.ok(existsSync(join(runDir, 'last', 'model.json')));
  assert.ok(events.some((m) => m.type === 'checkpoint' && m.kind === 'best'));
});

test('a bad config fails the job with the field named', async () => {
  const job = new TrainingJob({ config: { ...config, batchSize: -1 }, runDir: join(workDir, 'bad') });
  await assert.rejects(job.done, /batchSize must be an integer|batchSize must be >= 1/);
});
