// Checkpoints: a model folder (model.json + weights.bin) whose metadata holds the trainer state,
// plus the optimizer's tensors. Each is written to a temporary folder and swapped into place with
// two renames; a crash anywhere leaves folders that recoverCheckpoints turns back into the newest
// complete checkpoint, so a crash or cancel never loses a checkpoint or leaves a half-written one.
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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
  /**
   * The unfinished epoch's sums so far, so that a run resumed mid-epoch reports the whole epoch.
   * Absent in checkpoints saved at an epoch's end and in older ones.
   */
  epochSoFar?: EpochSoFar;
  /** Non-finite steps in a row before the checkpoint (rollback counts them). Absent in older checkpoints. */
  consecutiveSkips?: number;
}

export interface EpochSoFar {
  loss: number;
  weightedLoss: number;
  steps: number;
  skippedSteps: number;
  seconds: number;
}

export const CHECKPOINT_KINDS = ['last', 'best'] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];

/**
 * Adam's running powers beta1^t and beta2^t. tfjs keeps them as float32 products and, on
 * setWeights, recomputes them as pow(beta, t): different in the last bits, which the bias
 * correction turns into different steps. Saved as they are, a resumed run continues bit for bit.
 */
interface AdamPowers { accBeta1: tf.Variable; accBeta2: tf.Variable }
const POWERS = ['accBeta1', 'accBeta2'] as const;
const POWER_PREFIX = 'power:';

function adamPowers(optimizer: tf.Optimizer): AdamPowers | null {
  const o = optimizer as unknown as Partial<AdamPowers>;
  return o.accBeta1 instanceof tf.Variable && o.accBeta2 instanceof tf.Variable ? (o as AdamPowers) : null;
}

/** Optimizer weights in order (tfjs restores Adam's moments by position), then Adam's running powers. */
export async function optimizerTensors(optimizer: tf.Optimizer): Promise<Record<string, Tensor>> {
  const named = await optimizer.getWeights();
  const powers = adamPowers(optimizer);
  return Object.fromEntries([
    ...named.map((w, i): [string, Tensor] => {
      // The step counter comes as a fresh int32 scalar; the weight files hold float32 (exact up to 2^24 steps).
      const tensor = w.name === 'iter' ? tf.tidy(() => tf.cast(w.tensor, 'float32')) : w.tensor;
      if (tensor !== w.tensor) w.tensor.dispose();
      return [`${String(i).padStart(5, '0')}:${w.name}`, tensor];
    }),
    ...(powers ? POWERS.map((k): [string, Tensor] => [`${POWER_PREFIX}${k}`, powers[k]]) : []),
  ]);
}

const LEFTOVER_SUFFIX = /^(?:tmp|old)-/;

/**
 * The step a checkpoint folder records, or null unless it is complete (each JSON file is written
 * after its weights; the optimizer's last, and only in resumable checkpoints).
 */
async function completeCheckpointStep(dir: string, resumable: boolean): Promise<number | null> {
  try {
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { metadata?: { training?: { step?: unknown } } };
    if (resumable) JSON.parse(await readFile(join(dir, 'optimizer.json'), 'utf8'));
    const step = json.metadata?.training?.step;
    return typeof step === 'number' ? step : null;
  } catch {
    return null;
  }
}

/**
 * Puts the newest complete checkpoint of `dir` back at `dir` after a crash during a save (a save
 * moves `dir` aside to `<dir>.old-*` before renaming `<dir>.tmp-*` into place) and removes the other
 * `<dir>.tmp-*` and `<dir>.old-*` folders. Nothing to do when no save was interrupted.
 */
export async function recoverCheckpoint(dir: string): Promise<void> {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.`;
  const names = await readdir(parent).catch(() => [] as string[]);
  const leftovers = names.filter((n) => n.startsWith(prefix) && LEFTOVER_SUFFIX.test(n.slice(prefix.length))).map((n) => join(parent, n));
  if (leftovers.length === 0) return;
  let newest: { path: string; step: number } | null = null;
  for (const path of [dir, ...leftovers]) {
    const step = existsSync(path) ? await completeCheckpointStep(path, basename(dir) === 'last') : null;
    if (step !== null && (newest === null || step > newest.step)) newest = { path, step };
  }
  if (newest && newest.path !== dir) {
    await rm(dir, { recursive: true, force: true });
    await rename(newest.path, dir);
  }
  for (const path of leftovers) if (path !== newest?.path) await rm(path, { recursive: true, force: true });
}

/** recoverCheckpoint for each kind of checkpoint of a run. */
export async function recoverCheckpoints(runDir: string): Promise<void> {
  for (const kind of CHECKPOINT_KINDS) await recoverCheckpoint(join(runDir, kind));
}

export async function saveCheckpoint(
  dir: string, model: SudoRmRf, optimizer: tf.Optimizer | null, state: TrainerState, card: Record<string, unknown> = {},
): Promise<void> {
  await recoverCheckpoint(dir);
  const stamp = `${process.pid}-${Date.now()}`;
  const tmp = `${dir}.tmp-${stamp}`;
  const weights = optimizer ? await optimizerTensors(optimizer) : {};
  try {
    await saveModel(model, tmp, { ...card, stems: state.stems, slots: state.config.slots, training: state });
    if (optimizer) await saveTensors(tmp, 'optimizer', weights);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    // getWeights returns the optimizer's live variables except `iter`, a fresh scalar.
    for (const [name, t] of Object.entries(weights)) if (name.endsWith(':iter')) t.dispose();
  }
  // Between these renames there is no `dir`: recoverCheckpoint finds the complete `tmp` and puts it there.
  const old = `${dir}.old-${stamp}`;
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
  const { model, metadata } = await loadModel(dir);
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
  const keys = Object.keys(tensors).sort();
  const ordered = keys.filter((k) => !k.startsWith(POWER_PREFIX)).map((key) => ({ name: key.slice(key.indexOf(':') + 1), tensor: tensors[key]! }));
  try {
    // setWeights copies these into new variables and does not dispose moments it already held:
    // restore only into a fresh optimizer.
    await optimizer.setWeights(ordered);
    // Checkpoints from before the powers were saved keep setWeights' recomputed ones.
    const powers = adamPowers(optimizer);
    for (const k of POWERS) {
      const saved = tensors[`${POWER_PREFIX}${k}`];
      if (powers && saved) powers[k].assign(saved);
    }
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
