// Training runs behind the engine: maps the Train view's parameters to a training config, runs it as
// a core/train TrainingJob in the run's folder inside the models folder (so its checkpoints are
// models as soon as they exist) and turns the trainer's messages into engine events.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrainingJob } from '../train/host';
import { trainConfigJson } from '../train/config';
import { recoverCheckpoints, trainerStateOf } from '../train/checkpoint';
import type { TrainerState } from '../train/checkpoint';
import type { FromTrainWorker } from '../train/protocol';
import type { EvaluationReport } from '../train/metrics';
import type { Granularity } from '../reweighting';
import type { JobPhase } from '../train/progress';
import type {
  BeforeAfterSummary, CheckpointInfo, EngineEvent, ReweightTerm, SeriesPoint, TrainData, TrainingSnapshot, TrainParams, ValidationMetrics,
} from './types';
import { EngineError } from './errors';
import { META_FILE, mergeMeta } from './models';
import { readJsonObject } from '../io/fs';

export interface TrainingDefaults {
  /** Built-in corpus for `data: { kind: 'corpus' }` (default 'full'). */
  corpus?: 'ci' | 'full';
  /** Corpus cache folder (default: the data module's cache). */
  cacheDir?: string;
  /** Validation set size (default 64 mixtures, in batches of 8). */
  validation?: { mixtures: number; batchSize: number };
}

/**
 * A batch of speech+env mixtures holds the same classes in every mixture, so a class bias weighs
 * sources (moving weight between the stems inside each mixture); other terms weigh mixtures.
 */
export function granularityFor(terms: readonly ReweightTerm[]): Granularity {
  return terms.some((t) => 'class' in t) ? 'source' : 'mixture';
}

/** The data section of a run's config (JSON) for the Train view's choice of data. */
export function dataConfigFor(data: TrainData, defaults: TrainingDefaults = {}): Record<string, unknown> {
  if (data.kind === 'corpus') return { corpus: defaults.corpus ?? 'full', cacheDir: defaults.cacheDir ?? null };
  if (data.folders.length === 0) throw new EngineError('Add at least one folder of training audio (or use the built-in recordings)', 'bad-input');
  return {
    corpus: null,
    speechDirs: data.folders.filter((f) => f.class === 'speech').map((f) => f.path),
    envDirs: data.folders.filter((f) => f.class === 'env').map((f) => f.path),
  };
}

/**
 * The training config for a run: fine-tunes the base model folder, validates (and checkpoints) every
 * `validateEvery` steps, so an epoch is `validateEvery` steps and the run covers at least `steps`.
 */
export function trainConfigFor(p: TrainParams, baseModelDir: string, runName: string, defaults: TrainingDefaults = {}): Record<string, unknown> {
  if (!Number.isInteger(p.steps) || p.steps < 1) throw new EngineError(`Steps must be a whole number of at least 1 (got ${p.steps})`, 'bad-input');
  if (!Number.isInteger(p.validateEvery) || p.validateEvery < 1) throw new EngineError(`"Validate every" must be a whole number of at least 1 (got ${p.validateEvery})`, 'bad-input');
  const validateEvery = Math.min(p.validateEvery, p.steps);
  const data = dataConfigFor(p.data, defaults);
  return {
    name: runName,
    seed: p.seed,
    model: { from: baseModelDir },
    data: { ...data, segmentSeconds: p.segmentSec },
    batchSize: p.batchSize,
    epochs: Math.ceil(p.steps / validateEvery),
    stepsPerEpoch: validateEvery,
    optimizer: { lr: p.lr },
    reweighting: { granularity: granularityFor(p.reweighting), terms: p.reweighting },
    ...(defaults.validation ? { validation: { ...defaults.validation, seed: 1234 } } : {}),
  };
}

