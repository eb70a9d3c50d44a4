// Checkpoints: a model folder (model.json + weights.bin) whose metadata holds the trainer state,
// plus the optimizer's tensors. Each is written to a temporary folder and renamed into place, so
// a crash or cancel never leaves a half-written checkpoint.
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { tf } from '../tf';
import type { Tensor } from '../tf';
import { loadModel, loadTensors, saveModel, saveTensors } from '../models/io';
import type { SudoRmRf } from '../models/sudormrf';
import type { TrainConfig } from './config';
import type { EvaluationReport } from './metrics';
import type { SoundClass } from '../types';

export interface EpochRecord {
  epoch: number;
  /** Global steps done at the end of the epoch. */
  step: number;
  lr: number;
  /** Mean over the epoch's steps of the plain mean loss (negative SI-SDR, dB). */
  trainLoss: number;
  /** Mean of the reweighted objective sum p_i L_i. */
  weightedLoss: number;
  skippedSteps: number;
  seconds: number;
  validation: EvaluationReport;
}

export interface TrainerState {
  config: TrainConfig;
  /** Global optimisation steps done (skipped steps included: each consumed its batch). */
  step: number;
  lr: number;
  history: EpochRecord[];
  best: { epoch: number; siSdri: number } | null;
  /** Epochs since validation last improved (plateau schedule). */
  sinceImprovement: number;
  rollbacks: number;
  /** Which class each model output carries (speech / env), from validation. */
  stems: SoundClass[] | null;
  wallSeconds: number;
}

export const CHECKPOINT_KINDS = ['last', 'best'] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];

/** Optimizer weights in order (tfjs restores Adam's moments by position). */
export async function optimizerTensors(optimizer: tf.Optimizer): Promise<Record<string, Tensor>> {
  const named = await optimizer.getWeights();
  return Object.fromEntries(named.map((w, i) => {
    // The step counter comes as a fresh int32 scalar; the weight files hold float32 (exact up to 2^24 steps).
    const tensor = w.name === 'iter' ? tf.tidy(() => tf.cast(w.tensor, 'float32')) : w.tensor;
    if (tensor !== w.tensor) w.tensor.dispose();
    return [`${String(i).padStart(5, '0')}:${w.name}`, tensor];
  }));
}

export async function saveCheckpoint(
  dir: string, model: SudoRmRf, optimizer: tf.Optimizer, state: TrainerState, card: Record<string, unknown> = {},
): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const weights = await optimizerTensors(optimizer);
  try {
    await saveModel(model, tmp, { ...card, stems: state.stems, training: state });
    await saveTensors(tmp, 'optimizer', weights);
  } finally {
    // getWeights returns the optimizer's live variables except `iter`, a fresh scalar.
    for (const [name, t] of Object.entries(weights)) if (name.endsWith(':iter')) t.dispose();
  }
  const old = `${dir}.old-${process.pid}-${Date.now()}`;
  if (existsSync(dir)) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

export function trainerStateOf(metadata: Record<string, unknown> | undefined, dir: string): TrainerState {
  const state = metadata?.training as TrainerState | undefined;
  if (!state || typeof state.step !== 'number' || !state.config) throw new Error(`${dir} is a model, not a training checkpoint (no trainer state)`);
  return state;
}

/** Loads a checkpoint's model and state; restores the optimizer when one is given. */
export async function loadCheckpoint(dir: string, optimizer?: tf.Optimizer): Promise<{ model: SudoRmRf; state: TrainerState }> {
  const { model, metadata } = await loadModel(dir, undefined, { exact: true });
  try {
    const state = trainerStateOf(metadata, dir);
    if (optimizer) await restoreOptimizer(dir, optimizer);
    return { model, state };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export async function restoreOptimizer(dir: string, optimizer: tf.Optimizer): Promise<void> {
  const tensors = await loadTensors(dir, 'optimizer');
  const ordered = Object.keys(tensors).sort().map((key) => ({ name: key.slice(key.indexOf(':') + 1), tensor: tensors[key]! }));
  try {
    // setWeights copies these into new variables and does not dispose moments it already held:
    // restore only into a fresh optimizer.
    await optimizer.setWeights(ordered);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
