// Messages (plain data only) between a training host and its worker thread, and between that worker
// and its gradient helpers.
import type { BackendChoice } from '../backend';
import type { SudoRmRfConfig } from '../models/sudormrf';
import type { ReweightConfig, TrainingProgress } from '../reweighting';
import type { MixtureBatch } from '../types';
import type { EpochRecord, CheckpointKind } from './checkpoint';
import type { EvaluationReport } from './metrics';
import type { SlotAssignment } from './step';
import type { StepProgress, TrainOutcome } from './trainer';
import type { PhaseProgress } from './progress';
import type { BeforeAfterSummary } from './beforeAfter';
import type { DataCheck } from './check';
import type { WorkerCount } from './workerCount';

export interface StartTraining {
  type: 'start';
  /** The training config as JSON; validated in the worker. */
  config: unknown;
  runDir: string;
  resume: boolean;
  workers: WorkerCount;
  /** Score the starting model on the validation mixtures before the first step of a new run (see BASELINE_MAX_MIXTURES). */
  baseline?: boolean;
}

export type ToTrainWorker = StartTraining | { type: 'pause' } | { type: 'resume' } | { type: 'cancel' };

export interface TrainingStarted {
  type: 'started';
  backend: string;
  params: number;
  /** Threads computing each step's gradients. */
  workers: number;
  step: number;
  totalSteps: number;
}

export type FromTrainWorker =
  /** Work before the first step that can take minutes (fetching and decoding a corpus on first use). */
  | { type: 'status'; message: string }
  /** Downloading and decoding the data before training, scoring before/after at the end. */
  | { type: 'phase'; progress: PhaseProgress }
  | TrainingStarted
  /** `etaSeconds`: time left in training, from the step rate since the run (re)started. */
  | { type: 'progress'; progress: StepProgress; etaSeconds: number | null }
  | { type: 'epoch'; record: EpochRecord }
  /** The starting model's validation, before the first step (asked for with `baseline`). */
  | { type: 'baseline'; validation: EvaluationReport }
  | { type: 'checkpoint'; kind: CheckpointKind; dir: string }
  | { type: 'warning'; message: string }
  | { type: 'paused' }
  | { type: 'resumed' }
  | {
    type: 'done'; outcome: TrainOutcome; runDir: string; best: { epoch: number; siSdri: number } | null;
    /** A finished fine-tune's scores on held-out mixtures, base model against tuned; null otherwise. */
    beforeAfter: BeforeAfterSummary | null;
    /** The model card written with the run's model; null when the run stopped before its first checkpoint. */
    card: string | null;
  }
  | { type: 'error'; message: string };

/** The first message to a thread started from the training worker's script that checks a data section. */
export interface StartDataCheck {
  type: 'check-data';
  /** A training config's `data` section as JSON; validated in the worker. */
  data: unknown;
}

export type ToCheckWorker = { type: 'cancel' };

export type FromCheckWorker =
  | { type: 'phase'; progress: PhaseProgress }
  | { type: 'checked'; check: DataCheck }
  | { type: 'cancelled' }
  | { type: 'error'; message: string };

/**
 * A baseline costs one validation pass before the first step, as long as a validation after an epoch:
 * it is scored only when validation is this small (the app's default), so it never holds up a run long.
 */
export const BASELINE_MAX_MIXTURES = 64;

/** Progress events go out at most this often (the last step of a run always does). */
export const PROGRESS_INTERVAL_MS = 250;

/** The first message to a thread started from the training worker's script: makes it a gradient helper. */
export interface StartGradientHelper {
  type: 'gradient-helper';
  /** The coordinator's backend: replicas must compute alike. */
  backend: BackendChoice;
  model: SudoRmRfConfig;
  gradientCheckpointing: boolean | 'auto';
  reweighting: ReweightConfig;
  /** The coordinator's weights (float32, its variables in order), rewritten before each step. */
  weights: SharedArrayBuffer;
}

/** One shard of a step's batch; the weights and the rest of the batch are the coordinator's. */
export interface ShardRequest {
  type: 'shard';
  shard: Omit<MixtureBatch, 'labels'>;
  /** Index of the shard's first mixture in the batch. */
  offset: number;
  /** The whole batch's. */
  classes: MixtureBatch['classes'];
  mixtureTypes: MixtureBatch['mixtureTypes'];
  progress: TrainingProgress;
  slots: SlotAssignment | undefined;
  mixtureConsistency: boolean | undefined;
  /** Where the shards' losses meet (see core/train/parallel.ts). */
  exchange: SharedArrayBuffer;
  workers: number;
}

export type FromGradientHelper =
  | { type: 'ready' }
  /** Float32, the model's variables in order; null when a loss was not finite. */
  | { type: 'gradients'; grads: Float32Array | null }
  /** secondary: it stopped because another thread failed. */
  | { type: 'error'; message: string; secondary: boolean };
