// kernels.wat, the WebAssembly SIMD module that runs in place on tfjs's wasm heap: the committed
// binary is a fresh compile of the source, the module owns no memory, every kernel writes only the
// outputs and scratch it is handed and reads only its inputs, and the kernels keep finding their
// tensors when the heap grows. Numerics against the tf-op formulation are in ops.test.ts.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { Tensor2D, Tensor3D } from '../../../core/tf';
import { KERNELS_WASM_BASE64 } from '../../../core/models/kernels-wasm';
import { simdKernels, type SimdKernels } from '../../../core/models/simd';
import { depthwise } from '../../../core/models/ops';
import { withTfOps } from '../../../core/models/kernels/registry';
import { compileKernels, kernelsModuleSource, KERNELS_MODULE } from '../../../scripts/build-kernels';
import { maxRelErr } from './compare';

before(async () => {
  assert.equal((await initBackend()).tfBackend, 'wasm');
});

// First, while the heap is still at its initial size (each test file runs in its own process).
test('kernels find their tensors after the wasm heap grows during their own allocations', () => {
  const memory = (tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } }).wasm.asm.memory;
  const kernels = simdKernels(memory);
  assert.ok(kernels);
  // An input as large as the whole heap: the output allocation inside the kernel cannot fit without growing it.
  const ch = 64;
  const time = Math.ceil(memory.buffer.byteLength / 4 / ch);
  const x = tf.randomNormal([1, time, ch], 0, 1, 'float32', 1) as Tensor3D;
  const w = tf.randomNormal([5, ch], 0, 1, 'float32', 2) as Tensor2D;
  const b = tf.randomNormal([ch], 0, 1, 'float32', 3);
  const heapBefore = memory.buffer.byteLength;
  const y = depthwise(x, w, b, 1);
  assert.ok(memory.buffer.byteLength > heapBefore, `the heap did not grow (${heapBefore} bytes)`);
  assert.equal(simdKernels(memory), kernels, 'one instance per memory, kept across growth');
  const ref = withTfOps(() => depthwise(x, w, b, 1));
  assert.ok(maxRelErr(y.dataSync(), ref.dataSync()) < 1e-6);
  tf.dispose([x, w, b, y, ref]);
});

test('the committed kernels-wasm.ts is a fresh compile of kernels.wat', async () => {
  assert.equal(await readFile(KERNELS_MODULE, 'utf8'), kernelsModuleSource(await compileKernels()));
});

test('a shared heap (the threaded wasm build) gets no kernels: the ops keep the tf-op formulation there', () => {
  assert.equal(simdKernels(new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true })), null);
});

/** Ids of the binary's sections, in order. */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let i = 8; // magic and version
  while (i < bytes.length) {
    ids.push(bytes[i++]!);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[i++]!;
      size |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    i += size;
  }
  return ids;
}

test('the module owns no memory: it imports env.memory and has no memory, global, start or data section', () => {
  const bytes = Buffer.from(KERNELS_WASM_BASE64, 'base64');
  const module = new WebAssembly.Module(bytes);
  assert.deepEqual(WebAssembly.Module.imports(module), [{ module: 'env', name: 'memory', kind: 'memory' }]);
  assert.ok(WebAssembly.Module.exports(module).every((e) => e.kind === 'function'));
  const ids = sectionIds(bytes);
  assert.deepEqual(ids, [1, 2, 3, 7, 10], 'type, import, function, export and code sections only');
});

/**
 * Fill of every word the test did not set: signalling NaNs whose payload is the word's index, so that
 * a result computed from one is NaN, and a stray write differs from what was there, whether it is
 * computed (arithmetic quiets NaNs) or copied (from another index).
 */
const sentinel = (i: number) => 0x7fa00000 | (i & 0xfffff) | 1;

/** A fresh memory carved into buffers with sentinel gaps between them, at varying alignment. */
class Arena {
  readonly memory = new WebAssembly.Memory({ initial: 8 });
  readonly kernels: SimdKernels = simdKernels(this.memory)!;
  private next = 68;
  private seed = 1;

  constructor() {
    const words = new Uint32Array(this.memory.buffer);
    for (let i = 0; i < words.length; i++) words[i] = sentinel(i);
  }

  /** n floats; filled with `values` or uniform randoms in [lo, hi), or left as sentinel (outputs). */
  alloc(n: number, fill?: { lo: number; hi: number } | number[]): number {
    const at = this.next;
    this.next += 4 * n + 36;
    const f = new Float32Array(this.memory.buffer, at, n);
    if (Array.isArray(fill)) f.set(fill);
    else if (fill) for (let i = 0; i < n; i++) f[i] = fill.lo + (fill.hi - fill.lo) * this.random();
    return at;
  }

  private random(): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31;
    return this.seed / 2 ** 31;
  }
}

const R = { lo: -2, hi: 2 };

/**
 * Runs `call` on inputs of the given sizes (randoms, or explicit values) and outputs of the given
 * sizes, then checks that nothing but the outputs changed and that every output float was written
 * with a finite value (a read outside the inputs would have pulled in the NaN sentinel).
 */
