// Data-parallel training steps. The training thread splits each batch into shards: it computes the
// first itself and gradient helpers (threads started from the training worker's own script, each with
// a replica of the model) compute the others. The weights p = softmax(F) are a pmf over the whole
// batch, so inside the gradient tape the shards' losses meet in a SharedArrayBuffer (Atomics, no
// event loop needed) and every thread weighs the whole batch the same way, then differentiates its
// own units' part of sum_u p_u L_u. The parts add up to the gradient of the single-thread step, so
// results match it up to float rounding whatever the number of workers.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { tf } from '../tf';
import type { NamedTensorMap } from '../tf';
import { backendInfo } from '../backend';
import type { BackendInfo } from '../backend';
import type { SudoRmRf } from '../models/sudormrf';
import type { Reweighter } from '../reweighting';
import type { MixtureBatch } from '../types';
import { startWorker } from '../worker';
import { applyWeightedGradients, checkClipNorm, DEFAULT_CLIP_NORM, weightedGradients } from './step';
import type { BatchShard, StepOptions, StepResult, StepRunner, WeightedGradients } from './step';
import type { FromGradientHelper, ShardRequest, StartGradientHelper } from './protocol';
import { checkWorkerCount, type WorkerCount } from './workerCount';

const MAX_AUTO_WORKERS = 4;

/** The number of gradient workers a run uses; see WorkerCount. */
export function resolveWorkers(requested: WorkerCount, batchSize: number, reweighter: Reweighter, backend: BackendInfo | null = backendInfo()): number {
  checkWorkerCount(requested);
  // Helpers rebuild the reweighter from its JSON form, which a custom term does not have.
  if (batchSize < 2 || reweighter.config === null) return 1;
  if (requested === 'auto') return backend?.choice === 'wasm' ? Math.min(availableParallelism(), batchSize, MAX_AUTO_WORKERS) : 1;
  return Math.min(requested, batchSize);
}

/** Mixtures per shard, the larger shards first: 5 over 2 workers is 3 + 2. */
export function shardSizes(batch: number, workers: number): number[] {
  const n = Math.min(workers, batch);
  return Array.from({ length: n }, (_, k) => Math.floor(batch / n) + (k < batch % n ? 1 : 0));
}

// The loss exchange: Int32 [arrived, aborted], then the whole batch's per-source losses (float32).
const ARRIVED = 0;
const ABORTED = 1;
const HEADER_BYTES = 8;
/** A thread that has not written its losses by then (at least this long) is taken for dead. */
const MIN_GATHER_TIMEOUT_MS = 60_000;
const GATHER_TIMEOUT_FACTOR = 20;

export function lossExchange(units: number): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + 4 * units);
}

/** Marks the exchange failed and wakes every thread waiting in it. */
export function abortExchange(exchange: SharedArrayBuffer): void {
  const control = new Int32Array(exchange, 0, 2);
  Atomics.store(control, ABORTED, 1);
  Atomics.notify(control, ARRIVED);
}

/** Thrown in the threads that stop because another one failed (theirs is not the error to report). */
export class ExchangeAborted extends Error {}

/**
 * A shard's view of its batch: `gather` writes the shard's losses into the exchange and blocks
 * until all `workers` shards have written theirs. A thread that fails aborts the exchange; one that
 * never writes (a dead thread) times the others out, after GATHER_TIMEOUT_FACTOR times the time
 * this thread took to reach the exchange since `startedAt`.
 */
export function exchangeShard(
  exchange: SharedArrayBuffer, workers: number, whole: Pick<MixtureBatch, 'classes' | 'mixtureTypes'>, offset: number, startedAt: number,
): BatchShard {
  const nSrc = whole.classes[0]!.length;
  return {
    offset,
    classes: whole.classes,
    mixtureTypes: whole.mixtureTypes,
    gather(own) {
      const control = new Int32Array(exchange, 0, 2);
      const losses = new Float32Array(exchange, HEADER_BYTES);
      losses.set(own, offset * nSrc);
      Atomics.add(control, ARRIVED, 1);
      Atomics.notify(control, ARRIVED);
      const now = performance.now();
      const deadline = now + Math.max(MIN_GATHER_TIMEOUT_MS, GATHER_TIMEOUT_FACTOR * (now - startedAt));
      for (;;) {
        if (Atomics.load(control, ABORTED)) throw new ExchangeAborted('stopped: another gradient worker failed');
        const arrived = Atomics.load(control, ARRIVED);
        if (arrived === workers) return losses.slice();
        const left = deadline - performance.now();
        if (left <= 0) {
          abortExchange(exchange);
          throw new Error(`a gradient worker did not deliver its losses within ${Math.round((deadline - now) / 1000)} s`);
        }
        Atomics.wait(control, ARRIVED, arrived, left);
      }
    },
  };
}

