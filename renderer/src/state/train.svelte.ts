// The Train view: the run's settings (reweighting terms built from presets and controls), the check of
// its data before it starts (and the question before a download), the live metrics and phases the
// engine streams, the before/after scores at the end, and the run's controls.
import type {
  BeforeAfterSummary, CheckpointInfo, DataCheck, EngineEvent, ReweightTerm, SoundClass, TrainData, TrainingSnapshot, TrainParams, ValidationMetrics,
  WeightsDiagnostics, WeightsPreview,
} from '../../../app/contract';
import { TILT_PRESETS } from '../../../app/contract';
import { messageOf } from '../lib/api';
import { appendPoint, type Point } from '../lib/series';
import { api, app } from './app.svelte';
import { persist } from './persist.svelte';

export type { Point };

export type PresetName = 'speech' | 'env' | 'robust' | 'curriculum' | 'uniform';
type Schedule = Extract<ReweightTerm, { curriculum: unknown }>['curriculum']['schedule'];

export const PRESETS: { id: PresetName; label: string; hint: string }[] = [
  { id: 'speech', label: TILT_PRESETS.speech.label, hint: TILT_PRESETS.speech.hint },
  { id: 'env', label: TILT_PRESETS.env.label, hint: TILT_PRESETS.env.hint },
  { id: 'robust', label: 'Robust', hint: 'F = 0.2 × loss: up-weights the hard mixtures' },
  { id: 'curriculum', label: 'Curriculum', hint: 'F = β(k) × loss, β from −0.5 to 0: easy mixtures first' },
  { id: 'uniform', label: 'Uniform', hint: 'Plain average: no reweighting' },
];

/** Where a job stands: the engine's progress events (stage, fraction, time left). */
export interface Phase {
  stage: string;
  fraction: number | null;
  etaSec?: number;
}

class TrainState {
  dataKind = $state<'corpus' | 'folders'>('corpus');
  folders = $state<{ path: string; class: SoundClass }[]>([]);
  baseModelId = $state('');
  name = $state('my-fine-tune');
  robust = $state({ on: false, alpha: 0.2 });
  curriculum = $state<{ on: boolean; beta0: number; schedule: Schedule }>({ on: false, beta0: -0.5, schedule: 'linear' });
  gamma = $state({ on: false, speech: 0, env: 0 });
  steps = $state(2000);
  batchSize = $state(4);
  segmentSec = $state(4);
  lr = $state(0.001);
  seed = $state(0);
  validateEvery = $state(200);
  previewStep = $state(0);
  preview = $state.raw<WeightsPreview | null>(null);
  previewError = $state<string | null>(null);

  jobId = $state<string | null>(null);
  /** The model the run's checkpoints become. */
  runModelId = $state<string | null>(null);
  status = $state<'idle' | 'starting' | 'running' | 'paused' | 'done' | 'cancelled' | 'failed'>('idle');
  error = $state<string | null>(null);
  step = $state(0);
  totalSteps = $state(0);
  loss = $state.raw<Point[]>([]);
  entropy = $state.raw<Point[]>([]);
  effectiveBatch = $state.raw<Point[]>([]);
  valPerClass = $state.raw<Record<string, Point[]>>({});
  lastValidation = $state.raw<ValidationMetrics | null>(null);
  /** The weights of the last training batch and its step. */
  lastWeights = $state.raw<{ step: number; weights: WeightsDiagnostics } | null>(null);
  checkpoints = $state.raw<CheckpointInfo[]>([]);
  /** The run's current stage (downloading, decoding, training, scoring) while it is going. */
  phase = $state.raw<Phase | null>(null);
  beforeAfter = $state.raw<BeforeAfterSummary | null>(null);

