// The training loop over online mixtures: reweighted steps, validation after each epoch, LR
// schedule, best/last checkpoints, exact resume, non-finite step handling, pause and cancel.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../tf';
import type { MixtureBatch } from '../types';
import { createSudoRmRf } from '../models/sudormrf';
import { expectedMixtureStd } from '../data/mixer';
import type { SudoRmRf } from '../models/sudormrf';
import { loadModel } from '../models/io';
import { deepen } from '../models/deepen';
import { favouredClass } from '../reweighting/presets';
import { reweighterFromConfig } from '../reweighting';
import type { Reweighter, WeightDiagnostics } from '../reweighting';
import type { TrainConfig } from './config';
import { presetModelConfig } from './config';
import { localSteps } from './step';
import type { StepRunner } from './step';
import { parallelSteps, resolveWorkers } from './parallel';
import { checkWorkerCount, type WorkerCount } from './workerCount';
import { scoreBatches, stemClassAssignment, summarizeScores } from './metrics';
import { loadCheckpoint, recoverCheckpoints, restoreOptimizer, saveCheckpoint } from './checkpoint';
import type { CheckpointKind, EpochRecord, TrainerState } from './checkpoint';

/** Where the mixtures come from. Batches depend only on the step, so a resumed run sees the same data. */
export interface MixtureSource {
  trainBatch(step: number, batchSize: number): MixtureBatch;
  /** The fixed validation mixtures. */
  validation(): readonly MixtureBatch[];
}

export interface StepProgress {
  /** Steps done (1-based). */
  step: number;
  totalSteps: number;
  epoch: number;
  /** Plain mean of the batch's losses (-SI-SDR, dB), whatever the reweighting. */
  loss: number;
  /** The reweighted objective that was differentiated. */
  weightedLoss: number;
  gradNorm: number;
  lr: number;
  stepMs: number;
  /** Null for a skipped step. */
  diagnostics: WeightDiagnostics | null;
  skipped: string | null;
}

export interface TrainerEvents {
  progress?(p: StepProgress): void;
  epoch?(record: EpochRecord): void;
  checkpoint?(kind: CheckpointKind, dir: string): void;
  warning?(message: string): void;
}

export interface TrainerControl {
  signal?: AbortSignal;
  /** Resolves when training may go on (the caller's pause gate). */
  waitWhilePaused?(): Promise<void>;
}

export type TrainOutcome = 'finished' | 'cancelled';

export interface TrainerOptions {
  /** Continue the run in `runDir` from its last checkpoint. */
  resume?: boolean;
  /**
   * Threads computing each step's gradients (default 1). The result does not depend on it beyond
   * float rounding, so it is not part of the config. Falls back to 1 for batches of one.
   */
  workers?: WorkerCount;
  /** The training worker's module, which gradient helpers start from; defaults to ./worker.ts (run through tsx). */
  workerScript?: URL;
}

const MAX_ROLLBACKS = 5;

export function checkpointDir(runDir: string, kind: CheckpointKind): string {
  return join(runDir, kind);
}

function freshState(config: TrainConfig): TrainerState {
  return {
    config, step: 0, lr: config.optimizer.lr, history: [], best: null, sinceImprovement: 0, rollbacks: 0, stems: null, wallSeconds: 0,
  };
}

async function initialModel(config: TrainConfig, source: MixtureSource): Promise<{ model: SudoRmRf; baseMetadata: Record<string, unknown> | undefined }> {
  if ('from' in config.model) {
    const { model, metadata } = await loadModel(config.model.from);
    const { blocks } = config.model;
    if (blocks === undefined || blocks === model.config.nBlocks) return { model, baseMetadata: metadata };
    const first = source.validation()[0]!;
    const calibration = tf.tensor2d(first.mixture, [first.batch, first.time]);
    try {
      return { model: deepen(model, blocks, calibration, config.seed), baseMetadata: metadata };
    } finally {
      calibration.dispose();
      model.dispose();
    }
  }
  return { model: createSudoRmRf(presetModelConfig(config.model), config.seed), baseMetadata: undefined };
}

export class Trainer {
  private optimizer: tf.Optimizer;
  private readonly reweighter: Reweighter;
  /** Threads computing each step's gradients. */
  readonly workers: number;
  private readonly workerScript: URL;

