import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import { SILENT_STEM_FLOOR_DB, stemLevelDb_BST } from '../../../core/losses';

before(async () => {
  await initBackend('wasm');
});

test('stem level: 0 dB for the whole mixture, -floor for silence, 20 log10(g) for a scaled mixture', () => {
  const time = 400;
  const mix = Float32Array.from({ length: time }, (_, i) => Math.sin(i * 0.3) + 0.2 * Math.cos(i * 1.7));
  const stems = new Float32Array(2 * time);
  stems.set(mix.map((v) => 0.1 * v), 0); // stem 0: mixture at -20 dB
  // stem 1 silent
  const levels = tf.tidy(() => stemLevelDb_BST(tf.tensor3d(stems, [1, 2, time]), tf.tensor2d(mix, [1, time])).arraySync()[0]!);
  assert.ok(Math.abs(levels[0]! - 10 * Math.log10(0.01 + 1e-3)) < 1e-4, `scaled stem: ${levels[0]}`);
  assert.ok(Math.abs(levels[1]! + SILENT_STEM_FLOOR_DB) < 1e-4, `silent stem: ${levels[1]}`);
  const whole = tf.tidy(() => stemLevelDb_BST(tf.tensor3d(mix, [1, 1, time]), tf.tensor2d(mix, [1, time]), 60).dataSync()[0]!);
  assert.ok(Math.abs(whole) < 1e-4, `whole mixture: ${whole}`);
});

test('stem level: the gradient stays finite for a silent stem; bad shapes are refused', () => {
  const time = 64;
  const mix = tf.tensor2d(Float32Array.from({ length: time }, (_, i) => Math.sin(i)), [1, time]);
  const stems = tf.zeros([1, 2, time]) as tf.Tensor3D;
  const grad = tf.grad((s) => tf.sum(stemLevelDb_BST(s as tf.Tensor3D, mix)))(stems);
  assert.ok(grad.dataSync().every(Number.isFinite));
  assert.throws(() => stemLevelDb_BST(stems, tf.zeros([1, time + 1]) as tf.Tensor2D), /stemLevelDb_BST: expected stems \[batch, nSrc, time\]/);
  tf.dispose([mix, stems, grad]);
});
