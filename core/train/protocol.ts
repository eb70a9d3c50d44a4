// Messages between a training host and its worker thread. Plain data only.
import type { EpochRecord, CheckpointKind } from './checkpoint';
import type { StepProgress, TrainOutcome } from './trainer';

export interface StartTraining {
  type: 'start';
  /** The training config as JSON; validated in the worker. */
  config: unknown;
  runDir: string;
  resume: boolean;
}

export type ToTrainWorker = StartTraining | { type: 'pause' } | { type: 'resume' } | { type: 'cancel' };

export interface TrainingStarted {
  type: 'started';
  backend: string;
  params: number;
  step: number;
  totalSteps: number;
}

export type FromTrainWorker =
  | TrainingStarted
  | { type: 'progress'; progress: StepProgress }
  | { type: 'epoch'; record: EpochRecord }
  | { type: 'checkpoint'; kind: CheckpointKind; dir: string }
  | { type: 'warning'; message: string }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'done'; outcome: TrainOutcome; runDir: string; best: { epoch: number; siSdri: number } | null }
  | { type: 'error'; message: string };

/** Progress events go out at most this often (the last step of a run always does). */
export const PROGRESS_INTERVAL_MS = 250;
