import { tf } from '../tf';
import type { Separator } from '../models/types';
import { MODEL_RATE } from '../types';
import { blendFitsModel, SeparationInputError, SeparationOptionError } from './stems';
import { planChunks, chunkSpan, chunkWeight, type ChunkPlan } from './chunks';
import { alignToPrevious, invertPermutation } from './align';
import { energy } from '../dsp/energy';
import { autoBlendShare, RNNOISE_AUTO, SEPARATE_DEFAULTS, type DenoiserBlend } from './defaults';
import { RnnoiseReader, rnnoiseGain } from '../dsp/rnnoise';
import { AdaptAbortedError, adaptModel, ADAPT_DEFAULTS, soundWithoutVoice, type AdaptOptions, type AdaptReport } from '../train/adapt';

export interface SeparateOptions {
  /** Rate of the mixture; chunk sizes in seconds are converted with it. Default MODEL_RATE (8 kHz). */
  sampleRate?: number;
  /** Chunk length in seconds. Default 8. */
  windowSec?: number;
  /** Chunk hop in seconds. Default: neighbours overlap by their margins and a cross-fade of min(maxCrossfadeSec, windowSec / 8, half of what the margins leave). At most windowSec - 2 * marginSec. */
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
  /** Undo output-order swaps between neighbouring chunks. Default: true unless the model has fixed slots. */
  alignPermutations?: boolean;
  /** Called with the fraction of chunks done (0..1) after each forward call. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /**
   * Blends RNNoise's speech estimate into the speech stem, window by window: speech becomes
   * (1 - weight) * the model's + weight * RNNoise's, and what that moves goes to the other stem, so
   * the stems still add up. Their errors are largely independent: on recordings unlike the training
   * data the blend beats both, on material like it the model alone is better (docs/separation.md).
   * 'auto' picks the weight per window from how far the two estimates disagree (RNNOISE_AUTO).
   * Needs a two-stem model with fixed slots; `speechSlot` is the speech stem's.
   */
  denoiserBlend?: DenoiserBlend | null;
  /** With denoiserBlend, called for each window once its blend is chosen (see BlendTally). */
  onWindowBlend?: (window: WindowBlend) => void;
  /**
   * Before separating, fine-tune a copy of the model on the recording's own sound where RNNoise
   * hears no voice, mixed with clean speech (core/train/adapt.ts); the copy separates and is then
   * disposed. Takes a minute or more whatever the file's length.
   */
  adapt?: AdaptOptions | null;
  /** With adapt, called once adapting is done or skipped. */
  onAdapted?: (report: AdaptReport) => void;
}

/** One window's RNNoise blend. */
export interface WindowBlend {
  /** How closely the model's speech stem and RNNoise's agree, dB (agreementDb). */
  agreementDb: number;
  /** RNNoise's share of the speech stem. */
  share: number;
  /** Energy of the (blended) speech stem in the part of the file this window stands for. */
  speechEnergy: number;
}

/**
 * Batching pays on native TensorFlow (bigger matmuls, GPU); on wasm one thread does the same work
 * either way, so a batch of 1 halves the peak memory at no cost in speed.
 */
export function defaultBatchSize(): number {
  return tf.getBackend() === 'tensorflow' ? 4 : 1;
}


