import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { Tensor2D, Tensor3D } from '../../../core/tf';
import { mixtureConsistent_BST, siSdr } from '../../../core/losses';
import { matchGains } from '../../../core/separate/separate';

before(async () => {
  await initBackend('wasm');
});

function noise(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5);
}

test('the stems add up to the mixture, whatever gains the outputs came with', () => {
  const T = 64;
  const [speech, env, other] = [noise(T, 1), noise(T, 2), noise(T, 3)];
  const mixture = speech.map((x, i) => x + env[i]!);
  const run = (a: Float32Array, b: Float32Array) => tf.tidy(() => {
    const out = mixtureConsistent_BST(tf.tensor3d([...a, ...b], [1, 2, T]) as Tensor3D, tf.tensor2d(mixture, [1, T]) as Tensor2D);
    return (out.arraySync() as number[][][])[0]!;
  });
  // Right stems at arbitrary gains come back as the stems themselves.
  const [s, n] = run(speech.map((x) => 0.1 * x), env.map((x) => -3 * x));
  for (let t = 0; t < T; t++) {
    assert.ok(Math.abs(s![t]! - speech[t]!) < 1e-4 && Math.abs(n![t]! - env[t]!) < 1e-4, `sample ${t}`);
  }
  // Wrong stems still add up to the mixture.
  const [x, y] = run(other, env);
  for (let t = 0; t < T; t++) assert.ok(Math.abs(x![t]! + y![t]! - mixture[t]!) < 1e-5);
  assert.throws(() => tf.tidy(() => mixtureConsistent_BST(tf.zeros([1, 3, T]) as Tensor3D, tf.zeros([1, T]) as Tensor2D)), /implemented for two stems; the model has 3/);
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

test('training scores the stems separation delivers: the tensor twin of separate.ts\'s gain matching and projection agrees with it', () => {
  // separate.ts works on Float32Arrays in place, for any number of stems, with no gradient; this one on
  // tensors a loss backpropagates through. Each keeps its own code; this keeps them the same math.
  const T = 256;
  const [speech, env, other] = [noise(T, 21), noise(T, 22), noise(T, 23)];
  const mixture = speech.map((x, i) => x + 0.5 * env[i]!);
  for (const [a, b] of [[speech.map((x, i) => 0.2 * x + 0.1 * env[i]!), env.map((x) => -2 * x)], [other, env], [speech, new Float32Array(T)]]) {
    const tensor = tf.tidy(() => (mixtureConsistent_BST(tf.tensor3d([...a!, ...b!], [1, 2, T]) as Tensor3D, tf.tensor2d(mixture, [1, T]) as Tensor2D).arraySync() as number[][][])[0]!);
    // separate.ts: matchGains per chunk, then restoreScale's projection (at scale 1, no shift), the shortfall shared equally.
    const arrays = [Float32Array.from(a!), Float32Array.from(b!)];
    matchGains(arrays, mixture);
    for (let t = 0; t < T; t++) {
      const share = (mixture[t]! - arrays[0]![t]! - arrays[1]![t]!) / 2;
      for (const x of arrays) x[t]! += share;
    }
    for (let s = 0; s < 2; s++) {
      for (let t = 0; t < T; t++) assert.ok(Math.abs(tensor[s]![t]! - arrays[s]![t]!) < 1e-4, `stem ${s}, sample ${t}: ${tensor[s]![t]} vs ${arrays[s]![t]}`);
    }
  }
});
