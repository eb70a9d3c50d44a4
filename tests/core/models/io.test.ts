import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { Tensor2D } from '../../../core/tf';
import { createSudoRmRf, type SudoRmRfConfig } from '../../../core/models/sudormrf';
import { loadModel, loadTensors, saveModel, saveTensors } from '../../../core/models/io';

const TINY: SudoRmRfConfig = {
  nSources: 2, nBlocks: 2, upsamplingDepth: 3, encBasis: 16, encKernel: 5, bottleneck: 8, hidden: 12, dwKernel: 5,
};

let dir = '';
before(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'tilt-models-'));
});
test.after(async () => rm(dir, { recursive: true, force: true }));

test('save/load round trip: same config, names, weights, outputs and metadata', async () => {
  const m = createSudoRmRf(TINY, 21);
  const folder = join(dir, 'rt');
  const card = { name: 'tiny', trainedSteps: 3, classes: ['speech', 'env'] };
  await saveModel(m, folder, card);
  const { model, metadata } = await loadModel(folder);
  try {
    assert.deepEqual(model.config, m.config);
    assert.deepEqual(model.weightNames, m.weightNames);
    assert.deepEqual(metadata, card);
    const x = tf.randomNormal([2, 123], 0, 1, 'float32', 1) as Tensor2D;
    const exact = await loadModel(folder, undefined, { exact: true });
    assert.deepEqual(Array.from(exact.model.apply(x).dataSync()), Array.from(m.apply(x).dataSync()));
    exact.model.dispose();
    // For use, the decoder bias (no true gradient under SI-SDR) is dropped: outputs differ by it alone.
    const bias = m.namedWeights().get('decoder/bias')!.dataSync();
    assert.ok(bias.some((b) => b !== 0));
    assert.deepEqual(Array.from(model.namedWeights().get('decoder/bias')!.dataSync()), [0, 0]);
    const [loaded, original] = [model.apply(x).dataSync(), m.apply(x).dataSync()];
    for (let i = 0; i < loaded.length; i++) assert.ok(Math.abs(loaded[i]! + bias[Math.floor(i / 123) % 2]! - original[i]!) < 1e-5);
    const json = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8'));
    assert.equal(json.format, 'tilt-sudormrf');
    assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
    tf.dispose(x);
  } finally {
    model.dispose();
    m.dispose();
  }
});

test('extra named tensors (optimizer state) round trip', async () => {
  const folder = join(dir, 'opt');
  const tensors = { 'adam/m/encoder': tf.tensor([1, 2, 3]), step: tf.scalar(7) };
  await saveTensors(folder, 'optimizer', tensors);
  const back = await loadTensors(folder, 'optimizer');
  assert.deepEqual(Object.keys(back).sort(), ['adam/m/encoder', 'step']);
  assert.deepEqual(Array.from(back['adam/m/encoder']!.dataSync()), [1, 2, 3]);
  assert.equal(back.step!.dataSync()[0], 7);
  await assert.rejects(saveTensors(folder, '../x', tensors), /invalid group name/);
  tf.dispose([...Object.values(tensors), ...Object.values(back)]);
});

test('missing, foreign and corrupt folders give clear errors', async () => {
  await assert.rejects(loadModel(join(dir, 'nope')), /cannot read .*model\.json \(ENOENT\)/);
  const m = createSudoRmRf(TINY, 1);
  const folder = join(dir, 'bad');
  await saveModel(m, folder);
  m.dispose();
  const before = tf.memory().numTensors;
  await truncate(join(folder, 'weights.bin'), 100);
  await assert.rejects(loadModel(folder), /holds 100 bytes.*corrupt or truncated/);
  await writeFile(join(folder, 'model.json'), '{"format": "tilt-sudormrf", "formatV');
  await assert.rejects(loadModel(folder), /not valid JSON/);
  await writeFile(join(folder, 'model.json'), JSON.stringify({ format: 'keras' }));
  await assert.rejects(loadModel(folder), /not a Tilt Sudo rm -rf model/);
  assert.equal(tf.memory().numTensors, before);
});
