// The private parts of TensorFlow.js that Tilt relies on, checked against the exact version pinned in
// package.json: an upgrade that changes any of them fails here, not deep inside training or a kernel.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initBackend } from '../../core/backend';
import { tf } from '../../core/tf';

const require = createRequire(import.meta.url);
const pinned = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>; optionalDependencies: Record<string, string>;
};

before(async () => {
  await initBackend('wasm');
});

test('the @tensorflow packages are pinned to one exact version, and that version is installed', () => {
  const wanted = { ...pinned.dependencies, ...pinned.optionalDependencies };
  const names = Object.keys(wanted).filter((n) => n.startsWith('@tensorflow/'));
  assert.ok(names.length >= 2);
  for (const name of names) assert.match(wanted[name]!, /^\d+\.\d+\.\d+$/, `${name} is pinned exactly`);
  assert.equal(new Set(names.map((n) => wanted[n])).size, 1, 'one version for all of them');
  for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-core']) {
    assert.equal((require(`${name}/package.json`) as { version: string }).version, wanted['@tensorflow/tfjs'], name);
  }
});

test('Adam keeps its running powers as variables and reads its learning rate field at every step (checkpoint.ts, trainer.ts)', () => {
  const v = tf.variable(tf.tensor1d([1, 2]));
  const adam = tf.train.adam(0.1);
  const o = adam as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable; learningRate: number };
  const step = () => adam.applyGradients([{ name: v.name, tensor: tf.tensor1d([1, -1]) }]);
  step();
  assert.ok(o.accBeta1 instanceof tf.Variable && o.accBeta2 instanceof tf.Variable);
  assert.ok(Math.abs(o.accBeta1.dataSync()[0]! - 0.9 ** 2) < 1e-6, 'beta1^t, advanced once per step');
  const before = v.dataSync().slice();
  o.learningRate = 0;
  step();
  assert.deepEqual(v.dataSync(), before, 'learning rate 0 set on the field: no change');
  adam.dispose();
  v.dispose();
});

test('the wasm backend exposes its heap, outputs made on it and their addresses (ops.ts heap kernels)', () => {
  const backend = tf.backend() as unknown as {
    wasm: { asm: { memory: WebAssembly.Memory } };
    makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
    typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
    disposeData(dataId: tf.DataId, force: boolean): boolean;
  };
  assert.ok(backend.wasm.asm.memory instanceof WebAssembly.Memory);
  const info = backend.makeOutput([3], 'float32');
  const view = backend.typedArrayFromHeap(info);
  assert.equal(view.buffer, backend.wasm.asm.memory.buffer);
  view.set([1, 2, 3]);
  const t = tf.engine().makeTensorFromTensorInfo(info);
  assert.deepEqual(Array.from(t.dataSync()), [1, 2, 3]);
  t.dispose();
});

test('the engine lists live variables by name (sudormrf.ts picks unused scopes with it)', () => {
  const v = tf.variable(tf.scalar(1), true, 'internals-check/x');
  assert.ok('internals-check/x' in tf.engine().registeredVariables);
  v.dispose();
  assert.ok(!('internals-check/x' in tf.engine().registeredVariables));
});

test('customGrad passes a save function as the last argument and the saved tensors to the gradient (ops.ts custom)', () => {
  const square = tf.customGrad(((x: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
    save([x]);
    return { value: x.square(), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [dy.mul(saved[0]!).mul(2)] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const g = tf.grad((x: tf.Tensor) => square(x) as tf.Tensor)(tf.tensor1d([3]));
  assert.deepEqual(Array.from(g.dataSync()), [6]);
});
