// Messages (plain data only) between a training host and its worker thread, and between that worker
// and its gradient helpers.
import type { BackendChoice } from '../backend';
import type { SudoRmRfConfig } from '../models/sudormrf';
import type { ReweightConfig, TrainingProgress } from '../reweighting';
import type { MixtureBatch } from '../types';
import type { EpochRecord, CheckpointKind } from './checkpoint';
import type { StepProgress, TrainOutcome } from './trainer';

/**
 * Threads that compute each step's gradients. 'auto': min(cores, batch size, 4) on the wasm backend
 * (one thread per worker); 1 on tfjs-node (natively multithreaded) and cpu.
 */
export type WorkerCount = number | 'auto';

const isWorkerCount = (w: unknown): w is WorkerCount => w === 'auto' || (Number.isInteger(w) && (w as number) >= 1);
const WORKERS_RULE = 'workers must be a whole number >= 1 or "auto"';

export function checkWorkerCount(workers: WorkerCount): void {
  if (!isWorkerCount(workers)) throw new Error(`${WORKERS_RULE} (got ${workers})`);
}

/** A worker count given as text (`--workers`). */
export function parseWorkerCount(text: string): WorkerCount {
  const workers = text === 'auto' ? 'auto' : Number(text);
  if (!isWorkerCount(workers)) throw new Error(`${WORKERS_RULE} (got "${text}")`);
  return workers;
}

export interface StartTraining {
  type: 'start';
  /** The training config as JSON; validated in the worker. */
  config: unknown;
  runDir: string;
  resume: boolean;
  workers: WorkerCount;
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
