import { tf } from '../tf';
import type { Separator } from '../models/types';
import { MODEL_RATE } from '../types';
import { planChunks, chunkSpan, chunkWeight, type ChunkPlan } from './chunks';
import { alignToPrevious, invertPermutation } from './align';

export interface SeparateOptions {
  /** Rate of the mixture; chunk sizes in seconds are converted with it. Default MODEL_RATE (8 kHz). */
  sampleRate?: number;
  /** Chunk length in seconds. Default 8. */
  windowSec?: number;
  /** Chunk hop in seconds. Default windowSec / 2 (50% overlap). At most windowSec - 2 * marginSec. */
  hopSec?: number;
  /** Output discarded at each chunk's inner edges, where the model lacks context. Default min(0.5, windowSec / 8). */
  marginSec?: number;
  /** Chunks per forward call; bounds the tensors alive at once. Default defaultBatchSize(). */
  batchSize?: number;
  /** Scale the input to zero mean and the model's input level (one global pass) and the stems back. Default true. */
  normalize?: boolean;
  /**
   * Give each chunk's stems the gains with which they best add up to the chunk (least squares).
   * Models trained with SI-SDR, a scale-invariant loss, leave each output's gain arbitrary. Default true.
   */
  matchGains?: boolean;
  /** Project the stems so they sum to the mixture (residual shared equally). Default true. */
  mixtureConsistency?: boolean;
  /** Undo output-order swaps between neighbouring chunks. Default true. */
  alignPermutations?: boolean;
  /** Called with the fraction of chunks done (0..1) after each forward call. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/**
 * windowSec: 8 s chunks are twice the 4 s training crops (so gLN sees plenty of context) and were the
 * fastest of 4 / 8 / 16 s on wasm here; one 8 s forward peaks near 300 MB of tensors for 0.25x and 1.0x.
 * maxMarginSec: 0.5 s covers the receptive field of the 0.25x and 0.5x models (about ±0.24 s and
 * ±0.47 s: each U-ConvBlock sees about ±47 encoder frames of 10 samples) and the well-trained centre
 * of the 1.0x one (±0.95 s).
 */
export const SEPARATE_DEFAULTS = {
  windowSec: 8,
  maxMarginSec: 0.5,
} as const;

/**
 * Batching pays on native TensorFlow (bigger matmuls, GPU); on wasm one thread does the same work
 * either way, so a batch of 1 halves the peak memory at no cost in speed.
 */
export function defaultBatchSize(): number {
  return tf.getBackend() === 'tensorflow' ? 4 : 1;
}

/** Bad mixture or options; `code` matches the engine's error codes. */
export class SeparationInputError extends Error {
  readonly code = 'bad-input';
  constructor(message: string) {
    super(message);
    this.name = 'SeparationInputError';
  }
}

/** Thrown when the AbortSignal fires; named AbortError like the platform's own. */
export class SeparationAbortedError extends Error {
  readonly code = 'cancelled';
  constructor(chunksDone: number, chunksTotal: number, options?: { cause?: unknown }) {
    super(`Separation cancelled after ${chunksDone} of ${chunksTotal} chunks`, options);
    this.name = 'AbortError';
  }
}

interface Resolved {
  window: number;
  hop: number;
  margin: number;
  batchSize: number;
}

function resolveOptions(opts: SeparateOptions): Resolved {
  const rate = opts.sampleRate ?? MODEL_RATE;
  const positive = (name: string, v: number): number => {
    if (!Number.isFinite(v) || v <= 0) throw new SeparationInputError(`separateSignal: ${name} must be a positive number, got ${v}`);
    return v;
  };
  positive('sampleRate', rate);
  const windowSec = positive('windowSec', opts.windowSec ?? SEPARATE_DEFAULTS.windowSec);
  const marginSec = opts.marginSec ?? Math.min(SEPARATE_DEFAULTS.maxMarginSec, windowSec / 8);
  if (!Number.isFinite(marginSec) || marginSec < 0) throw new SeparationInputError(`separateSignal: marginSec must be >= 0, got ${marginSec}`);
  const hopSec = positive('hopSec', opts.hopSec ?? windowSec / 2);
  const window = Math.round(windowSec * rate);
  const margin = Math.round(marginSec * rate);
  const hop = Math.round(hopSec * rate);
  if (window < 2 * margin + 1 || hop < 1 || hop > window - 2 * margin) {
    throw new SeparationInputError(
      `separateSignal: hopSec (${hopSec}) must be at least one sample and at most windowSec - 2 * marginSec (${windowSec} - 2 * ${marginSec})`,
    );
  }
  const batchSize = opts.batchSize ?? defaultBatchSize();
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new SeparationInputError(`separateSignal: batchSize must be a positive integer, got ${batchSize}`);
  return { window, hop, margin, batchSize };
}

/** One pass: mean, standard deviation, and a clear error at the first non-finite sample. */
function meanStd(x: Float32Array): { mean: number; std: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v)) throw new SeparationInputError(`separateSignal: the mixture has a non-finite sample (${v}) at index ${i}`);
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / x.length;
  return { mean, std: Math.sqrt(Math.max(0, sumSq / x.length - mean * mean)) };
}