export function validationMetrics(r: EvaluationReport): ValidationMetrics {
  const perMixtureType: ValidationMetrics['perMixtureType'] = {};
  for (const [t, s] of Object.entries(r.byMixtureType)) if (s) perMixtureType[t as keyof typeof perMixtureType] = s.mean;
  return {
    mean: r.overall.mean,
    std: r.overall.std,
    perClass: { speech: r.byClass.speech.mean, env: r.byClass.env.mean },
    perMixtureType,
    percentiles: Object.fromEntries(Object.entries(r.overall.p).map(([k, v]) => [String(k), v])),
  };
}

/** Reads the step (and best SI-SDRi) a checkpoint folder records in its trainer state. */
async function checkpointInfo(kind: 'best' | 'last', dir: string, modelId: string, fallbackStep: number): Promise<CheckpointInfo> {
  const info: CheckpointInfo = { kind, step: fallbackStep, dir, modelId };
  try {
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { metadata?: { training?: { step?: unknown; best?: { siSdri?: unknown } | null } } };
    const state = json.metadata?.training;
    if (typeof state?.step === 'number') info.step = state.step;
    if (kind === 'best' && typeof state?.best?.siSdri === 'number') info.valSiSdri = state.best.siSdri;
  } catch {
    // Replaced by a newer checkpoint meanwhile: the step seen last is close enough.
  }
  return info;
}

/** What continuing a run brings along from its last checkpoint, so the Train view shows the run so far. */
export interface RunSoFar {
  validations: { step: number; metrics: ValidationMetrics }[];
  checkpoints: CheckpointInfo[];
}

/**
 * Reads a run folder's last checkpoint for continuing the run: the config it was started with (as
 * the worker takes it) and what it has done so far. Throws unless steps are left to train.
 */
export async function runToContinue(runDir: string, modelId: string, name: string): Promise<{ config: Record<string, unknown>; soFar: RunSoFar }> {
  const last = join(runDir, 'last');
  await recoverCheckpoints(runDir);
  let state: TrainerState;
  try {
    const json = JSON.parse(await readFile(join(last, 'model.json'), 'utf8')) as { metadata?: Record<string, unknown> };
    state = trainerStateOf(json.metadata, last);
  } catch {
    throw new EngineError(`"${name}" is not a training run with a checkpoint: there is nothing to continue`, 'bad-input');
  }
  const totalSteps = state.config.epochs * state.config.stepsPerEpoch;
  if (state.step >= totalSteps) throw new EngineError(`"${name}" has trained all its ${totalSteps} steps: start a new run from it to train further`, 'bad-input');
  const checkpoints: CheckpointInfo[] = [];
  for (const kind of ['best', 'last'] as const) {
    const dir = join(runDir, kind);
    if (existsSync(join(dir, 'model.json'))) checkpoints.push(await checkpointInfo(kind, dir, modelId, state.step));
  }
  const baseline = (await readJsonObject(join(runDir, META_FILE)))?.baseline as ValidationMetrics | undefined;
  const validations = [
    ...(baseline ? [{ step: 0, metrics: baseline }] : []),
    ...state.history.map((r) => ({ step: r.step, metrics: validationMetrics(r.validation) })),
  ];
  return { config: trainConfigJson(state.config), soFar: { validations, checkpoints } };
}

export interface RunEnd {
  outcome: 'finished' | 'cancelled' | 'failed';
  bestSiSdri: number | null;
  beforeAfter: BeforeAfterSummary | null;
}

/** The progress event's stage for each phase of a run. */
export const PHASE_STAGES: Record<JobPhase, string> = {
  download: 'downloading', decode: 'decoding', baseline: 'validating', training: 'training', scoring: 'scoring',
};

/**
 * Appends a point to a series kept for charts; when it reaches `max` points, neighbours are averaged
 * in pairs. Memory and the work per point stay bounded however long a run goes.
 */
export function appendDecimated(points: SeriesPoint[], p: SeriesPoint, max = 400): SeriesPoint[] {
  points.push(p);
  if (points.length < max) return points;
  const half: SeriesPoint[] = [];
  for (let i = 0; i + 1 < points.length; i += 2) {
    half.push({ step: points[i + 1]!.step, value: (points[i]!.value + points[i + 1]!.value) / 2 });
  }
  if (points.length % 2) half.push(points[points.length - 1]!);
  return half;
}