function assertConfined(name: string, inputs: (number | number[])[], outputs: number[], call: (k: SimdKernels, ins: number[], outs: number[]) => void) {
  const arena = new Arena();
  const ins = inputs.map((n) => (typeof n === 'number' ? arena.alloc(n, R) : arena.alloc(n.length, n)));
  const outs = outputs.map((n) => arena.alloc(n));
  const before = new Uint32Array(arena.memory.buffer).slice();
  call(arena.kernels, ins, outs);
  const after = new Uint32Array(arena.memory.buffer);
  const floats = new Float32Array(arena.memory.buffer);
  const inOutput = new Uint8Array(after.length);
  outs.forEach((at, j) => {
    for (let i = at / 4; i < at / 4 + outputs[j]!; i++) {
      inOutput[i] = 1;
      assert.ok(Number.isFinite(floats[i]), `${name}: output ${j} element ${i - at / 4} is ${floats[i]}`);
    }
  });
  for (let i = 0; i < after.length; i++) {
    if (!inOutput[i] && after[i] !== before[i]) assert.fail(`${name}: wrote byte ${4 * i} outside its outputs`);
  }
}

test('every kernel writes only its outputs and scratch and reads only its inputs', () => {
  for (const [batch, time, ch, k] of [[2, 7, 7, 5], [1, 9, 4, 3], [2, 70, 5, 5], [3, 2, 9, 5]] as const) {
    for (const stride of [1, 2]) {
      const tOut = Math.ceil(time / stride);
      const at = `[${batch}, ${time}, ${ch}] k=${k} stride ${stride}`;
      assertConfined(`depthwise ${at}`, [batch * time * ch, k * ch, ch], [batch * tOut * ch], (K, [x, w, b], [y]) =>
        K.depthwise(x!, w!, b!, y!, batch, time, tOut, ch, k, stride));
      assertConfined(`depthwise_input_grad ${at}`, [batch * tOut * ch, k * ch], [batch * time * ch], (K, [dy, w], [dx]) =>
        K.depthwise_input_grad(dy!, w!, dx!, batch, time, tOut, ch, k, stride));
      assertConfined(`depthwise_filter_grad ${at}`, [batch * tOut * ch, batch * time * ch], [k * ch, ch, (k + 1) * ch], (K, [dy, x], [dw, db, tmp]) =>
        K.depthwise_filter_grad(dy!, x!, dw!, db!, tmp!, batch, time, tOut, ch, k, stride));
    }
  }
  for (const [batch, time, ch] of [[2, 70, 7], [1, 300, 5], [3, 5, 8]] as const) {
    const n = batch * time * ch;
    const at = `[${batch}, ${time}, ${ch}]`;
    const stats = Array.from({ length: batch }, (_, i) => [0.1 * i, 1 + 0.2 * i]).flat();
    assertConfined(`gln_forward ${at}`, [n, ch, ch], [n, 2 * batch], (K, [x, g, b], [y, st]) => K.gln_forward(x!, g!, b!, y!, st!, batch, time, ch, 1e-8));
    assertConfined(`gln_backward ${at}`, [n, n, ch, stats], [n, ch, ch, 2 * ch], (K, [dy, x, g, st], [dx, dg, db, tmp]) =>
      K.gln_backward(dy!, x!, g!, st!, dx!, dg!, db!, tmp!, batch, time, ch));
    assertConfined(`prelu_backward ${at}`, [n, n, ch], [n, ch, ch], (K, [dy, x, a], [dx, da, tmp]) => K.prelu_backward(dy!, x!, a!, dx!, da!, tmp!, batch * time, ch));
    assertConfined(`column_sum ${at}`, [n], [ch, ch], (K, [x], [out, tmp]) => K.column_sum(x!, out!, tmp!, batch * time, ch));
    const tc = Math.ceil(time / 2);
    assertConfined(`add_upsampled ${at}`, [n, batch * tc * ch], [n], (K, [f, c], [out]) => K.add_upsampled(f!, c!, out!, batch, time, tc, ch));
    assertConfined(`pair_sum ${at}`, [2 * n], [n], (K, [dy], [out]) => K.pair_sum(dy!, out!, batch * time, ch));
  }
  for (const [nSrc, nBasis] of [[2, 6], [1, 9], [3, 4]] as const) {
    const kernel = nBasis + 1;
    assertConfined(`band_matrix ${nSrc} x ${nBasis}`, [nSrc * kernel], [nBasis * nBasis * nSrc], (K, [w], [m]) => K.band_matrix(w!, m!, nSrc, kernel, nBasis));
    assertConfined(`band_matrix_grad ${nSrc} x ${nBasis}`, [nBasis * nBasis * nSrc], [nSrc * kernel], (K, [dm], [dw]) => K.band_matrix_grad(dm!, dw!, nSrc, kernel, nBasis));
  }
  for (const [units, k] of [[7, 1], [70, 2], [9, 3], [4, 2]] as const) {
    const masks = Array.from({ length: units * k }, () => 1 / k);
    assertConfined(`masked_softmax ${units} x ${k}`, [units * k, k, units], [units * k, units * k], (K, [l, b, e], [out, m]) =>
      K.masked_softmax(l!, b!, e!, out!, m!, units, k));
    assertConfined(`masked_softmax_grad ${units} x ${k}`, [units * k, masks, units], [units * k, k, units, k], (K, [dy, m, e], [dl, db, de, tmp]) =>
      K.masked_softmax_grad(dy!, m!, e!, dl!, db!, de!, tmp!, units, k));
  }
});
