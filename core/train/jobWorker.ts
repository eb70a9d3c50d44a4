// The training job side of the training worker: runs a Trainer off the caller's thread so UIs and
// servers never block, and answers pause, resume and cancel.
import type { MessagePort } from 'node:worker_threads';
import { initBackend, describeBackend } from '../backend';
import { parseTrainConfig } from './config';
import { Trainer } from './trainer';
import { mixtureSourceFor } from './data';
import { PROGRESS_INTERVAL_MS } from './protocol';
import type { FromTrainWorker, StartTraining, ToTrainWorker } from './protocol';

/**
 * Runs the job that `start` asks for, reporting on `port`; `script` is the training worker's module,
 * from which its gradient helpers start.
 */
export function runTrainingJob(port: MessagePort, start: StartTraining, script: URL): void {
  const post = (m: FromTrainWorker) => port.postMessage(m);
  const abort = new AbortController();
  // Announced once the trainer waits: a step split across gradient workers lets messages in while
  // it runs, and it finishes (and reports) before the run pauses.
  let paused: { resolve: () => void; promise: Promise<void>; announced: boolean } | null = null;

  function pause(): void {
    if (paused) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    paused = { resolve, promise, announced: false };
  }

  function resume(): void {
    if (!paused) return;
    paused.resolve();
    if (paused.announced) post({ type: 'resumed' });
    paused = null;
  }

  async function train(msg: StartTraining): Promise<void> {
    const config = parseTrainConfig(msg.config);
    const backend = await initBackend();
    const source = await mixtureSourceFor(config);
    const trainer = await Trainer.create(config, source, msg.runDir, { resume: msg.resume, workers: msg.workers, workerScript: script });
    try {
      post({
        type: 'started', backend: describeBackend(backend), params: trainer.model.paramCount(), workers: trainer.workers,
        step: trainer.trainerState.step, totalSteps: trainer.totalSteps,
      });
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
          while (paused && !abort.signal.aborted) {
            if (!paused.announced) post({ type: 'paused' });
            paused.announced = true;
            await paused.promise;
          }
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
        return post({ type: 'error', message: 'this worker already runs a training job' });
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
  train(start).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
}
