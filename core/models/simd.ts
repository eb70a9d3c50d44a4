// kernels.wat instantiated on the tfjs wasm backend's own WebAssembly.Memory, so that its SIMD
// kernels read and write tensors in place, by the byte addresses the backend allocated. The module
// owns no memory (no data segments, globals or stack) and writes only the outputs it is handed.
import { KERNELS_WASM_BASE64 } from './kernels-wasm';

/**
 * kernels.wat's exports; every tensor argument is a byte address in the backend's heap. `scratch` is
 * a float32 buffer for partial sums, of the size each function's comment in kernels.wat gives.
 */
export interface SimdKernels {
  depthwise(x: number, w: number, bias: number, y: number, batch: number, time: number, tOut: number, ch: number, k: number, stride: number): void;
  depthwise_input_grad(dy: number, w: number, dx: number, batch: number, time: number, tOut: number, ch: number, k: number, stride: number): void;
  depthwise_filter_grad(dy: number, x: number, dw: number, dbias: number, scratch: number, batch: number, time: number, tOut: number, ch: number, k: number, stride: number): void;
  gln_forward(x: number, gamma: number, beta: number, y: number, stats: number, batch: number, time: number, ch: number, eps: number): void;
  gln_backward(dy: number, x: number, gamma: number, stats: number, dx: number, dgamma: number, dbeta: number, scratch: number, batch: number, time: number, ch: number): void;
  prelu_backward(dy: number, x: number, alpha: number, dx: number, dalpha: number, scratch: number, rows: number, ch: number): void;
  add_upsampled(fine: number, coarse: number, out: number, batch: number, time: number, tc: number, ch: number): void;
  pair_sum(dy: number, out: number, pairs: number, ch: number): void;
  column_sum(x: number, out: number, scratch: number, rows: number, ch: number): void;
  band_matrix(w: number, m: number, nSrc: number, kernel: number, nBasis: number): void;
  band_matrix_grad(dm: number, dw: number, nSrc: number, kernel: number, nBasis: number): void;
  masked_softmax(logits: number, bias: number, enc: number, out: number, masks: number, units: number, k: number): void;
  masked_softmax_grad(dy: number, masks: number, enc: number, dl: number, dbias: number, denc: number, scratch: number, units: number, k: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where this runtime has no WebAssembly SIMD. */
function compiledModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(KERNELS_WASM_BASE64, 'base64');
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

const instances = new WeakMap<WebAssembly.Memory, SimdKernels | null>();

/**
 * The kernels on `memory`, one instance per memory (which keeps its identity when it grows); null
 * where the runtime has no WebAssembly SIMD or the memory is shared (the threaded wasm build), which
 * this module does not import.
 */
export function simdKernels(memory: WebAssembly.Memory): SimdKernels | null {
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    const module = compiledModule();
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    kernels = module && !shared ? (new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernels) : null;
    instances.set(memory, kernels);
  }
  return kernels;
}
