// Bundled by workers.test.ts and run with plain node (no tsx): the engine set up the way the desktop
// main process sets it up, driving the built engine and training workers. It fine-tunes a model,
// separates a file with the result, exports the stems and writes what happened to a JSON file.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../../core/engine/host';
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
  const result: DriverResult = { events, exported };
  await writeFile(args.resultFile, JSON.stringify(result));
} finally {
  await engine.close();
}
