// The wasm heap kernels (WebAssembly SIMD, kernels.wat) behind core/models/ops.ts against the tf-op
// formulation they replace (same backend, `withTfOps`) and, where that formulation cannot take the
// shape, the stock ops on cpu. Shapes cover the kernels' edges: channel counts with and without a
// scalar tail (ch % 4), more than 64 rows (partial sums are flushed every 64 rows), batch > 1.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { Tensor, Tensor2D, Tensor3D, Tensor4D } from '../../../core/tf';
import { addUpsampled, applyMasks, bandMatrix, depthwise, globalLayerNorm, linear, prelu } from '../../../core/models/ops';
import { withTfOps } from '../../../core/models/kernels/registry';
import { maxRelErr } from './compare';

let backend = '';
before(async () => {
  backend = (await initBackend()).tfBackend;
});

type Op = (...xs: Tensor[]) => Tensor;

/** Value of op(...inputs) and the gradients of sum(op * r) for every input, as plain arrays. */
function valueAndGrads(op: Op, inputs: Tensor[], seed: number): Float32Array[] {
  return tf.tidy(() => {
    const y = op(...inputs);
    const r = tf.randomNormal(y.shape, 0, 1, 'float32', seed);
    const grads = tf.grads((...xs: Tensor[]) => tf.sum(tf.mul(op(...xs), r)))(inputs);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function randn(shape: number[], seed: number): Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** Heap kernels (this backend) against the tf-op formulation on the same backend. */
function assertMatchesTfOps(name: string, op: Op, inputs: Tensor[], tol = 1e-5) {
  const fast = valueAndGrads(op, inputs, 99);
  const ref = withTfOps(() => valueAndGrads(op, inputs, 99));
  assert.equal(fast.length, ref.length);
  fast.forEach((f, i) => {
    const e = maxRelErr(f, ref[i]!);
    assert.ok(e < tol, `${name}: ${i === 0 ? 'value' : `gradient ${i - 1}`} differs by ${e}`);
  });
}

test('on wasm the gradients run on the heap kernels; withTfOps turns them off', async () => {
  assert.equal(backend, 'wasm');
  const x = randn([2, 10, 3], 1);
  const w = randn([5, 3], 2) as Tensor2D;
  const b = randn([3], 3);
  const grads = () => tf.grads((a: Tensor) => tf.sum(prelu(depthwise(a as Tensor3D, w, b, 2), b)))([x]).forEach((g) => g.dispose());
  const heap = await tf.profile(grads);
  for (const k of ['TiltDepthwise', 'TiltDepthwiseInputGrad', 'TiltDepthwiseFilterGrad', 'TiltPreluBackprop']) {
    assert.ok(heap.kernelNames.includes(k), `${k} not in ${heap.kernelNames.join()}`);
  }
  assert.ok(!heap.kernelNames.includes('DepthwiseConv2dNative'), heap.kernelNames.join());
  const stock = await tf.profile(() => withTfOps(grads));
  assert.ok(!stock.kernelNames.some((n) => n.startsWith('Tilt')), stock.kernelNames.join());
  tf.dispose([x, w, b]);
});

test('depthwise conv, stride 1 and 2, matches the tf-op formulation (odd lengths for stride 1)', () => {
  for (const [batch, time, ch, k, stride, seed] of [
    [1, 7, 3, 5, 1, 1], [3, 33, 5, 3, 1, 2], [2, 16, 4, 5, 2, 3], [1, 6, 7, 7, 2, 4], [2, 50, 9, 5, 2, 5],
    [3, 151, 12, 5, 1, 6], [2, 130, 16, 5, 2, 7], [2, 2, 6, 5, 2, 8], [1, 3, 4, 5, 1, 9], [4, 97, 10, 1, 1, 10],
  ] as const) {
    const inputs = [randn([batch, time, ch], seed), randn([k, ch], seed + 10), randn([ch], seed + 20)];
    const op: Op = (x, w, b) => depthwise(x as Tensor3D, w as Tensor2D, b!, stride);
    assertMatchesTfOps(`depthwise ${[batch, time, ch, k, stride]}`, op, inputs);
    tf.dispose(inputs);
  }
});

test('strided depthwise on odd lengths matches the stock depthwiseConv2d and its gradients on cpu', async () => {
  for (const [batch, time, ch, k, seed] of [[2, 9, 3, 5, 6], [1, 5, 4, 3, 7], [3, 21, 2, 5, 8], [2, 131, 9, 5, 9], [1, 1, 4, 5, 10]] as const) {
    const data = [randn([batch, time, ch], seed), randn([k, ch], seed + 10), randn([ch], seed + 20)];
    const arrays = data.map((t) => ({ values: t.dataSync().slice(), shape: t.shape }));
    const fast = valueAndGrads((x, w, b) => depthwise(x as Tensor3D, w as Tensor2D, b!, 2), data, 42);
    tf.dispose(data);
    await tf.setBackend('cpu');
    try {
      const ref = tf.tidy(() => {
        const ins = arrays.map((a) => tf.tensor(a.values, a.shape));
        const pad = (k - 1) / 2;
        const stock: Op = (x, w, b) => {
          const y = tf.depthwiseConv2d(x!.reshape([batch, time, 1, ch]) as Tensor4D, w!.reshape([k, 1, ch, 1]) as Tensor4D, [2, 1], [[0, 0], [pad, pad], [0, 0], [0, 0]]);
          return tf.add(y.reshape([batch, y.shape[1], ch]), b!);
        };
        // Same random cotangent as on wasm: the seeded generator is backend-independent.
        return valueAndGrads(stock, ins, 42);
      });
      fast.forEach((f, i) => assert.ok(maxRelErr(f, ref[i]!) < 1e-5, `[${batch}, ${time}, ${ch}] k=${k}: output ${i} differs`));
    } finally {
      await tf.setBackend(backend);
    }
  }
});

test('global layer norm matches the tf-op formulation', () => {
  for (const [batch, time, ch, seed] of [[1, 5, 3, 1], [3, 17, 8, 2], [2, 64, 33, 3], [3, 100, 12, 4], [2, 71, 13, 5], [2, 1, 3, 6]] as const) {
    const inputs = [tf.add(tf.mul(randn([batch, time, ch], seed), 3), 1.5), randn([ch], seed + 10), randn([ch], seed + 20)];
    assertMatchesTfOps(`gLN ${[batch, time, ch]}`, (x, g, b) => globalLayerNorm(x as Tensor3D, g!, b!), inputs, 1e-4);
    tf.dispose(inputs);
  }
});

test('PReLU matches the stock op and its gradient', () => {
  for (const [batch, time, ch, seed] of [[1, 3, 5, 1], [4, 11, 7, 2], [3, 50, 12, 3], [2, 40, 9, 4]] as const) {
    const inputs = [randn([batch, time, ch], seed), tf.mul(randn([ch], seed + 10), 0.3)];
    assertMatchesTfOps(`prelu ${[batch, time, ch]}`, (x, a) => prelu(x as Tensor3D, a!), inputs);
    tf.dispose(inputs);
  }
});

test('nearest x2 upsampling with an additive merge matches the tf-op formulation', () => {
  for (const [batch, coarse, ch, seed] of [[1, 1, 3, 1], [2, 7, 5, 2], [3, 13, 4, 3], [2, 40, 9, 4]] as const) {
    const inputs = [randn([batch, 2 * coarse, ch], seed), randn([batch, coarse, ch], seed + 10)];
    assertMatchesTfOps(`upsample ${[batch, coarse, ch]}`, (f, c) => addUpsampled(f as Tensor3D, c as Tensor3D), inputs);
    tf.dispose(inputs);
  }
});

test('the mask conv band matrix matches the tf-op formulation', () => {
  for (const [nSrc, nBasis, seed] of [[1, 4, 1], [2, 16, 2], [3, 10, 3], [2, 70, 4]] as const) {
    const inputs = [randn([nSrc, nBasis + 1], seed)];
    assertMatchesTfOps(`band ${[nSrc, nBasis]}`, (w) => bandMatrix(w as Tensor2D, nBasis), inputs);
    tf.dispose(inputs);
  }
});

test('linear (bias gradient as a column sum) matches the tf-op formulation', () => {
  for (const [n, cIn, cOut, seed] of [[1, 3, 2, 1], [37, 9, 5, 2], [150, 6, 12, 3], [131, 4, 7, 4]] as const) {
    const inputs = [randn([n, cIn], seed), randn([cIn, cOut], seed + 10), randn([cOut], seed + 20)];
    assertMatchesTfOps(`linear ${[n, cIn, cOut]}`, (x, w, b) => linear(x as Tensor2D, w as Tensor2D, b!), inputs);
    tf.dispose(inputs);
  }
});

test('masks (softmax across sources, sigmoid for one) times the encoding match the tf-op formulation', () => {
  for (const [rows, nBasis, nSrc, seed] of [[3, 4, 1, 1], [7, 6, 2, 2], [5, 9, 3, 3], [5, 7, 1, 4], [40, 9, 2, 5], [30, 8, 4, 6]] as const) {
    const inputs = [tf.mul(randn([rows, nBasis, nSrc], seed), 4), randn([nSrc], seed + 10), tf.relu(randn([rows, nBasis], seed + 20))];
    assertMatchesTfOps(`masks ${[rows, nBasis, nSrc]}`, (l, b, e) => applyMasks(l as Tensor3D, b!, e as Tensor2D), inputs);
    tf.dispose(inputs);
  }
});

test('the heap kernels leak neither tensors nor heap buffers (their scratch included)', () => {
  const x = randn([2, 70, 12], 1);
  const w = randn([5, 12], 2);
  const v = randn([12], 3);
  const everything = (a: Tensor, k: Tensor, b: Tensor) => {
    const h = prelu(globalLayerNorm(depthwise(a as Tensor3D, k as Tensor2D, b, 1), b, b), b);
    const d = depthwise(h, k as Tensor2D, b, 2);
    const flat = linear(addUpsampled(h, d).reshape([140, 12]) as Tensor2D, tf.eye(12) as Tensor2D, b);
    return tf.sum(applyMasks(flat.reshape([140, 6, 2]) as Tensor3D, b.slice([0], [2]), flat.slice([0, 0], [140, 6]) as Tensor2D));
  };
  const step = () => tf.tidy(() => tf.grads(everything)([x, w, v]).forEach((g) => g.dataSync()));
  step();
  const tensors = tf.memory().numTensors;
  const buffers = tf.backend().numDataIds();
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(tf.backend().numDataIds(), buffers);
  tf.dispose([x, w, v]);
});
