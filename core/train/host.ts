// Runs training, and the check of a run's data, in a worker thread and exposes each as a job: events,
// pause, resume, cancel.
import { startWorker } from '../worker';
import type { DataCheck } from './check';
import type { PhaseProgress } from './progress';
import type { FromCheckWorker, FromTrainWorker, StartDataCheck, ToCheckWorker, ToTrainWorker } from './protocol';
import type { WorkerCount } from './workerCount';

export interface TrainingJobOptions {
  /** Training config as JSON (validated in the worker; errors reject `done`). */
  config: unknown;
  runDir: string;
  resume?: boolean;
  /** Threads computing each step's gradients (default 'auto'; see WorkerCount). */
  workers?: WorkerCount;
  /** Scores the starting model before the first step of a new run (a 'baseline' message). */
  baseline?: boolean;
  /** Forces a backend in the worker (TILT_BACKEND). */
  backend?: string;
  /** The worker script; defaults to ./worker.ts next to this file (run through tsx). Bundled apps pass their built one. */
  workerUrl?: URL;
}

export type TrainingDone = Extract<FromTrainWorker, { type: 'done' }>;

export class TrainingJob {
  readonly done: Promise<TrainingDone>;
  private readonly worker;

  constructor(opts: TrainingJobOptions, private readonly onEvent: (m: FromTrainWorker) => void = () => {}) {
    const env = { ...process.env, ...(opts.backend ? { TILT_BACKEND: opts.backend } : {}) };
    this.worker = startWorker(opts.workerUrl ?? new URL('./worker.ts', import.meta.url), env);
    this.done = new Promise<TrainingDone>((resolve, reject) => {
      this.worker.on('message', (m: FromTrainWorker) => {
        this.onEvent(m);
        if (m.type === 'done') resolve(m);
        if (m.type === 'error') reject(new Error(m.message));
        if (m.type === 'done' || m.type === 'error') void this.worker.terminate();
      });
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => reject(new Error(`the training worker exited (code ${code})`)));
    });
    this.post({ type: 'start', config: opts.config, runDir: opts.runDir, resume: opts.resume ?? false, workers: opts.workers ?? 'auto', ...(opts.baseline ? { baseline: true } : {}) });
  }

  private post(m: ToTrainWorker): void {
    this.worker.postMessage(m);
  }

  pause(): void {
    this.post({ type: 'pause' });
  }

  resume(): void {
    this.post({ type: 'resume' });
  }

  /** Stops after the current step, saving a `last` checkpoint that `resume` continues from. */
  cancel(): void {
    this.post({ type: 'cancel' });
  }
}

export interface DataCheckOptions {
  /** A training config's `data` section as JSON (validated in the worker). */
  data: unknown;
  /** The training worker script (TrainingJob's default when absent). */
  workerUrl?: URL;
}

/** checkData in a worker thread: `done` is the check, or null when cancelled. */
export class DataCheckJob {
  readonly done: Promise<DataCheck | null>;
  private readonly worker;

  constructor(opts: DataCheckOptions, onPhase: (p: PhaseProgress) => void = () => {}) {
    this.worker = startWorker(opts.workerUrl ?? new URL('./worker.ts', import.meta.url));
    this.done = new Promise<DataCheck | null>((resolve, reject) => {
      this.worker.on('message', (m: FromCheckWorker) => {
        if (m.type === 'phase') return onPhase(m.progress);
        if (m.type === 'checked') resolve(m.check);
        else if (m.type === 'cancelled') resolve(null);
        else reject(new Error(m.message));
        void this.worker.terminate();
      });
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => reject(new Error(`the data check worker exited (code ${code})`)));
    });
    this.worker.postMessage({ type: 'check-data', data: opts.data } satisfies StartDataCheck);
  }

  /** Stops between files; `done` then resolves null. */
  cancel(): void {
    this.worker.postMessage({ type: 'cancel' } satisfies ToCheckWorker);
  }
}