export interface RunOptions {
  jobId: string;
  /** What the run is called (its model's name). */
  label: string;
  /** The run's folder: the model id the checkpoints are used under. */
  modelId: string;
  runDir: string;
  config: Record<string, unknown>;
  backend?: string;
  /** The training worker script (TrainingJob's default when absent). */
  workerUrl?: URL;
  /** Continues the run in `runDir` from its last checkpoint; replayed to listeners once the worker is up. */
  continues?: RunSoFar;
  emit(e: EngineEvent): void;
  /** Runs when the job has ended, before its final event goes out. Must not throw. */
  finish(end: RunEnd): Promise<void>;
}

/** One training run: a TrainingJob plus the mapping of its messages to engine events. */
export class TrainingRun {
  readonly done: Promise<RunEnd>;
  state: 'starting' | 'running' | 'paused' = 'starting';
  private readonly job: TrainingJob;
  private step = 0;
  private readonly checkpoints = new Map<'best' | 'last', CheckpointInfo>();
  /** Checkpoint reads and the baseline's write in flight: done before the run's end. */
  private pending: Promise<void> = Promise.resolve();
  /** The run so far, for windows that attach while it goes (snapshot()). */
  private readonly history: Omit<TrainingSnapshot, 'jobId' | 'modelId' | 'label' | 'state' | 'checkpoints'>;

  constructor(private readonly o: RunOptions) {
    this.job = new TrainingJob({
      config: o.config, runDir: o.runDir, resume: !!o.continues, baseline: !o.continues,
      ...(o.backend ? { backend: o.backend } : {}), ...(o.workerUrl ? { workerUrl: o.workerUrl } : {}),
    }, (m) => this.onMessage(m));
    for (const c of o.continues?.checkpoints ?? []) this.checkpoints.set(c.kind, c);
    const cfg = o.config as { epochs?: number; stepsPerEpoch?: number };
    this.history = {
      step: 0, totalSteps: (cfg.epochs ?? 0) * (cfg.stepsPerEpoch ?? 0), phase: null,
      loss: [], entropy: [], effectiveBatch: [], validations: [...(o.continues?.validations ?? [])], lastWeights: null,
    };
    this.done = this.job.done.then(
      async (d) => {
        await this.pending;
        const end = { outcome: d.outcome, bestSiSdri: d.best?.siSdri ?? null, beforeAfter: d.beforeAfter };
        await o.finish(end);
        const checkpoints = [...this.checkpoints.values()];
        if (d.outcome === 'cancelled') o.emit({ type: 'job-cancelled', jobId: o.jobId, kind: 'train' });
        else o.emit({ type: 'train-done', jobId: o.jobId, checkpoints, modelId: o.modelId, beforeAfter: d.beforeAfter });
        return end;
      },
      async (e: unknown) => {
        await this.pending;
        const end = { outcome: 'failed' as const, bestSiSdri: null, beforeAfter: null };
        await o.finish(end);
        const message = e instanceof Error ? e.message : String(e);
        o.emit({ type: 'job-failed', jobId: o.jobId, kind: 'train', error: { message: `Training stopped: ${message}`, code: 'train-failed' } });
        return end;
      },
    );
  }

  get modelId(): string {
    return this.o.modelId;
  }

  snapshot(): TrainingSnapshot {
    const h = this.history;
    return {
      ...h, jobId: this.o.jobId, modelId: this.o.modelId, label: this.o.label, state: this.state,
      loss: [...h.loss], entropy: [...h.entropy], effectiveBatch: [...h.effectiveBatch], validations: [...h.validations],
      checkpoints: [...this.checkpoints.values()],
    };
  }

