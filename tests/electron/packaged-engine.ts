// Bundled by workers.test.ts and run with plain node (no tsx): the engine set up the way the desktop
// main process sets it up, driving the built engine and training workers. It fine-tunes a model,
// separates a file with the result, exports the stems, fine-tunes through the built training worker
// over 1 and 2 gradient workers, and writes what happened to a JSON file.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../../core/engine/host';
import { TrainingJob } from '../../core/train/host';
import type { FromTrainWorker } from '../../core/train/protocol';
import type { EngineEvent, ExportResult } from '../../core/engine/types';
import { waitForEvent } from '../core/engine/events';

export interface DriverArgs {
  /** The built dist/electron folder. */
  workersDir: string;
  /** Holds models/tiny (the base model); the engine's folders go here too. */
  root: string;
  corpusCacheDir: string;
  audioFile: string;
  resultFile: string;
}

export interface DriverResult {
  events: EngineEvent[];
  exported: ExportResult;
  /** The training worker's messages for a 2-step run over 1 and over 2 gradient workers. */
  byWorkers: Record<'1' | '2', FromTrainWorker[]>;
}

/** A 2-step fine-tune of models/tiny through the built training worker. */
async function fineTune(workers: number): Promise<FromTrainWorker[]> {
  const messages: FromTrainWorker[] = [];
  const job = new TrainingJob({
    config: {
      name: `workers-${workers}`, seed: 1, model: { from: join(args.root, 'models', 'tiny') },
      data: { corpus: 'ci', cacheDir: args.corpusCacheDir, segmentSeconds: 0.5 },
      batchSize: 3, epochs: 1, stepsPerEpoch: 2, validation: { mixtures: 2, batchSize: 2 },
      reweighting: [{ robust: { alpha: 0.5 } }],
    },
    runDir: join(args.root, `workers-${workers}`), workers,
    workerUrl: pathToFileURL(join(args.workersDir, 'train-worker.js')),
  }, (m) => messages.push(m));
  await job.done;
  return messages;
}

const args = JSON.parse(process.argv[2]!) as DriverArgs;
const engine = new Engine({
  modelsDir: join(args.root, 'models'), builtinModelsDirs: [], settingsFile: join(args.root, 'settings.json'),
  workDir: join(args.root, 'work'), exportDir: join(args.root, 'exports'),
  workerUrl: pathToFileURL(join(args.workersDir, 'engine-worker.js')),
  trainWorkerUrl: pathToFileURL(join(args.workersDir, 'train-worker.js')),
  training: { corpus: 'ci', cacheDir: args.corpusCacheDir, validation: { mixtures: 2, batchSize: 2 } },
});
const events: EngineEvent[] = [];
engine.on((e) => events.push(e));
try {
  const train = await engine.train({
    name: 'Bundled tilt', baseModelId: 'tiny', data: { kind: 'corpus' }, reweighting: [{ class: { speech: 3, env: 0 } }],
    steps: 2, batchSize: 2, segmentSec: 0.5, lr: 1e-3, seed: 1, validateEvery: 2,
  });
  const trained = await waitForEvent(engine, events, train.jobId, ['train-done', 'job-failed']);
  if (trained.type !== 'train-done') throw new Error(`training failed: ${JSON.stringify(trained)}`);
  const sep = await engine.separate({ input: { kind: 'path', path: args.audioFile }, modelId: trained.modelId });
  const separated = await waitForEvent(engine, events, sep.jobId, ['separate-done', 'job-failed']);
  if (separated.type !== 'separate-done') throw new Error(`separation failed: ${JSON.stringify(separated)}`);
  const exported = await engine.exportStems({ resultId: separated.result.resultId, stems: [], format: 'wav16', rate: 'input' });
  const byWorkers = { 1: await fineTune(1), 2: await fineTune(2) };
  const result: DriverResult = { events, exported, byWorkers };
  await writeFile(args.resultFile, JSON.stringify(result));
} finally {
  await engine.close();
}