/** Packs the tensors' values end to end into `into` (float32, in order); returns it. */
export function packTensors(tensors: readonly tf.Tensor[], into: Float32Array): Float32Array {
  let offset = 0;
  for (const t of tensors) {
    into.set(t.dataSync() as Float32Array, offset);
    offset += t.size;
  }
  return into;
}

/** Floats in a packed gradient: the trainable variables', in order. */
export function gradientSize(model: SudoRmRf): number {
  return model.trainableVariables.reduce((n, v) => n + v.size, 0);
}

/** Copies the model's weights into `into` (float32, its variables in order). */
export function writeWeights(model: SudoRmRf, into: Float32Array): void {
  packTensors(model.variables, into);
}

/** Sets the model's weights from `from` (as writeWeights lays them out). */
export function readWeights(model: SudoRmRf, from: Float32Array): void {
  let offset = 0;
  tf.tidy(() => {
    for (const v of model.variables) {
      // A copy: some backends keep the array a tensor is made from, and `from` is rewritten each step.
      v.assign(tf.tensor(from.slice(offset, offset + v.size), v.shape));
      offset += v.size;
    }
  });
}

/** The mixtures [offset, offset + size) of a batch; `copy` for arrays that are transferred away. */
function shardOf(batch: MixtureBatch, offset: number, size: number, copy: boolean): Omit<MixtureBatch, 'labels'> {
  const { nSrc, time } = batch;
  const cut = (a: Float32Array, stride: number) => {
    const [start, end] = [offset * stride, (offset + size) * stride];
    return copy ? a.slice(start, end) : a.subarray(start, end);
  };
  return {
    batch: size, nSrc, time,
    mixture: cut(batch.mixture, time), sources: cut(batch.sources, nSrc * time),
    classes: batch.classes.slice(offset, offset + size), mixtureTypes: batch.mixtureTypes.slice(offset, offset + size),
  };
}

/** A helper thread, answering one request at a time. */
class Helper {
  private pending: { resolve(m: FromGradientHelper): void; reject(e: Error): void } | null = null;
  private gone: Error | null = null;

  constructor(readonly worker: Worker) {
    const fail = (e: Error) => {
      this.gone ??= e;
      this.pending?.reject(e);
      this.pending = null;
    };
    worker.on('message', (m: FromGradientHelper) => {
      const p = this.pending;
      this.pending = null;
      if (m.type === 'error') p?.reject(m.secondary ? new ExchangeAborted(m.message) : new Error(m.message));
      else p?.resolve(m);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`a gradient worker stopped (exit code ${code})`)));
  }

  request(message: StartGradientHelper | ShardRequest, transfer: ArrayBuffer[] = []): Promise<FromGradientHelper> {
    if (this.gone) return Promise.reject(this.gone);
    if (this.pending) return Promise.reject(new Error('a gradient worker got a request before answering the last'));
    const reply = new Promise<FromGradientHelper>((resolve, reject) => (this.pending = { resolve, reject }));
    this.worker.postMessage(message, transfer);
    return reply;
  }
}

/** The error to report from a step's failed threads: the first that failed on its own. */
function rootCause(own: unknown, helpers: PromiseSettledResult<unknown>[]): unknown {
  const errors = [own, ...helpers.map((r) => (r.status === 'rejected' ? r.reason : null))].filter((e) => e !== null && e !== undefined);
  return errors.find((e) => !(e instanceof ExchangeAborted)) ?? errors[0];
}

class ParallelSteps implements StepRunner {
  private readonly weights: Float32Array;

  constructor(
    private readonly model: SudoRmRf,
    private readonly reweighter: Reweighter,
    private readonly helpers: Helper[],
    weights: SharedArrayBuffer,
  ) {
    this.weights = new Float32Array(weights);
  }

  get workers(): number {
    return this.helpers.length + 1;
  }