  /** The last data check, and the data it was for (a check of other data does not count). */
  check = $state.raw<DataCheck | null>(null);
  private checkedData = $state('');
  checkError = $state<string | null>(null);
  /** While a check runs: its progress. */
  checking = $state.raw<Phase | null>(null);
  private checkJobId: string | null = null;
  private checkSettled: ((check: DataCheck | null) => void) | null = null;
  /** Results that arrived before the check's job id did. */
  private readonly settledEarly = new Map<string, DataCheck | null>();
  /** The download the user is being asked about before Start goes on. */
  askDownload = $state.raw<{ mb: number; packages: number } | null>(null);

  terms: ReweightTerm[] = $derived.by(() => {
    const t: ReweightTerm[] = [];
    if (this.robust.on) t.push({ robust: { alpha: this.robust.alpha } });
    if (this.curriculum.on) t.push({ curriculum: { beta0: this.curriculum.beta0, schedule: this.curriculum.schedule } });
    if (this.gamma.on) t.push({ class: { speech: this.gamma.speech, env: this.gamma.env } });
    return t;
  });

  activePreset: PresetName | null = $derived.by(() => {
    const j = JSON.stringify(this.terms);
    for (const p of PRESETS) if (JSON.stringify(presetTerms(p.id)) === j) return p.id;
    return null;
  });

  active = $derived(this.status === 'starting' || this.status === 'running' || this.status === 'paused');

  constructor() {
    persist('train-settings', () => ({
      dataKind: this.dataKind, folders: this.folders, baseModelId: this.baseModelId, name: this.name, robust: this.robust, curriculum: this.curriculum,
      gamma: this.gamma, steps: this.steps, batchSize: this.batchSize, segmentSec: this.segmentSec, lr: this.lr, seed: this.seed, validateEvery: this.validateEvery,
    }), (v) => Object.assign(this, v));
  }

  /**
   * Takes in the run the engine has going (after a reload or a lost connection), with its curves
   * so far; or, when none is going, lets go of one this window was following.
   */
  restore(t: TrainingSnapshot | null): void {
    if (!t) {
      if (this.active && this.jobId) {
        this.status = 'idle';
        this.phase = null;
        this.error = 'The run ended while this page was not connected: its checkpoints are under Models and Unfinished runs.';
      }
      return;
    }
    this.jobId = t.jobId;
    this.runModelId = t.modelId;
    this.status = t.state === 'paused' ? 'paused' : 'running';
    this.error = null;
    this.step = t.step;
    this.totalSteps = t.totalSteps;
    this.phase = t.phase;
    this.loss = t.loss;
    this.entropy = t.entropy;
    this.effectiveBatch = t.effectiveBatch;
    const perClass: Record<string, Point[]> = {};
    for (const v of t.validations) for (const [c, x] of Object.entries(v.metrics.perClass)) perClass[c] = [...(perClass[c] ?? []), { step: v.step, value: x }];
    this.valPerClass = perClass;
    this.lastValidation = t.validations.at(-1)?.metrics ?? null;
    this.checkpoints = t.checkpoints;
    this.lastWeights = t.lastWeights ? { step: t.step, weights: t.lastWeights } : null;
    this.beforeAfter = null;
  }

  /** The check on screen is of the data chosen now. */
  checkCurrent = $derived(this.check !== null && this.checkedData === JSON.stringify(this.dataParam()));

  applyPreset(id: PresetName): void {
    this.robust = { on: id === 'robust', alpha: 0.2 };
    this.curriculum = { on: id === 'curriculum', beta0: -0.5, schedule: 'linear' };
    const gamma = id === 'speech' || id === 'env' ? TILT_PRESETS[id].reweighting.terms.flatMap((t) => ('class' in t ? [t.class] : []))[0] : undefined;
    this.gamma = { on: gamma !== undefined, speech: gamma?.speech ?? 0, env: gamma?.env ?? 0 };
  }

  dataParam(): TrainData {
    return this.dataKind === 'corpus' ? { kind: 'corpus' } : { kind: 'folders', folders: $state.snapshot(this.folders) };
  }

  params(): TrainParams {
    return {
      name: this.name.trim() || 'fine-tune',
      baseModelId: this.baseModelId,
      data: this.dataParam(),
      reweighting: $state.snapshot(this.terms) as ReweightTerm[],
      steps: this.steps,
      batchSize: this.batchSize,
      segmentSec: this.segmentSec,
      lr: this.lr,
      seed: this.seed,
      validateEvery: this.validateEvery,
    };
  }

