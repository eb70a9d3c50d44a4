// Runs an experiment's arms one after another into `<out>/arms/<arm>/` (each a Trainer run folder),
// then scores each arm's final model on one fixed, seeded set of held-out test mixtures.
// Rerunning skips finished arms and resumes unfinished ones from their last checkpoint.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { tf } from '../tf';
import type { MixtureBatch } from '../types';
import type { SudoRmRf } from '../models/sudormrf';
import { Trainer, checkpointDir } from '../train/trainer';
import type { MixtureSource, StepProgress } from '../train/trainer';
import { trainerStateOf } from '../train/checkpoint';
import type { EpochRecord } from '../train/checkpoint';
import { dataEntries, fixedBatches, mixtureSourceFor, splitMixer } from '../train/data';
import { scoreBatches, summarizeScores } from '../train/metrics';
import type { EvaluationReport, SourceScores } from '../train/metrics';
import type { TrainConfig } from '../train/config';
import { armConfig } from './plan';
import type { Arm, ExperimentPlan } from './plan';

export const EXPERIMENT_FORMAT = 'tilt-experiment';
export const EXPERIMENT_FORMAT_VERSION = 1;

/**
 * One optimisation step as the curves record it: the trainer's progress (its plain loss is comparable
 * across arms) with the batch weights' entropy and effective size, null for a skipped step.
 */
export interface StepLog extends Pick<StepProgress, 'step' | 'epoch' | 'loss' | 'weightedLoss' | 'gradNorm' | 'lr' | 'skipped'> {
  entropy: number | null;
  effectiveBatchSize: number | null;
}

export interface TestScores extends SourceScores {
  /** [mixture]: 10 log10(E_source0 / E_source1) as drawn. */
  snrDb: number[];
}

/** Fingerprints taken when an arm starts: equal across arms means same data and same initial weights. */
export interface ArmFingerprint {
  initHash: string;
  firstBatchHash: string;
  params: number;
  backend: string;
}

export interface ArmResult {
  arm: Arm;
  config: TrainConfig;
  fingerprint: ArmFingerprint;
  history: EpochRecord[];
  steps: StepLog[];
  test: TestScores;
  testReport: EvaluationReport;
  totalSteps: number;
  wallSeconds: number;
}

export interface ExperimentResult {
  plan: ExperimentPlan;
  outDir: string;
  arms: ArmResult[];
}

export type ArmState = 'fresh' | 'resumed' | 'done';

export interface ExperimentEvents {
  armStart?(arm: Arm, info: { index: number; count: number; state: ArmState; step: number; totalSteps: number }): void;
  progress?(arm: Arm, p: StepProgress): void;
  epoch?(arm: Arm, record: EpochRecord): void;
  armDone?(arm: Arm, result: ArmResult): void;
  /** Long phases outside training: loading data, testing. */
  phase?(message: string): void;
  warning?(message: string): void;
}

export function armDir(outDir: string, arm: Arm): string {
  return join(outDir, 'arms', arm.id);
}

function sha256(chunks: Iterable<ArrayBufferView>): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
  return h.digest('hex').slice(0, 16);
}

export function weightsHash(model: SudoRmRf): string {
  const named = model.namedWeights();
  return sha256(model.weightNames.map((n) => named.get(n)!.dataSync() as Float32Array));
}

