// Deepening: the shipped model grown by four blocks separates real mixtures as the shipped model does,
// and the new blocks learn.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { Tensor2D } from '../../../core/tf';
import { loadClips, Mixer } from '../../../core/data/mixer';
import { BUILTIN_MODELS_DIR } from '../../../core/engine/paths';
import { siSdr } from '../../../core/losses';
import { deepen } from '../../../core/models/deepen';
import { loadModel } from '../../../core/models/io';
import type { SudoRmRf } from '../../../core/models/sudormrf';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';

let model: SudoRmRf;
let mixer: Mixer;

before(async () => {
  await initBackend('wasm');
  model = (await loadModel(join(BUILTIN_MODELS_DIR, 'tilt-default'))).model;
  const manifest = await ensureTestAudio();
  mixer = new Mixer(await loadClips(manifest.entries, { cacheDir: TEST_AUDIO_DIR, splits: ['train'] }), { segmentSeconds: 1, seed: 'deepen' });
});

after(() => model.dispose());

function mixtures(name: string, count: number): Tensor2D {
  const b = mixer.fixed(count, name);
  return tf.tensor2d(b.mixture, [b.batch, b.time]);
}

test('a deepened model starts where the trained one is: the same stems on real mixtures it was not calibrated on', () => {
  const calibration = mixtures('calibration', 8);
  const grown = deepen(model, model.config.nBlocks + 4, calibration, 5);
  calibration.dispose();
  const x = mixtures('check', 6);
  const tensorsBefore = tf.memory().numTensors;
  const [a, b] = [model.apply(x), grown.apply(x)];
  const [mine, theirs] = [a.arraySync(), b.arraySync()];
  tf.dispose([a, b, x]);
  assert.equal(tf.memory().numTensors, tensorsBefore - 1);
  assert.equal(grown.config.nBlocks, model.config.nBlocks + 4);
  assert.equal(grown.paramCount() > model.paramCount(), true);
  for (const [i, stems] of theirs.entries()) {
    for (const [s, stem] of stems.entries()) {
      // The new blocks' output norms restore the average level; each example's own differs a little.
      const agreement = siSdr(Float32Array.from(stem), Float32Array.from(mine[i]![s]!));
      assert.ok(agreement > 20, `mixture ${i} stem ${s}: the deepened model's stem is ${agreement.toFixed(1)} dB from the original's`);
    }
  }
  const old = model.namedWeights();
  for (const [name, v] of grown.namedWeights()) {
    const block = /^blocks\/(\d+)\//.exec(name);
    if (block && Number(block[1]) >= model.config.nBlocks) continue;
    assert.deepEqual(v.dataSync(), old.get(name)!.dataSync(), name);
  }
  grown.dispose();
});

test('the new blocks get gradient through the gain that switches their branch off', () => {
  const calibration = mixtures('calibration', 4);
  const grown = deepen(model, model.config.nBlocks + 1, calibration, 5);
  const gain = grown.namedWeights().get(`blocks/${model.config.nBlocks}/exp/norm/gamma`)!;
  const { grads } = tf.variableGrads(() => grown.apply(calibration).square().mean() as tf.Scalar, [gain]);
  const norm = grads[gain.name]!.norm().dataSync()[0]!;
  tf.dispose([calibration, ...Object.values(grads)]);
  grown.dispose();
  assert.ok(norm > 0, `gradient norm ${norm}`);
});

test('deepening refuses to shrink a model', () => {
  const calibration = mixtures('calibration', 1);
  const fewer = model.config.nBlocks - 1;
  assert.throws(() => deepen(model, fewer, calibration), new RegExp(`can grow to more, not to ${fewer}$`));
  calibration.dispose();
});
