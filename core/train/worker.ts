// The training worker: runs a Trainer off the caller's thread so UIs and servers never block.
import { parentPort } from 'node:worker_threads';
import { initBackend, describeBackend } from '../backend';
import { parseTrainConfig } from './config';
import { Trainer } from './trainer';
import { mixtureSourceFor } from './data';
import { PROGRESS_INTERVAL_MS } from './protocol';
import type { FromTrainWorker, StartTraining, ToTrainWorker } from './protocol';

const port = parentPort;
if (!port) throw new Error('core/train/worker.ts runs as a worker thread');
const post = (m: FromTrainWorker) => port.postMessage(m);

const abort = new AbortController();
let paused: { resolve: () => void; promise: Promise<void> } | null = null;
let started = false;

function pause(): void {
  if (paused) return;
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  paused = { resolve, promise };
  post({ type: 'paused' });
}

function resume(): void {
  if (!paused) return;
  paused.resolve();
  paused = null;
  post({ type: 'resumed' });
}

async function train(msg: StartTraining): Promise<void> {
  const config = parseTrainConfig(msg.config);
  const backend = await initBackend();
  const source = await mixtureSourceFor(config);
  const trainer = await Trainer.create(config, source, msg.runDir, { resume: msg.resume });
  try {
    post({ type: 'started', backend: describeBackend(backend), params: trainer.model.paramCount(), step: trainer.trainerState.step, totalSteps: trainer.totalSteps });
    let lastProgress = 0;
    const outcome = await trainer.run({
      progress: (progress) => {
        const now = performance.now();
        if (now - lastProgress < PROGRESS_INTERVAL_MS && progress.step < progress.totalSteps) return;
        lastProgress = now;
        post({ type: 'progress', progress });
      },
      epoch: (record) => post({ type: 'epoch', record }),
      checkpoint: (kind, dir) => post({ type: 'checkpoint', kind, dir }),
      warning: (message) => post({ type: 'warning', message }),
    }, {
      signal: abort.signal,
      waitWhilePaused: async () => {
        while (paused && !abort.signal.aborted) await paused.promise;
      },
    });
    post({ type: 'done', outcome, runDir: msg.runDir, best: trainer.trainerState.best });
  } finally {
    trainer.dispose();
  }
}

port.on('message', (msg: ToTrainWorker) => {
  switch (msg.type) {
    case 'start':
      if (started) return post({ type: 'error', message: 'this worker already runs a training job' });
      started = true;
      train(msg).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
      return;
    case 'pause':
      return pause();
    case 'resume':
      return resume();
    case 'cancel':
      abort.abort();
      // A paused run must wake up to save its checkpoint and stop.
      paused?.resolve();
      paused = null;
      return;
  }
});
