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

test('the input level and fixed slots survive a save whatever metadata the caller passes', async () => {
  const m = createSudoRmRf(TINY, 22);
  m.inputStd = 0.0173;
  m.fixedSlots = true;
  const folder = join(dir, 'own');
  await saveModel(m, folder, { name: 'shipped' });
  const { model, metadata } = await loadModel(folder);
  assert.equal(model.fixedSlots, true, 'separation keeps the stems in order instead of aligning chunks');
  assert.equal(model.inputStd, 0.0173);
  assert.deepEqual(metadata, { name: 'shipped', inputStd: 0.0173, slots: 'fixed' });
  // A caller's own level wins; a model without fixed slots records none.
  m.fixedSlots = undefined;
  await saveModel(m, folder, { inputStd: 0.02 });
  const again = await loadModel(folder);
  assert.equal(again.model.fixedSlots, undefined);
  assert.deepEqual(again.metadata, { inputStd: 0.02 });
  for (const x of [m, model, again.model]) x.dispose();
});

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
    // The decoder bias is zero and frozen from creation, so the loaded model is the saved one.
    assert.deepEqual(Array.from(m.namedWeights().get('decoder/bias')!.dataSync()), [0, 0]);
    assert.equal(m.namedWeights().get('decoder/bias')!.trainable, false);
    assert.deepEqual(Array.from(model.apply(x).dataSync()), Array.from(m.apply(x).dataSync()));
    // Models saved before it was frozen carry a random-walked bias: it is dropped on load.
    const old = join(dir, 'old-bias');
    m.namedWeights().get('decoder/bias')!.assign(tf.tensor1d([0.3, -0.2]));
    await saveModel(m, old);
    const reloaded = await loadModel(old);
    assert.deepEqual(Array.from(reloaded.model.namedWeights().get('decoder/bias')!.dataSync()), [0, 0]);
    reloaded.model.dispose();
    x.dispose();
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