/** Thrown when the AbortSignal fires; named AbortError like the platform's own. */
export class SeparationAbortedError extends Error {
  readonly code = 'cancelled';
  /** `when`: how far it got, e.g. "after 1 of 16 chunks". */
  constructor(when: string, options?: { cause?: unknown }) {
    super(`Separation cancelled ${when}`, options);
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
  const keptSec = windowSec - 2 * marginSec;
  if (!(keptSec > 0)) throw new SeparationInputError(`separateSignal: marginSec (${marginSec}) must be less than half of windowSec (${windowSec})`);
  // The cross-fade takes at most half of what the margins leave, so a wide margin still gets a positive hop.
  const crossfadeSec = Math.min(SEPARATE_DEFAULTS.maxCrossfadeSec, windowSec / 8, keptSec / 2);
  const hopSec = positive('hopSec', opts.hopSec ?? keptSec - crossfadeSec);
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

// Below this the input is silence; dividing by it would only amplify rounding noise.
const MIN_STD = 1e-8;

const nextTask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Random access to a mono mixture (in memory, or a scratch file for hour-long inputs). */
export interface SignalSource {
  readonly length: number;
  /** Samples [start, start + count) of the mixture. */
  read(start: number, count: number): Float32Array | Promise<Float32Array>;
}

/** Receives the stems' final samples in order, as one array per model output slot. */
export type StemSink = (start: number, slots: readonly Float32Array[]) => void | Promise<void>;

/** Mean and standard deviation of a source in one pass over blocks, with a clear error at the first non-finite sample. */
async function sourceStats(source: SignalSource): Promise<{ mean: number; std: number }> {
  let sum = 0;
  let sumSq = 0;
  const block = 1 << 20;
  for (let at = 0; at < source.length; at += block) {
    const x = await source.read(at, Math.min(block, source.length - at));
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (!Number.isFinite(v)) throw new SeparationInputError(`separateSignal: the mixture has a non-finite sample (${v}) at index ${at + i}`);
      sum += v;
      sumSq += v * v;
    }
  }
  const mean = sum / source.length;
  return { mean, std: Math.sqrt(Math.max(0, sumSq / source.length - mean * mean)) };
}

/**
 * Separates a mono mixture of any length, streaming: the mixture is read chunk by chunk and every
 * stem sample goes to `sink` (in the model's output slots, in time order) as soon as no later chunk
 * can change it, so memory stays at a few chunks whatever the length.
 *
 * The mixture is cut into overlapping chunks (see chunks.ts) and run through the model `batchSize`
 * chunks per call; each chunk's output is reordered to continue the previous chunk's (models trained
 * with PIT may swap outputs between chunks) and blended into a sliding window. Returns the final
 * order: stem c is slot order[c], the order that agrees with the model's own output order on most of
 * the signal's energy, so stems named by class keep their class.
 */
export async function separateStream(model: Separator, source: SignalSource, sink: StemSink, opts: SeparateOptions = {}): Promise<number[]> {
  if (source.length === 0) throw new SeparationInputError('separateSignal: the mixture is empty (0 samples)');
  const normalize = opts.normalize ?? true;
  const { mean, std: rawStd } = await sourceStats(source);
  const shift = normalize ? mean : 0;
  const scale = normalize ? Math.max(rawStd, MIN_STD) / (model.inputStd ?? 1) : 1;
  const level: InputLevel = { shift, scale, rms: Math.hypot(rawStd, mean - shift) / scale };
  const blend = checkBlend(model, opts.denoiserBlend);
  const adapted = opts.adapt ? await adaptTo(model, source, level, { ...opts.adapt, ...(opts.signal ? { signal: opts.signal } : {}) }, opts.onAdapted) : null;
  try {
    return await separateWith(adapted ?? model, source, sink, opts, level, blend);
  } finally {
    adapted?.dispose();
  }
}

/** How the input is brought to the model's level (x - shift) / scale, and its RMS there. */
interface InputLevel { shift: number; scale: number; rms: number }

async function adaptTo(model: Separator, source: SignalSource, { shift, scale, rms }: InputLevel, opts: AdaptOptions, onAdapted?: (report: AdaptReport) => void): Promise<Separator | null> {
  try {
    const read = async (start: number, count: number) => normalized(await source.read(start, count), shift, scale);
    const sound = await soundWithoutVoice(source.length, read, rms, opts.voiceless ?? ADAPT_DEFAULTS.voiceless, opts.signal);
    const { model: adapted, report } = await adaptModel(model, sound, opts);
    onAdapted?.(report);
    return adapted;
  } catch (e) {
    if (e instanceof AdaptAbortedError) throw new SeparationAbortedError(e.message, { cause: e });
    throw e;
  }
}

async function separateWith(
  model: Separator, source: SignalSource, sink: StemSink, opts: SeparateOptions, { shift, scale, rms }: InputLevel, blend: ReturnType<typeof checkBlend>,
): Promise<number[]> {
  const { window, hop, margin, batchSize } = resolveOptions(opts);
  const { signal, onProgress } = opts;
  const consistency = opts.mixtureConsistency ?? true;
  // RNNoise runs once over the whole normalised input, at one gain for the file; a silent file has nothing to blend.
  const denoiser = blend && rms > 0 ? await RnnoiseReader.open(source.length, rnnoiseGain(rms), async (start, count) => normalized(await source.read(start, count), shift, scale)) : null;

  // A model whose slots have fixed meaning names its stems itself; aligning chunks by similarity could only swap them.
  const align = opts.alignPermutations ?? !model.fixedSlots;
  const plan = planChunks(source.length, window, hop, margin);
  const nChunks = plan.starts.length;
  const nSrc = model.nSources;
  // Blended output from `done` on; every chunk's span lies within one window of it.
  const pending = Array.from({ length: nSrc }, () => new Float32Array(plan.window));
  let done = 0;
  const votes = new Map<string, { order: number[]; weight: number }>();
  const input = new Float32Array(Math.min(batchSize, nChunks) * plan.window);
  let prev: { k: number; stems: Float32Array[] } | null = null;

  const flush = async (to: number): Promise<void> => {
    if (to <= done) return;
    const n = to - done;
    const out = pending.map((p) => p.slice(0, n));
    restoreScale(out, await source.read(done, n), shift, scale, consistency);
    await sink(done, out);
    for (const p of pending) {
      p.copyWithin(0, n);
      p.fill(0, plan.window - n);
    }
    done = to;
  };

  try {
    for (let first = 0; first < nChunks; first += batchSize) {
      // Let timers and messages (a cancel button) run between forward calls.
      await nextTask();
      if (signal?.aborted) throw new SeparationAbortedError(`after ${first} of ${nChunks} chunks`, { cause: signal.reason });
      const count = Math.min(batchSize, nChunks - first);
      for (let b = 0; b < count; b++) {
        const start = plan.starts[first + b]!;
        input.set(normalized(await source.read(start, plan.window), shift, scale), b * plan.window);
      }
      const out = await runModel(model, input.subarray(0, count * plan.window), count, plan.window); // [count, nSrc, window]
      for (let b = 0; b < count; b++) {
        const k = first + b;
        const raw = Array.from({ length: nSrc }, (_, j) => out.subarray((b * nSrc + j) * plan.window, (b * nSrc + j + 1) * plan.window));
        const order: number[] = prev && align ? alignChunk(plan, prev, k, raw) : raw.map((_, j) => j);
        const aligned: Float32Array[] = order.map((j) => raw[j]!);
        const chunkInput = input.subarray(b * plan.window, (b + 1) * plan.window);
        if (opts.matchGains ?? true) matchGains(aligned, chunkInput);
        if (blend && denoiser) {
          const start = plan.starts[k]!;
          const voiceless = blend.weight === 'auto' ? await denoiser.voiceless(start, plan.window, RNNOISE_AUTO.voiceless) : null;
          const chosen = blendSpeech(aligned, chunkInput, await denoiser.read(start, plan.window), blend, voiceless);
          opts.onWindowBlend?.({ ...chosen, speechEnergy: energy(ownPart(plan, k, aligned[blend.speechSlot]!)) });
        }
        addChunk(plan, k, aligned, pending, done);
        const weight = energy(chunkInput);
        const key = order.join(',');
        const vote = votes.get(key) ?? { order, weight: 0 };
        vote.weight += weight;
        votes.set(key, vote);
        prev = { k, stems: aligned };
        // No later chunk reaches before the next one's span.
        await flush(k + 1 < nChunks ? chunkSpan(plan, k + 1)[0] : plan.length);
      }
      onProgress?.((first + count) / nChunks);
    }
  } finally {
    denoiser?.dispose();
  }

  // Final stem c is the slot whose chunks most often (by energy) held the model's output c.
  const majority = [...votes.values()].reduce((a, b) => (b.weight > a.weight ? b : a));
  return invertPermutation(majority.order);
}

/** The mixture as the model hears it: zero mean, at its input level. */
function normalized(x: Float32Array, shift: number, scale: number): Float32Array {
  return x.map((v) => (v - shift) / scale);
}

/**
 * Separates a mono mixture of any length into one stem per model source (see separateStream), all
 * in memory.
 */
export async function separateSignal(model: Separator, mixture: Float32Array, opts: SeparateOptions = {}): Promise<Float32Array[]> {
  if (!(mixture instanceof Float32Array)) throw new SeparationInputError('separateSignal: the mixture must be a Float32Array');
  const slots = Array.from({ length: model.nSources }, () => new Float32Array(mixture.length));
  const source: SignalSource = { length: mixture.length, read: (start, count) => mixture.subarray(start, start + count) };
  const order = await separateStream(model, source, (start, out) => out.forEach((s, j) => slots[j]!.set(s, start)), opts);
  return order.map((s) => slots[s]!);
}

/** The blend to apply (null: none), after checking that it fits the model; throws SeparationOptionError. */
export function checkBlend(model: Separator, blend: DenoiserBlend | null | undefined): DenoiserBlend | null {
  if (!blend) return null;
  const { weight, speechSlot } = blend;
  if (weight !== 'auto' && !(weight >= 0 && weight <= 1)) throw new SeparationOptionError(`The RNNoise blend's weight must be between 0 and 1 or 'auto', got ${weight}`);
  if (!blendFitsModel(model.nSources, model.fixedSlots ?? false)) {
    throw new SeparationOptionError('Blending RNNoise into the speech stem needs a model whose speech and env stems have fixed slots (the built-in model, or one tuned from it): turn the blend off for this model');
  }
  if (speechSlot !== 0 && speechSlot !== 1) throw new SeparationOptionError(`The RNNoise blend's speechSlot must be 0 or 1, got ${speechSlot}`);
  return weight === 0 ? null : blend;
}

/**
 * Moves the speech stem part of the way to `denoised` (see DenoiserBlend); the other stem takes the
 * difference. Where `voiceless` is 1 the speech stem becomes `denoised` and the other stem the rest
 * of the `mixture`, so that the consistency projection leaves them so. Returns the agreement the
 * share was chosen by (measured before the move) and the share.
 */
function blendSpeech(stems: Float32Array[], mixture: Float32Array, denoised: Float32Array, { weight, speechSlot }: DenoiserBlend, voiceless: Uint8Array | null): Omit<WindowBlend, 'speechEnergy'> {
  const speech = stems[speechSlot]!;
  const other = stems[1 - speechSlot]!;
  const agreement = agreementDb(speech, denoised);
  const share = weight === 'auto' ? autoBlendShare(agreement) : weight;
  for (let t = 0; t < speech.length; t++) {
    if (voiceless?.[t]) {
      speech[t] = denoised[t]!;
      other[t] = mixture[t]! - denoised[t]!;
      continue;
    }
    const moved = share * (denoised[t]! - speech[t]!);
    speech[t]! += moved;
    other[t]! -= moved;
  }
  return { agreementDb: agreement, share };
}

/** The samples of chunk k's signal `x` that the chunk stands for: from the middle of its fade-in to the middle of the next one's. */
function ownPart(plan: ChunkPlan, k: number, x: Float32Array): Float32Array {
  const middle = (j: number) => (j === 0 ? 0 : j === plan.starts.length ? plan.length : Math.round((plan.fadeLo[j]! + plan.fadeHi[j]!) / 2));
  return x.subarray(middle(k) - plan.starts[k]!, middle(k + 1) - plan.starts[k]!);
}

/** Energy of `estimate` over that of its difference from `other`, dB: how closely two estimates of one stem agree. */
export function agreementDb(estimate: Float32Array, other: Float32Array): number {
  let own = 0;
  let apart = 0;
  for (let t = 0; t < estimate.length; t++) {
    own += estimate[t]! * estimate[t]!;
    apart += (other[t]! - estimate[t]!) ** 2;
  }
  return 10 * Math.log10((own + 1e-12) / (apart + 1e-12));
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

/** Adds chunk k's weighted stems into `pending`, which holds the output from sample `offset` on. */
function addChunk(plan: ChunkPlan, k: number, stems: Float32Array[], pending: Float32Array[], offset: number): void {
  const start = plan.starts[k]!;
  const [from, to] = chunkSpan(plan, k);
  for (let n = from; n < to; n++) {
    const w = chunkWeight(plan, k, n);
    for (let s = 0; s < stems.length; s++) pending[s]![n - offset]! += w * stems[s]![n - start]!;
  }
}

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

/** Back to the mixture's scale (its mean shared equally), then the mixture-consistency projection. */
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