  async refreshPreview(): Promise<void> {
    try {
      const step = Math.min(this.previewStep, this.steps);
      this.preview = await api().call('train:preview-weights', { reweighting: $state.snapshot(this.terms) as ReweightTerm[], step, totalSteps: this.steps });
      this.previewError = null;
    } catch (e) {
      this.previewError = messageOf(e);
    }
  }

  /** Checks the chosen data (decoding the folders in the engine); null when it failed or was cancelled. */
  async runCheck(): Promise<DataCheck | null> {
    const data = this.dataParam();
    this.checkError = null;
    this.askDownload = null;
    this.checking = { stage: 'checking', fraction: null };
    try {
      const { jobId } = await api().call('train:check', { data });
      const settled = new Promise<DataCheck | null>((resolve) => (this.checkSettled = resolve));
      this.checkJobId = jobId;
      if (this.settledEarly.has(jobId)) this.settleCheck(jobId, this.settledEarly.get(jobId)!);
      const check = await settled;
      if (check) {
        this.check = check;
        this.checkedData = JSON.stringify(data);
      }
      return check;
    } catch (e) {
      this.checkError = messageOf(e);
      return null;
    } finally {
      this.checking = null;
      this.checkJobId = null;
      this.settledEarly.clear();
    }
  }

  private settleCheck(jobId: string, check: DataCheck | null): void {
    if (jobId !== this.checkJobId) {
      // Ours may end before its id arrives; other windows' checks are none of this one's business.
      if (this.checking) this.settledEarly.set(jobId, check);
      return;
    }
    this.checkSettled?.(check);
    this.checkSettled = null;
  }

  /**
   * Checks the data unless the check on screen is of it, stops at its problems, and asks before a
   * download (answered with agreeDownload); then starts the run.
   */
  async start(download = false): Promise<void> {
    this.error = null;
    const check = this.checkCurrent ? this.check : await this.runCheck();
    if (!check) return;
    if (check.problems.length) {
      this.error = 'The data check found problems (listed under Data): fix them to start.';
      return;
    }
    const pending = check.corpus?.download;
    if (pending && !download) {
      this.askDownload = { mb: pending.mb, packages: pending.packages.length };
      return;
    }
    this.askDownload = null;
    await this.launch(() => api().call('train:start', { ...this.params(), ...(download ? { download } : {}) }), this.steps);
  }

  agreeDownload(): Promise<void> {
    return this.start(true);
  }

  /** Continues a cancelled or interrupted run; the engine replays its validations and checkpoints so far. */
  continueRun(modelId: string, totalSteps: number, fromStep: number): Promise<void> {
    return this.launch(() => api().call('train:continue', { modelId }), totalSteps, this.runModelId === modelId ? fromStep : 0);
  }

  /** `keepUpTo`: continuing the run on screen keeps its curves up to the checkpoint it continues from. */
  private async launch(call: () => Promise<{ jobId: string; modelId: string }>, totalSteps: number, keepUpTo = 0): Promise<void> {
    this.status = 'starting';
    this.error = null;
    this.loss = this.loss.filter((p) => p.step <= keepUpTo);
    this.entropy = this.entropy.filter((p) => p.step <= keepUpTo);
    this.effectiveBatch = this.effectiveBatch.filter((p) => p.step <= keepUpTo);
    this.valPerClass = {};
    this.lastValidation = null;
    this.checkpoints = [];
    this.lastWeights = null;
    this.phase = null;
    this.beforeAfter = null;
    this.step = 0;
    this.totalSteps = totalSteps;
    try {
      const { jobId, modelId } = await call();
      this.jobId = jobId;
      this.runModelId = modelId;
      this.status = 'running';
    } catch (e) {
      this.status = 'failed';
      this.error = messageOf(e);
    }
  }