  async step(optimizer: tf.Optimizer, batch: MixtureBatch, opts: Omit<StepOptions, 'reweighter'>): Promise<StepResult> {
    const clipNorm = opts.clipNorm ?? DEFAULT_CLIP_NORM;
    checkClipNorm(clipNorm);
    if (batch.nSrc !== this.model.nSources) throw new Error(`trainStep: the batch has ${batch.nSrc} sources, the model separates ${this.model.nSources}`);
    const sizes = shardSizes(batch.batch, this.workers);
    const offsets = sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a + b, 0));
    writeWeights(this.model, this.weights);
    const exchange = lossExchange(batch.batch * batch.nSrc);
    const startedAt = performance.now();
    const replies = sizes.slice(1).map((size, k) => {
      const shard = shardOf(batch, offsets[k + 1]!, size, true);
      const request: ShardRequest = {
        type: 'shard', shard, offset: offsets[k + 1]!, classes: batch.classes, mixtureTypes: batch.mixtureTypes,
        progress: opts.progress, slots: opts.slots, mixtureConsistency: opts.mixtureConsistency, exchange, workers: sizes.length,
      };
      return this.helpers[k]!.request(request, [shard.mixture.buffer as ArrayBuffer, shard.sources.buffer as ArrayBuffer]);
    });
    let own: WeightedGradients;
    try {
      own = weightedGradients(this.model, shardOf(batch, 0, sizes[0]!, false), {
        reweighter: this.reweighter, progress: opts.progress, slots: opts.slots, mixtureConsistency: opts.mixtureConsistency, shard: exchangeShard(exchange, sizes.length, batch, 0, startedAt),
      });
    } catch (e) {
      abortExchange(exchange);
      throw rootCause(e, await Promise.allSettled(replies));
    }
    const settled = await Promise.allSettled(replies);
    if (settled.some((r) => r.status === 'rejected')) {
      tf.dispose(own.grads ?? {});
      throw rootCause(null, settled);
    }
    const parts = settled.map((r) => (r as PromiseFulfilledResult<FromGradientHelper>).value);
    return applyWeightedGradients(optimizer, { ...own, grads: own.grads && this.sum(own.grads, parts) }, clipNorm);
  }

  /** This thread's gradients plus the helpers' (disposes this thread's). */
  private sum(own: NamedTensorMap, parts: FromGradientHelper[]): NamedTensorMap {
    try {
      return tf.tidy(() => {
        const out: NamedTensorMap = {};
        let offset = 0;
        for (const v of this.model.trainableVariables) {
          let g = tf.clone(own[v.name]!);
          for (const part of parts) {
            if (part.type !== 'gradients' || part.grads === null) throw new Error('a gradient worker sent no gradients for finite losses');
            g = tf.add(g, tf.tensor(part.grads.subarray(offset, offset + v.size), v.shape));
          }
          out[v.name] = g;
          offset += v.size;
        }
        return out;
      });
    } finally {
      tf.dispose(own);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.helpers.map((h) => h.worker.terminate()));
  }
}

/**
 * Steps split across `workers` threads: this one and workers - 1 helpers started from `script`, the
 * training worker's module (core/train/worker.ts, or the bundle that holds it). The reweighter must
 * be serialisable (see resolveWorkers). close() ends the helpers.
 */
export async function parallelSteps(model: SudoRmRf, reweighter: Reweighter, workers: number, script: URL): Promise<StepRunner> {
  if (reweighter.config === null) throw new Error('parallel steps need a reweighter with a JSON form (no custom terms)');
  if (!Number.isInteger(workers) || workers < 2) throw new Error(`parallel steps need at least 2 workers (got ${workers})`);
  const backend = backendInfo();
  if (!backend) throw new Error('parallel steps: initBackend() first');
  const weights = new SharedArrayBuffer(4 * model.variables.reduce((n, v) => n + v.size, 0));
  const init: StartGradientHelper = {
    type: 'gradient-helper', backend: backend.choice, model: { ...model.config }, gradientCheckpointing: model.gradientCheckpointing,
    reweighting: reweighter.config, weights,
  };
  const helpers = Array.from({ length: workers - 1 }, () => new Helper(startWorker(script)));
  const started = await Promise.allSettled(helpers.map((h) => h.request(init)));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(helpers.map((h) => h.worker.terminate()));
    throw new Error(`could not start the gradient workers: ${(failed.reason as Error).message}`);
  }
  return new ParallelSteps(model, reweighter, helpers, weights);
}