  private constructor(
    readonly model: SudoRmRf,
    private readonly state: TrainerState,
    private readonly source: MixtureSource,
    readonly runDir: string,
    private readonly baseModel: string | null,
    optimizer: tf.Optimizer,
    opts: TrainerOptions,
  ) {
    this.optimizer = optimizer;
    this.reweighter = reweighterFromConfig(state.config.reweighting);
    this.workers = resolveWorkers(opts.workers ?? 1, state.config.batchSize, this.reweighter);
    this.workerScript = opts.workerScript ?? new URL('./worker.ts', import.meta.url);
    // Separation brings inputs to the level the model trained at.
    model.inputStd = expectedMixtureStd(state.config.data.snrDb);
    this.applyLr();
  }

  /** A new run, or with `resume` the run in `runDir` continued from its last checkpoint. */
  static async create(config: TrainConfig, source: MixtureSource, runDir: string, opts: TrainerOptions = {}): Promise<Trainer> {
    checkWorkerCount(opts.workers ?? 1);
    const last = checkpointDir(runDir, 'last');
    await recoverCheckpoints(runDir);
    if (opts.resume) {
      if (!existsSync(last)) throw new Error(`nothing to resume: ${last} does not exist`);
      const optimizer = tf.train.adam(config.optimizer.lr);
      const { model, state } = await loadCheckpoint(last, optimizer);
      // A resumed run may be given more epochs; everything else comes from the checkpoint.
      state.config = { ...state.config, epochs: Math.max(state.config.epochs, config.epochs) };
      const base = 'from' in state.config.model ? state.config.model.from : null;
      return new Trainer(model, state, source, runDir, base, optimizer, opts);
    }
    if (existsSync(last) || existsSync(checkpointDir(runDir, 'best'))) throw new Error(`${runDir} already holds a run: resume it, or choose another output folder`);
    const { model } = await initialModel(config, source);
    const base = 'from' in config.model ? config.model.from : null;
    return new Trainer(model, freshState(config), source, runDir, base, tf.train.adam(config.optimizer.lr), opts);
  }

  get trainerState(): Readonly<TrainerState> {
    return this.state;
  }

  get totalSteps(): number {
    return this.state.config.epochs * this.state.config.stepsPerEpoch;
  }

  private applyLr(): void {
    // tfjs's Adam reads its learning rate field at every applyGradients.
    (this.optimizer as unknown as { learningRate: number }).learningRate = this.state.lr;
  }

  private card(): Record<string, unknown> {
    return { baseModel: this.baseModel, reweighting: this.state.config.reweighting, inputStd: this.model.inputStd };
  }

  private async save(kind: CheckpointKind, events: TrainerEvents): Promise<void> {
    const dir = checkpointDir(this.runDir, kind);
    // Only `last` is resumed from: `best` leaves out the optimizer's moments (two thirds of a checkpoint).
    await saveCheckpoint(dir, this.model, kind === 'last' ? this.optimizer : null, this.state, this.card());
    events.checkpoint?.(kind, dir);
  }

  /** Puts back the weights and optimizer state of the last checkpoint after repeated non-finite steps. */
  private async rollback(events: TrainerEvents): Promise<void> {
    const dir = checkpointDir(this.runDir, 'last');
    if (++this.state.rollbacks > MAX_ROLLBACKS) throw new Error(`training diverged: ${MAX_ROLLBACKS} rollbacks; lower optimizer.lr or optimizer.clipNorm`);
    if (!existsSync(dir)) throw new Error('training diverged before the first checkpoint: lower optimizer.lr');
    const { model, state } = await loadCheckpoint(dir);
    try {
      this.model.setWeights(model.namedWeights());
    } finally {
      model.dispose();
    }
    this.optimizer.dispose();
    this.optimizer = tf.train.adam(state.lr);
    await restoreOptimizer(dir, this.optimizer);
    this.state.lr = state.lr;
    this.applyLr();
    events.warning?.(`rolled back to the checkpoint at step ${state.step} after repeated non-finite steps`);
  }

  private validate(): { report: EpochRecord['validation']; stems: TrainerState['stems'] } {
    const scores = scoreBatches(this.model, this.source.validation(), { mixtureConsistency: this.state.config.mixtureConsistency });
    return { report: summarizeScores(scores), stems: stemClassAssignment(scores)?.stems ?? null };
  }

  private updateSchedule(epochsDone: number, improved: boolean): void {
    const { schedule, lr } = this.state.config.optimizer;
    if (schedule.kind === 'halve-every') this.state.lr = lr * 0.5 ** Math.floor(epochsDone / schedule.epochs);
    if (schedule.kind === 'plateau' && !improved && this.state.sinceImprovement >= schedule.patience) {
      this.state.lr /= 2;
      this.state.sinceImprovement = 0;
    }
    this.applyLr();
  }

