// Child process for checkpoint.test.ts: saves a checkpoint of a tiny model at step 1, then saves
// step 2 and kills itself (SIGKILL, no clean-up of any kind) right after the save has moved the
// step-1 checkpoint aside and before it renames the new one into place.
import { syncBuiltinESMExports } from 'node:module';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import { createSudoRmRf, PRESETS } from '../../../core/models/sudormrf';
import { parseTrainConfig } from '../../../core/train/config';
import { saveCheckpoint, type TrainerState } from '../../../core/train/checkpoint';

const [dir] = process.argv.slice(2);
if (!dir) throw new Error('usage: killDuringSave.ts <checkpoint dir>');
await initBackend('cpu');
const config = parseTrainConfig({ name: 'kill', model: { preset: '0.25x', overrides: { nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 } }, data: { corpus: 'ci' } });
const model = createSudoRmRf({ ...PRESETS['0.25x'], nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 }, 1);
// `best` checkpoints carry no optimizer state.
const optimizer = basename(dir) === 'best' ? null : tf.train.adam(1e-3);
const state = (step: number): TrainerState => ({
  config, step, lr: 1e-3, history: [], best: null, sinceImprovement: 0, rollbacks: 0, stems: null, wallSeconds: 0,
});
await saveCheckpoint(dir, model, optimizer, state(1));

const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
const rename = fsp.rename;
fsp.rename = async (from, to) => {
  await rename(from, to);
  if (from === dir) process.kill(process.pid, 'SIGKILL');
};
syncBuiltinESMExports();
await saveCheckpoint(dir, model, optimizer, state(2));
throw new Error('the save finished: the kill never happened');
