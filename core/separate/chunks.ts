/**
 * How a long signal is cut into fixed-length chunks and how the chunks' outputs are blended back.
 *
 * Each chunk loses `margin` samples at both inner edges (the model saw no context there); the
 * kept parts of neighbouring chunks cross-fade with sin² / cos² ramps whose weights sum to exactly 1,
 * so a separator whose receptive field fits in the margin reproduces its single-pass output. The
 * first chunk keeps its leading edge and the last its trailing edge (the file's own ends), and the last
 * chunk is shifted back to end at the signal's end so no chunk is zero-padded.
 */
export interface ChunkPlan {
  /** Signal length in samples. */
  length: number;
  /** Length of every chunk (the signal's length when it fits in one). */
  window: number;
  /** Chunk start samples, strictly increasing. */
  starts: number[];
  /** fadeLo[k], fadeHi[k]: absolute [lo, hi) where chunk k fades in and chunk k-1 fades out (k ≥ 1). */
  fadeLo: number[];
  fadeHi: number[];
}

export function planChunks(length: number, window: number, hop: number, margin: number): ChunkPlan {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`planChunks: length must be a positive integer, got ${length}`);
  if (!Number.isInteger(margin) || margin < 0) throw new RangeError(`planChunks: margin must be a non-negative integer, got ${margin}`);
  if (!Number.isInteger(window) || window < 2 * margin + 1) {
    throw new RangeError(`planChunks: window (${window}) must be an integer longer than twice the margin (${margin})`);
  }
  if (!Number.isInteger(hop) || hop < 1 || hop > window - 2 * margin) {
    throw new RangeError(`planChunks: hop must be an integer in [1, window - 2*margin] = [1, ${window - 2 * margin}], got ${hop}`);
  }
  if (length <= window) return { length, window: length, starts: [0], fadeLo: [0], fadeHi: [0] };
  const starts: number[] = [];
  for (let s = 0; s + window < length; s += hop) starts.push(s);
  starts.push(length - window);
  const fadeLo = [0];
  const fadeHi = [0];
  for (let k = 1; k < starts.length; k++) {
    const hi = starts[k - 1]! + window - margin;
    // Starting no earlier than the previous fade's end keeps at most two chunks blended per sample.
    const lo = Math.max(starts[k]! + margin, fadeHi[k - 1]!);
    fadeLo.push(lo);
    fadeHi.push(hi);
  }
  return { length, window, starts, fadeLo, fadeHi };
}

/** The absolute sample range [from, to) where chunk k has non-zero weight. */
export function chunkSpan(plan: ChunkPlan, k: number): [number, number] {
  const last = plan.starts.length - 1;
  const from = k === 0 ? 0 : plan.fadeLo[k]!;
  const to = k === last ? plan.length : plan.fadeHi[k + 1]!;
  return [from, to];
}

/** Fade-in weight of chunk k at absolute sample n inside [fadeLo[k], fadeHi[k]). */
function fadeIn(plan: ChunkPlan, k: number, n: number): number {
  const lo = plan.fadeLo[k]!;
  const r = (n - lo + 0.5) / (plan.fadeHi[k]! - lo);
  const s = Math.sin((Math.PI / 2) * r);
  return s * s;
}

/** Weight of chunk k at absolute sample n; the weights of all chunks sum to 1 at every sample. */
export function chunkWeight(plan: ChunkPlan, k: number, n: number): number {
  const last = plan.starts.length - 1;
  if (k > 0 && n < plan.fadeHi[k]!) return n < plan.fadeLo[k]! ? 0 : fadeIn(plan, k, n);
  if (k < last && n >= plan.fadeLo[k + 1]!) return n >= plan.fadeHi[k + 1]! ? 0 : 1 - fadeIn(plan, k + 1, n);
  return 1;
}
