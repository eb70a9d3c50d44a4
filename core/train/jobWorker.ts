// The training job side of the training worker: loads the data (download and decoding reported as
// phases with the time left), runs a Trainer off the caller's thread so UIs and servers never block,
// finishes the run (before/after scores, model card), and answers pause, resume and cancel in every phase.
import type { MessagePort } from 'node:worker_threads';
import { initBackend, describeBackend } from '../backend';
import { parseTrainConfig } from './config';
import { Trainer } from './trainer';
import type { TrainOutcome } from './trainer';
import { trainingData } from './data';
import type { TrainingData } from './data';
import { finishRun } from './finish';
import { PhaseClock, throttled } from './progress';
import { BASELINE_MAX_MIXTURES, PROGRESS_INTERVAL_MS } from './protocol';
import { scoreBatches, summarizeScores } from './metrics';
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

  const clock = new PhaseClock();
  const phase = throttled((progress) => post({ type: 'phase', progress }), PROGRESS_INTERVAL_MS);
  const cancelled = (runDir: string): FromTrainWorker => ({ type: 'done', outcome: 'cancelled', runDir, best: null, beforeAfter: null, card: null });

  async function train(msg: StartTraining): Promise<void> {
    const config = parseTrainConfig(msg.config);
    const backend = await initBackend();
    post({ type: 'status', message: 'loading the training data (a corpus is fetched and decoded on first use: this can take minutes)' });
    let data: TrainingData;
    try {
      data = await trainingData(config, {
        signal: abort.signal,
        onProgress: (p) => {
          const progress = clock.prepare(p);
          if (progress) phase(progress);
        },
      });
    } catch (e) {
      if (abort.signal.aborted) return post(cancelled(msg.runDir));
      throw e;
    }
    if (abort.signal.aborted) return post(cancelled(msg.runDir));
    const trainer = await Trainer.create(config, data.source, msg.runDir, { resume: msg.resume, workers: msg.workers, workerScript: script });
    let outcome: TrainOutcome;
    try {
      // The trainer has set the model up as its steps will see it: this is its validation at step 0.
      if (msg.baseline && trainer.trainerState.step === 0 && config.validation.mixtures <= BASELINE_MAX_MIXTURES) {
        phase(clock.at('baseline', 0, 'the starting model on the validation mixtures'));
        post({ type: 'baseline', validation: summarizeScores(scoreBatches(trainer.model, data.source.validation())) });
      }
      post({
        type: 'started', backend: describeBackend(backend), params: trainer.model.paramCount(), workers: trainer.workers,
        step: trainer.trainerState.step, totalSteps: trainer.totalSteps,
      });
      let lastProgress = 0;
      outcome = await trainer.run({
        progress: (progress) => {
          const { etaSeconds } = clock.at('training', progress.step / progress.totalSteps, '');
          const now = performance.now();
          if (now - lastProgress < PROGRESS_INTERVAL_MS && progress.step < progress.totalSteps) return;
          lastProgress = now;
          post({ type: 'progress', progress, etaSeconds });
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
            // Time spent paused is no part of the step rate.
            clock.restart();
          }
        },
      });
    } finally {
      trainer.dispose();
    }
    const state = trainer.trainerState;
    const end = await finishRun({
      runDir: msg.runDir, state, outcome, data, signal: abort.signal,
      onScoring: (f) => phase(clock.at('scoring', f, 'base and fine-tuned models on held-out mixtures')),
    });
    if (end.warning) post({ type: 'warning', message: end.warning });
    post({ type: 'done', outcome, runDir: msg.runDir, best: state.best, beforeAfter: end.beforeAfter, card: end.card });
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