  async control(what: 'pause' | 'resume' | 'cancel'): Promise<void> {
    try {
      if (what === 'cancel' && this.checking && this.checkJobId) {
        await api().call('job:cancel', { jobId: this.checkJobId });
        return;
      }
      if (!this.jobId) return;
      if (what === 'pause') await api().call('train:pause', { jobId: this.jobId });
      else if (what === 'resume') await api().call('train:resume', { jobId: this.jobId });
      else await api().call('train:cancel', { jobId: this.jobId });
    } catch (e) {
      app.notify('error', messageOf(e));
    }
  }

  handle(e: EngineEvent): void {
    if ('kind' in e && e.kind === 'check') return this.handleCheck(e);
    if (e.type === 'train-data-check') return this.settleCheck(e.jobId, e.check);
    if (e.jobId !== this.jobId) return;
    switch (e.type) {
      case 'progress':
        this.phase = { stage: e.stage, fraction: e.fraction, ...(e.etaSec === undefined ? {} : { etaSec: e.etaSec }) };
        break;
      case 'train-state':
        this.status = e.state;
        break;
      case 'train-step': {
        this.step = e.step;
        this.totalSteps = e.totalSteps;
        // A skipped step has no finite loss and no weights: the charts keep their last points.
        const w = e.weights;
        if (!w) break;
        this.lastWeights = { step: e.step, weights: w };
        if (Number.isFinite(e.loss)) this.loss = appendPoint(this.loss, { step: e.step, value: e.loss });
        this.entropy = appendPoint(this.entropy, { step: e.step, value: w.entropy });
        this.effectiveBatch = appendPoint(this.effectiveBatch, { step: e.step, value: w.effectiveBatchSize });
        break;
      }
      case 'train-warning':
        app.notify('info', e.message);
        break;
      case 'train-validation': {
        this.lastValidation = e.metrics;
        const next = { ...this.valPerClass };
        // Continuing a run replays its validations: a step already charted is not added twice.
        for (const [c, v] of Object.entries(e.metrics.perClass)) if (!next[c]?.some((p) => p.step === e.step)) next[c] = appendPoint(next[c] ?? [], { step: e.step, value: v });
        this.valPerClass = next;
        break;
      }
      case 'train-checkpoint':
        this.checkpoints = [...this.checkpoints.filter((c) => c.kind !== e.checkpoint.kind), e.checkpoint];
        // Step events are throttled: the checkpoint saved on cancel tells the step the run stopped at.
        this.step = Math.max(this.step, e.checkpoint.step);
        break;
      case 'train-done':
        this.status = 'done';
        this.phase = null;
        this.checkpoints = e.checkpoints;
        this.beforeAfter = e.beforeAfter;
        break;
      case 'job-cancelled':
        this.status = 'cancelled';
        this.phase = null;
        break;
      case 'job-failed':
        this.status = 'failed';
        this.phase = null;
        this.error = e.error.message;
        break;
    }
  }

  private handleCheck(e: Extract<EngineEvent, { kind: unknown }>): void {
    if (e.type === 'progress' && e.jobId === this.checkJobId) {
      this.checking = { stage: e.stage, fraction: e.fraction, ...(e.etaSec === undefined ? {} : { etaSec: e.etaSec }) };
    } else if (e.type === 'job-cancelled') {
      this.settleCheck(e.jobId, null);
    } else if (e.type === 'job-failed') {
      if (e.jobId === this.checkJobId) this.checkError = e.error.message;
      this.settleCheck(e.jobId, null);
    }
  }
}

export function presetTerms(id: PresetName): ReweightTerm[] {
  switch (id) {
    case 'speech': return structuredClone(TILT_PRESETS.speech.reweighting.terms);
    case 'env': return structuredClone(TILT_PRESETS.env.reweighting.terms);
    case 'robust': return [{ robust: { alpha: 0.2 } }];
    case 'curriculum': return [{ curriculum: { beta0: -0.5, schedule: 'linear' } }];
    case 'uniform': return [];
  }
}

export const training = new TrainState();