  /** Trains to the end of the run, or until cancelled; the gradient helpers live as long as this call. */
  async run(events: TrainerEvents = {}, control: TrainerControl = {}): Promise<TrainOutcome> {
    const runner = this.workers > 1
      ? await parallelSteps(this.model, this.reweighter, this.workers, this.workerScript)
      : localSteps(this.model, this.reweighter);
    try {
      return await this.train(runner, events, control);
    } finally {
      await runner.close();
    }
  }

  private async train(runner: StepRunner, events: TrainerEvents, control: TrainerControl): Promise<TrainOutcome> {
    const { config } = this.state;
    // A run resumed mid-epoch picks up the epoch's sums where the interrupted run left them.
    const soFar = this.state.epochSoFar;
    let consecutiveSkips = this.state.consecutiveSkips ?? 0;
    let epochLoss = soFar?.loss ?? 0;
    let epochWeighted = soFar?.weightedLoss ?? 0;
    let epochSteps = soFar?.steps ?? 0;
    let epochSkipped = soFar?.skippedSteps ?? 0;
    let epochStart = performance.now() - (soFar?.seconds ?? 0) * 1000;
    let segmentStart = performance.now();
    const addWall = () => {
      const now = performance.now();
      this.state.wallSeconds += (now - segmentStart) / 1000;
      segmentStart = now;
    };
    while (this.state.step < this.totalSteps) {
      if (control.waitWhilePaused) {
        addWall();
        await control.waitWhilePaused();
        segmentStart = performance.now();
      }
      if (control.signal?.aborted) {
        addWall();
        this.state.consecutiveSkips = consecutiveSkips;
        this.state.epochSoFar = {
          loss: epochLoss, weightedLoss: epochWeighted, steps: epochSteps, skippedSteps: epochSkipped, seconds: (performance.now() - epochStart) / 1000,
        };
        await this.save('last', events);
        return 'cancelled';
      }
      const step = this.state.step;
      const epoch = Math.floor(step / config.stepsPerEpoch);
      const t0 = performance.now();
      const result = await runner.step(this.optimizer, this.source.trainBatch(step, config.batchSize), {
        clipNorm: config.optimizer.clipNorm,
        progress: { step, epoch, totalSteps: this.totalSteps },
        slots: config.slots,
        mixtureConsistency: config.mixtureConsistency,
      });
      this.state.step++;
      if (result.skipped) {
        epochSkipped++;
        events.warning?.(`step ${step} skipped: ${result.skipReason}`);
        if (++consecutiveSkips >= config.rollbackAfter) {
          await this.rollback(events);
          consecutiveSkips = 0;
        }
      } else {
        consecutiveSkips = 0;
        epochLoss += result.meanLoss;
        epochWeighted += result.weightedLoss;
        epochSteps++;
      }
      events.progress?.({
        step: this.state.step, totalSteps: this.totalSteps, epoch, loss: result.meanLoss, weightedLoss: result.weightedLoss,
        gradNorm: result.gradNorm, lr: this.state.lr, stepMs: performance.now() - t0,
        diagnostics: result.weighting?.diagnostics ?? null, skipped: result.skipReason,
      });
      if (this.state.step % config.stepsPerEpoch === 0) {
        const { report, stems } = this.validate();
        const favoured = favouredClass(config.reweighting.terms);
        const siSdri = favoured ? report.byClass[favoured].mean : report.overall.mean;
        const improved = this.state.best === null || siSdri > this.state.best.siSdri;
        this.state.sinceImprovement = improved ? 0 : this.state.sinceImprovement + 1;
        if (improved) this.state.best = { epoch, siSdri };
        if (improved || this.state.stems === null) this.state.stems = stems;
        const record: EpochRecord = {
          epoch, step: this.state.step, lr: this.state.lr,
          trainLoss: epochSteps ? epochLoss / epochSteps : NaN,
          weightedLoss: epochSteps ? epochWeighted / epochSteps : NaN,
          skippedSteps: epochSkipped, seconds: (performance.now() - epochStart) / 1000, validation: report,
        };
        this.state.history.push(record);
        this.updateSchedule(epoch + 1, improved);
        delete this.state.epochSoFar;
        this.state.consecutiveSkips = consecutiveSkips;
        addWall();
        await this.save('last', events);
        if (improved) await this.save('best', events);
        events.epoch?.(record);
        epochLoss = epochWeighted = epochSteps = epochSkipped = 0;
        epochStart = performance.now();
      }
      // Let pause/cancel messages in.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return 'finished';
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
  }
}
