// The training worker thread. Its first message picks its role: a training job ('start'), or a
// gradient helper of such a job ('gradient-helper'), which that job starts from this same module so
// that bundled apps need no second entry point.
import { parentPort } from 'node:worker_threads';
import { runTrainingJob } from './jobWorker';
import { serveGradients } from './gradientWorker';
import type { StartGradientHelper, StartTraining } from './protocol';

const port = parentPort;
if (!port) throw new Error('core/train/worker.ts runs as a worker thread');

port.once('message', (first: StartTraining | StartGradientHelper) => {
  if (first.type === 'gradient-helper') serveGradients(port, first);
  else runTrainingJob(port, first, new URL(import.meta.url));
});
