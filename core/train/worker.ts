// The training worker thread. Its first message picks its role: a training job ('start'), a gradient
// helper of such a job ('gradient-helper'), which that job starts from this same module so that
// bundled apps need no second entry point, or a check of a run's data ('check-data').
import { parentPort } from 'node:worker_threads';
import { runTrainingJob } from './jobWorker';
import { serveGradients } from './gradientWorker';
import { runDataCheck } from './checkWorker';
import type { StartDataCheck, StartGradientHelper, StartTraining } from './protocol';

const port = parentPort;
if (!port) throw new Error('core/train/worker.ts runs as a worker thread');

port.once('message', (first: StartTraining | StartGradientHelper | StartDataCheck) => {
  if (first.type === 'gradient-helper') serveGradients(port, first);
  else if (first.type === 'check-data') runDataCheck(port, first);
  else runTrainingJob(port, first, new URL(import.meta.url));
});