// Below this the input is silence; dividing by it would only amplify rounding noise.
const MIN_STD = 1e-8;

const nextTask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Separates a mono mixture of any length into one stem per model source.
 *
 * The mixture is cut into overlapping chunks (see chunks.ts) and run through the model `batchSize`
 * chunks per call, so the tensors alive at once never depend on the signal's length; each chunk's
 * output is reordered to continue the previous chunk's (models trained with PIT may swap outputs
 * between chunks), blended into preallocated arrays, and finally given one global order: the one
 * that agrees with the model's own output order on most of the signal's energy, so stems named by
 * class keep their class.
 */
export async function separateSignal(model: Separator, mixture: Float32Array, opts: SeparateOptions = {}): Promise<Float32Array[]> {
  if (!(mixture instanceof Float32Array)) throw new SeparationInputError('separateSignal: the mixture must be a Float32Array');
  if (mixture.length === 0) throw new SeparationInputError('separateSignal: the mixture is empty (0 samples)');
  const { window, hop, margin, batchSize } = resolveOptions(opts);
  const { signal, onProgress } = opts;
  const normalize = opts.normalize ?? true;
  const { mean, std: rawStd } = meanStd(mixture);
  const shift = normalize ? mean : 0;
  const scale = normalize ? Math.max(rawStd, MIN_STD) / (model.inputStd ?? 1) : 1;

  const plan = planChunks(mixture.length, window, hop, margin);
  const nChunks = plan.starts.length;
  const nSrc = model.nSources;
  const slots = Array.from({ length: nSrc }, () => new Float32Array(mixture.length));
  const votes = new Map<string, { order: number[]; weight: number }>();
  const input = new Float32Array(Math.min(batchSize, nChunks) * plan.window);
  let prev: { k: number; stems: Float32Array[] } | null = null;

  for (let first = 0; first < nChunks; first += batchSize) {
    // Let timers and messages (a cancel button) run between forward calls.
    await nextTask();
    if (signal?.aborted) throw new SeparationAbortedError(first, nChunks, { cause: signal.reason });
    const count = Math.min(batchSize, nChunks - first);
    for (let b = 0; b < count; b++) {
      const start = plan.starts[first + b]!;
      for (let t = 0; t < plan.window; t++) input[b * plan.window + t] = (mixture[start + t]! - shift) / scale;
    }
    const out = await runModel(model, input.subarray(0, count * plan.window), count, plan.window); // [count, nSrc, window]
    for (let b = 0; b < count; b++) {
      const k = first + b;
      const raw = Array.from({ length: nSrc }, (_, j) => out.subarray((b * nSrc + j) * plan.window, (b * nSrc + j + 1) * plan.window));
      const order: number[] = prev && (opts.alignPermutations ?? true) ? alignChunk(plan, prev, k, raw) : raw.map((_, j) => j);
      const aligned: Float32Array[] = order.map((j) => raw[j]!);
      const chunkInput = input.subarray(b * plan.window, (b + 1) * plan.window);
      if (opts.matchGains ?? true) matchGains(aligned, chunkInput);
      addChunk(plan, k, aligned, slots);
      const weight = chunkEnergy(chunkInput);
      const key = order.join(',');
      const vote = votes.get(key) ?? { order, weight: 0 };
      vote.weight += weight;
      votes.set(key, vote);
      prev = { k, stems: aligned };
    }
    onProgress?.((first + count) / nChunks);
  }

  // Final stem c is the slot whose chunks most often (by energy) held the model's output c.
  const majority = [...votes.values()].reduce((a, b) => (b.weight > a.weight ? b : a));
  const stems = invertPermutation(majority.order).map((s) => slots[s]!);
  restoreScale(stems, mixture, shift, scale, opts.mixtureConsistency ?? true);
  return stems;
}