export function batchHash(batch: MixtureBatch): string {
  return sha256([batch.mixture, batch.sources]);
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 1)}\n`);
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The plan without what may differ between machines running the same experiment. */
function comparable(plan: ExperimentPlan): unknown {
  return { ...plan, data: { corpus: plan.data.corpus } };
}

async function claimOutDir(plan: ExperimentPlan, outDir: string): Promise<void> {
  const path = join(outDir, 'experiment.json');
  if (existsSync(path)) {
    const saved = await readJson<{ format?: string; plan?: ExperimentPlan }>(path);
    if (saved.format !== EXPERIMENT_FORMAT || !saved.plan) throw new Error(`${outDir} holds something other than a Tilt experiment; choose another output folder`);
    if (JSON.stringify(comparable(saved.plan)) !== JSON.stringify(comparable(plan))) {
      throw new Error(`${outDir} holds a different experiment (${saved.plan.experiment} at scale ${saved.plan.scale} on the ${saved.plan.data.corpus} corpus); choose another output folder`);
    }
    return;
  }
  await mkdir(outDir, { recursive: true });
  await writeJsonAtomic(path, { format: EXPERIMENT_FORMAT, formatVersion: EXPERIMENT_FORMAT_VERSION, plan });
}

interface ExperimentData {
  source: MixtureSource;
  test: MixtureBatch[];
  testSnr: number[];
}

/** Train/validation as the trainer would load them for `tilt train`, plus the fixed test set. */
async function loadData(plan: ExperimentPlan, config: TrainConfig): Promise<ExperimentData> {
  const source = await mixtureSourceFor(config);
  const { entries, cacheDir } = await dataEntries(config.data);
  const testMixer = await splitMixer(config.data, entries, cacheDir, 'test', plan.test.seed);
  const test = fixedBatches(testMixer, plan.test.mixtures, plan.test.batchSize, 'test');
  return { source, test, testSnr: test.flatMap((b) => b.snrDb) };
}

function stepLog(p: StepProgress): StepLog {
  return {
    step: p.step, epoch: p.epoch, loss: p.loss, weightedLoss: p.weightedLoss, gradNorm: p.gradNorm, lr: p.lr,
    entropy: p.diagnostics?.entropy ?? null, effectiveBatchSize: p.diagnostics?.effectiveBatchSize ?? null, skipped: p.skipped,
  };
}

async function readSteps(path: string): Promise<StepLog[]> {
  if (!existsSync(path)) return [];
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const steps: StepLog[] = [];
  for (const line of lines) {
    try {
      steps.push(JSON.parse(line) as StepLog);
    } catch {
      // A line cut off by a crash mid-write; the steps after the checkpoint are redone anyway.
    }
  }
  return steps;
}

async function finishedArm(plan: ExperimentPlan, arm: Arm, dir: string): Promise<ArmResult> {
  const config = armConfig(plan, arm);
  const modelJson = await readJson<{ metadata?: Record<string, unknown> }>(join(checkpointDir(dir, 'last'), 'model.json'));
  const state = trainerStateOf(modelJson.metadata, dir);
  const test = await readJson<TestScores>(join(dir, 'test.json'));
  return {
    arm, config,
    fingerprint: await readJson<ArmFingerprint>(join(dir, 'arm.json')),
    history: state.history,
    steps: (await readSteps(join(dir, 'steps.jsonl'))).filter((s) => s.step <= state.step),
    test, testReport: summarizeScores(test),
    totalSteps: state.config.epochs * state.config.stepsPerEpoch,
    wallSeconds: state.wallSeconds,
  };
}

/**
 * Runs (or resumes) every arm of the plan into `outDir` and returns their results, or 'cancelled'
 * when the signal fired (the running arm keeps a checkpoint; a rerun resumes it).
 */
export async function runExperiment(
  plan: ExperimentPlan, outDir: string, events: ExperimentEvents = {}, control: { signal?: AbortSignal } = {},
): Promise<ExperimentResult | 'cancelled'> {
  await claimOutDir(plan, outDir);
  let data: ExperimentData | null = null;
  const results: ArmResult[] = [];
  for (const [index, arm] of plan.arms.entries()) {
    const dir = armDir(outDir, arm);
    const config = armConfig(plan, arm);
    const totalSteps = config.epochs * config.stepsPerEpoch;
    const last = checkpointDir(dir, 'last');
    const testPath = join(dir, 'test.json');
    const stepsPath = join(dir, 'steps.jsonl');
    if (existsSync(testPath) && existsSync(last)) {
      const result = await finishedArm(plan, arm, dir);
      events.armStart?.(arm, { index, count: plan.arms.length, state: 'done', step: totalSteps, totalSteps });
      events.armDone?.(arm, result);
      results.push(result);
      continue;
    }
    if (!data) {
      events.phase?.(`loading the ${plan.data.corpus} corpus (train, validation and test splits)`);
      data = await loadData(plan, config);
    }
    const resume = existsSync(last);
    await mkdir(dir, { recursive: true });
    const trainer = await Trainer.create(config, data.source, dir, { resume });
    try {
      let steps: StepLog[];
      if (resume) {
        // Steps logged after the checkpoint are redone by the resumed run.
        steps = (await readSteps(stepsPath)).filter((s) => s.step <= trainer.trainerState.step);
      } else {
        steps = [];
        const fingerprint: ArmFingerprint = {
          initHash: weightsHash(trainer.model),
          firstBatchHash: batchHash(data.source.trainBatch(0, config.batchSize)),
          params: trainer.model.variables.reduce((n, v) => n + v.size, 0),
          backend: tf.getBackend(),
        };
        await writeJsonAtomic(join(dir, 'arm.json'), fingerprint);
      }
      await writeFile(stepsPath, steps.map((s) => `${JSON.stringify(s)}\n`).join(''));
      events.armStart?.(arm, { index, count: plan.arms.length, state: resume ? 'resumed' : 'fresh', step: trainer.trainerState.step, totalSteps });
      const outcome = await trainer.run({
        progress: (p) => {
          const log = stepLog(p);
          steps.push(log);
          // Synchronous: the log must be complete, in order, when the arm's result is read back.
          appendFileSync(stepsPath, `${JSON.stringify(log)}\n`);
          events.progress?.(arm, p);
        },
        epoch: (r) => events.epoch?.(arm, r),
        warning: (m) => events.warning?.(`${arm.id}: ${m}`),
      }, { signal: control.signal });
      if (outcome === 'cancelled') return 'cancelled';
      events.phase?.(`${arm.id}: scoring ${plan.test.mixtures} held-out test mixtures`);
      const test: TestScores = { ...scoreBatches(trainer.model, data.test), snrDb: data.testSnr };
      await writeJsonAtomic(testPath, test);
    } finally {
      trainer.dispose();
    }
    const result = await finishedArm(plan, arm, dir);
    events.armDone?.(arm, result);
    results.push(result);
  }
  return { plan, outDir, arms: results };
}