  /** Sends an event and keeps what it tells in the run's history. */
  private emit(e: EngineEvent): void {
    const h = this.history;
    if (e.type === 'progress') h.phase = { stage: e.stage, fraction: e.fraction, ...(e.etaSec === undefined ? {} : { etaSec: e.etaSec }) };
    else if (e.type === 'train-step') {
      h.step = e.step;
      h.totalSteps = e.totalSteps;
      if (e.weights) {
        h.lastWeights = e.weights;
        if (Number.isFinite(e.loss)) h.loss = appendDecimated(h.loss, { step: e.step, value: e.loss });
        h.entropy = appendDecimated(h.entropy, { step: e.step, value: e.weights.entropy });
        h.effectiveBatch = appendDecimated(h.effectiveBatch, { step: e.step, value: e.weights.effectiveBatchSize });
      }
    } else if (e.type === 'train-validation' && !h.validations.some((v) => v.step === e.step)) h.validations.push({ step: e.step, metrics: e.metrics });
    this.o.emit(e);
  }

  pause(): boolean {
    if (this.state !== 'running') return false;
    this.job.pause();
    return true;
  }

  resume(): boolean {
    if (this.state !== 'paused') return false;
    this.job.resume();
    return true;
  }

  /** Stops after the current step; the run keeps a `last` checkpoint. */
  cancel(): void {
    this.job.cancel();
  }

  private onMessage(m: FromTrainWorker): void {
    const { jobId } = this.o;
    const emit = (e: EngineEvent) => this.emit(e);
    switch (m.type) {
      case 'status':
        emit({ type: 'progress', jobId, kind: 'train', stage: 'loading data', fraction: null });
        return;
      case 'phase': {
        const p = m.progress;
        emit({ type: 'progress', jobId, kind: 'train', stage: PHASE_STAGES[p.phase], fraction: p.fraction, ...(p.etaSeconds === null ? {} : { etaSec: p.etaSeconds }) });
        return;
      }
      case 'started':
        this.state = 'running';
        this.step = m.step;
        // Sent now rather than at once: by now the caller knows the job id.
        for (const v of this.o.continues?.validations ?? []) emit({ type: 'train-validation', jobId, ...v });
        for (const checkpoint of this.o.continues?.checkpoints ?? []) emit({ type: 'train-checkpoint', jobId, checkpoint });
        emit({ type: 'train-state', jobId, state: 'running' });
        emit({ type: 'progress', jobId, kind: 'train', stage: 'training', fraction: m.step / m.totalSteps });
        return;
      case 'progress': {
        const p = m.progress;
        this.step = p.step;
        emit({
          type: 'train-step', jobId, step: p.step, totalSteps: p.totalSteps, loss: p.loss, lr: p.lr, weights: p.diagnostics,
          ...(p.skipped ? { skipped: p.skipped } : {}),
        });
        emit({ type: 'progress', jobId, kind: 'train', stage: 'training', fraction: p.step / p.totalSteps, ...(m.etaSeconds === null ? {} : { etaSec: m.etaSeconds }) });
        return;
      }
      case 'epoch':
        emit({ type: 'train-validation', jobId, step: m.record.step, metrics: validationMetrics(m.record.validation) });
        return;
      case 'baseline': {
        const metrics = validationMetrics(m.validation);
        // Kept beside the run's checkpoints, which do not hold it, for continuing the run later.
        this.pending = this.pending.then(() => mergeMeta(this.o.runDir, { baseline: metrics }).catch(() => undefined));
        emit({ type: 'train-validation', jobId, step: 0, metrics });
        return;
      }
      case 'checkpoint': {
        const kind = m.kind;
        const read = checkpointInfo(kind, m.dir, this.o.modelId, this.step);
        this.pending = this.pending.then(async () => {
          const info = await read;
          this.checkpoints.set(kind, info);
          emit({ type: 'train-checkpoint', jobId, checkpoint: info });
        });
        return;
      }
      case 'warning':
        emit({ type: 'train-warning', jobId, message: m.message });
        return;
      case 'paused':
        this.state = 'paused';
        emit({ type: 'train-state', jobId, state: 'paused' });
        return;
      case 'resumed':
        this.state = 'running';
        emit({ type: 'train-state', jobId, state: 'running' });
        return;
      case 'done':
      case 'error':
        return;
    }
  }
}
