import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { Tensor2D, Tensor3D } from '../../../core/tf';
import { mixtureConsistent_BST, siSdr } from '../../../core/losses';

before(async () => {
  await initBackend('wasm');
});

function noise(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5);
}

test('projected estimates add up to the mixture, each moved by an equal share of the shortfall', () => {
  const T = 64;
  const est = tf.tensor3d([...noise(T, 1), ...noise(T, 2), ...noise(T, 3), ...noise(T, 4), ...noise(T, 5), ...noise(T, 6)], [2, 3, T]) as Tensor3D;
  const mixture = tf.tensor2d([...noise(T, 7), ...noise(T, 8)], [2, T]) as Tensor2D;
  const out = mixtureConsistent_BST(est, mixture);
  const sum = tf.sum(out, 1).arraySync() as number[][];
  const m = mixture.arraySync() as number[][];
  sum.forEach((row, b) => row.forEach((v, t) => assert.ok(Math.abs(v - m[b]![t]!) < 1e-6)));
  const moved = tf.sub(out, est).arraySync() as number[][][];
  for (const rows of moved) for (let t = 0; t < T; t++) assert.ok(Math.abs(rows[0]![t]! - rows[2]![t]!) < 1e-6, 'the same share for every source');
  const again = mixtureConsistent_BST(out, mixture);
  assert.ok((tf.max(tf.abs(tf.sub(again, out))).dataSync()[0]!) < 1e-6, 'consistent estimates stay as they are');
  tf.dispose([est, mixture, out, again]);
});

test('two stems: one stem\'s error is the other\'s negated, so SI-SDR differs only by what lies along each reference', () => {
  const T = 4000;
  const speech = noise(T, 11);
  const env = noise(T, 12).map((x) => 0.5 * x);
  const mixture = speech.map((x, i) => x + env[i]!);
  // A speech estimate holding 30 % of the env (error along env) and an unrelated env estimate.
  const rawSpeech = speech.map((x, i) => x + 0.3 * env[i]!);
  const projected = tf.tidy(() => mixtureConsistent_BST(tf.tensor3d([...rawSpeech, ...noise(T, 13)], [1, 2, T]) as Tensor3D, tf.tensor2d(mixture, [1, T]) as Tensor2D));
  const [s, n] = (projected.arraySync() as number[][][])[0]!.map((r) => Float32Array.from(r));
  projected.dispose();
  for (let i = 0; i < T; i++) assert.ok(Math.abs((s![i]! - speech[i]!) + (n![i]! - env[i]!)) < 1e-5);
  // Pure leakage along env: the env stem only loses scale (SI-SDR ignores it), the speech stem is hurt.
  const leakSpeech = speech.map((x, i) => x + 0.3 * env[i]!);
  const leakEnv = env.map((x) => 0.7 * x);
  assert.ok(siSdr(leakEnv, env) > 60, `env stem ${siSdr(leakEnv, env)} dB`);
  assert.ok(siSdr(leakSpeech, speech) < 20, `speech stem ${siSdr(leakSpeech, speech)} dB`);
});
