// Child process for atomic.test.ts, run under `ulimit -f` so that every write past the limit fails
// part-way with EFBIG, as on a full disk. Tries each kind of write Tilt makes into <dir> and prints
// what each threw, one JSON line.
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import { writeFileAtomic } from '../../../core/io/atomic';
import { writeAudioFile } from '../../../core/io/audio';
import { saveModel } from '../../../core/models/io';
import { createSudoRmRf, PRESETS } from '../../../core/models/sudormrf';
import { writeJsonAtomic } from '../../../core/engine/models';
import { parseTrainConfig } from '../../../core/train/config';
import { saveCheckpoint } from '../../../core/train/checkpoint';

const [dir] = process.argv.slice(2);
if (!dir) throw new Error('usage: fullDisk.ts <dir>');
await initBackend('cpu');
const big = new Uint8Array(1 << 20).fill(7);
const audio = [new Float32Array(8000 * 60).fill(0.25)];
const model = createSudoRmRf(PRESETS['0.25x'], 1);
const config = parseTrainConfig({ name: 'full', model: { preset: '0.25x', overrides: {} }, data: { corpus: 'ci' } });
const writes: Record<string, () => Promise<unknown>> = {
  'writeFileAtomic': () => writeFileAtomic(`${dir}/file.bin`, big),
  'writeJsonAtomic': () => writeJsonAtomic(`${dir}/settings.json`, { pad: 'x'.repeat(1 << 20) }),
  'writeAudioFile': () => writeAudioFile(`${dir}/stem.wav`, audio, 8000, 'wav32f'),
  'writeAudioFile overwrite': () => writeAudioFile(`${dir}/stem.wav`, audio, 8000, 'wav32f', { overwrite: true }),
  'saveModel': () => saveModel(model, `${dir}/model`),
  'saveCheckpoint': () => saveCheckpoint(`${dir}/last`, model, tf.train.adam(1e-3), {
    config, step: 1, lr: 1e-3, history: [], best: null, sinceImprovement: 0, rollbacks: 0, stems: null, wallSeconds: 0,
  }),
};
const errors: Record<string, string | null> = {};
for (const [name, write] of Object.entries(writes)) {
  errors[name] = await write().then(() => null, (e: NodeJS.ErrnoException) => e.code ?? e.message);
}
console.log(JSON.stringify(errors));
