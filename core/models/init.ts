// Deterministic initialisation from a seed, matching PyTorch's defaults for the original modules
// (uniform +-1/sqrt(fan_in) for conv weights and biases, PReLU 0.25, norm gain 1 and shift 0), so
// that the same seed gives the same model on every backend.
import { tf } from '../tf';
import type { Tensor } from '../tf';

/** mulberry32: small, fast, good enough for weight init. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Init = { kind: 'uniform'; fanIn: number } | { kind: 'constant'; value: number };

export function initTensor(shape: number[], init: Init, rand: () => number): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  if (init.kind === 'constant') values.fill(init.value);
  else {
    const bound = 1 / Math.sqrt(init.fanIn);
    for (let i = 0; i < size; i++) values[i] = (2 * rand() - 1) * bound;
  }
  return tf.tensor(values, shape);
}