async function runModel(model: Separator, input: Float32Array, count: number, window: number): Promise<Float32Array> {
  const x = tf.tensor2d(input, [count, window]);
  let y: tf.Tensor | undefined;
  try {
    y = tf.tidy(() => model.apply(x as tf.Tensor2D));
    const want = [count, model.nSources, window];
    if (y.shape.length !== 3 || y.shape.some((d, i) => d !== want[i])) {
      throw new Error(`separateSignal: the model returned shape [${y.shape.join(', ')}] for input [${count}, ${window}]; expected [${want.join(', ')}]`);
    }
    const data = (await y.data()) as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new Error('separateSignal: the model produced non-finite output (NaN or Inf); its weights may be corrupt');
    }
    return data;
  } finally {
    x.dispose();
    y?.dispose();
  }
}

function alignChunk(plan: ChunkPlan, prev: { k: number; stems: Float32Array[] }, k: number, raw: Float32Array[]): number[] {
  const start = plan.starts[k]!;
  const prevStart = plan.starts[prev.k]!;
  // Compare where both chunks had context (the fade), or over their whole overlap when the fade is empty.
  let [lo, hi] = [plan.fadeLo[k]!, plan.fadeHi[k]!];
  if (hi <= lo) [lo, hi] = [start, prevStart + plan.window];
  return alignToPrevious(
    prev.stems.map((s) => s.subarray(lo - prevStart, hi - prevStart)),
    raw.map((s) => s.subarray(lo - start, hi - start)),
  );
}

function addChunk(plan: ChunkPlan, k: number, stems: Float32Array[], slots: Float32Array[]): void {
  const start = plan.starts[k]!;
  const [from, to] = chunkSpan(plan, k);
  for (let n = from; n < to; n++) {
    const w = chunkWeight(plan, k, n);
    for (let s = 0; s < stems.length; s++) slots[s]![n]! += w * stems[s]![n - start]!;
  }
}

function chunkEnergy(x: Float32Array): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) e += x[i]! * x[i]!;
  return e;
}

/** Back to the mixture's scale (its mean shared equally), then the mixture-consistency projection. */
/** Scales the estimates in place by the least-squares gains g minimising |mixture - sum_j g_j est_j|^2. */
export function matchGains(estimates: Float32Array[], mixture: Float32Array): void {
  const n = estimates.length;
  // Normal equations G g = r, G_jk = <est_j, est_k>, r_j = <est_j, mixture>; a tiny ridge keeps
  // silent outputs (gain 0) solvable.
  const gram = Array.from({ length: n }, () => new Float64Array(n + 1));
  for (let j = 0; j < n; j++) {
    const ej = estimates[j]!;
    for (let k = j; k < n; k++) {
      const ek = estimates[k]!;
      let dot = 0;
      for (let t = 0; t < ej.length; t++) dot += ej[t]! * ek[t]!;
      gram[j]![k] = dot;
      gram[k]![j] = dot;
    }
    let dot = 0;
    for (let t = 0; t < ej.length; t++) dot += ej[t]! * mixture[t]!;
    gram[j]![n] = dot;
  }
  for (let j = 0; j < n; j++) gram[j]![j]! += 1e-9 * gram[j]![j]! + 1e-30;
  // Gauss-Jordan with partial pivoting on the augmented [G | r].
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(gram[r]![c]!) > Math.abs(gram[pivot]![c]!)) pivot = r;
    [gram[c], gram[pivot]] = [gram[pivot]!, gram[c]!];
    const row = gram[c]!;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = gram[r]![c]! / row[c]!;
      for (let k = c; k <= n; k++) gram[r]![k]! -= f * row[k]!;
    }
  }
  for (let j = 0; j < n; j++) {
    const g = gram[j]![n]! / gram[j]![j]!;
    if (!Number.isFinite(g)) continue;
    const e = estimates[j]!;
    for (let t = 0; t < e.length; t++) e[t]! *= g;
  }
}

function restoreScale(stems: Float32Array[], mixture: Float32Array, shift: number, scale: number, consistency: boolean): void {
  const n = stems.length;
  const offset = shift / n;
  for (let t = 0; t < mixture.length; t++) {
    let sum = 0;
    for (let s = 0; s < n; s++) {
      const v = stems[s]![t]! * scale + offset;
      stems[s]![t] = v;
      sum += v;
    }
    if (consistency) {
      const share = (mixture[t]! - sum) / n;
      for (let s = 0; s < n; s++) stems[s]![t]! += share;
    }
  }
}
