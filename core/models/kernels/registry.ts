// Registration of the heap kernels for the wasm backend (one kernel per file beside this one). The
// stock formulation of the memory-bound ops (depthwise conv and its gradients, reductions over leading
// axes, which wasm runs as transpose + sum, the composite norm and PReLU gradients) spends most of a
// step copying; these are the WebAssembly SIMD kernels of kernels.wat, one or two passes each, reading
// and writing the tensors in place on the backend's heap. Other backends (tfjs-node above all) keep
// ops.ts's tf-op formulation.
import { tf } from '../../tf';
import type { Tensor } from '../../tf';
import { simdKernels, type SimdKernels } from '../simd';

interface WasmHeapBackend {
  wasm: { asm: { memory: WebAssembly.Memory } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId, force: boolean): boolean;
}

export type Attrs = Record<string, number>;
/** Input shapes in `inputNames` order (at most four inputs). */
export type Shapes = [number[], number[], number[], number[]];

/**
 * Registers a wasm kernel that allocates its float32 outputs (and `scratch` floats of workspace, freed
 * after the call) and hands their byte addresses and those of the inputs to `body`. Addresses
 * survive the heap growing on allocation (only views detach).
 */
export function heapKernel(
  name: string,
  inputNames: string[],
  outShapes: (shapes: Shapes, attrs: Attrs) => number[][],
  body: (k: SimdKernels, outs: number[], ins: number[], shapes: Shapes, attrs: Attrs, scratch: number) => void,
  scratch: (shapes: Shapes, attrs: Attrs) => number = () => 0,
): void {
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const heap = backend as unknown as WasmHeapBackend;
      const infos = inputNames.map((n) => inputs[n]!);
      for (const t of infos) if (t.dtype !== 'float32') throw new Error(`${name}: float32 inputs only, got ${t.dtype}`);
      const shapes = infos.map((t) => t.shape) as Shapes;
      const outs = outShapes(shapes, attrs as Attrs).map((s) => heap.makeOutput(s, 'float32'));
      const scratchSize = scratch(shapes, attrs as Attrs);
      const work = scratchSize > 0 ? heap.makeOutput([scratchSize], 'float32') : null;
      const address = (t: tf.TensorInfo) => heap.typedArrayFromHeap(t).byteOffset;
      try {
        body(simdKernels(heap.wasm.asm.memory)!, outs.map(address), infos.map(address), shapes, attrs as Attrs, work ? address(work) : 0);
      } finally {
        if (work) heap.disposeData(work.dataId, true);
      }
      return outs.length === 1 ? outs[0]! : outs;
    },
  });
}

let heapKernelsEnabled = true;

/** Whether the ops below run on the heap kernels (wasm backend whose heap takes them) or the tf-op formulation. */
export function useHeapKernels(): boolean {
  return heapKernelsEnabled && tf.getBackend() === 'wasm' && simdKernels((tf.backend() as unknown as WasmHeapBackend).wasm.asm.memory) !== null;
}

/** Runs `f` with the tf-op formulation on every backend (numerical comparisons, A/B timing). */
export function withTfOps<T>(f: () => T): T {
  const before = heapKernelsEnabled;
  heapKernelsEnabled = false;
  try {
    return f();
  } finally {
    heapKernelsEnabled = before;
  }
}

export function run(name: string, inputs: Record<string, Tensor>, attrs: Attrs = {}): Tensor[] {
  const out = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs);
  return Array.isArray(out) ? (out as Tensor[]) : [out as Tensor];
}

export const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
