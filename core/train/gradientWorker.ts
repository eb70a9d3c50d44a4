// A gradient helper (see core/train/parallel.ts): holds a replica of the model and, per request,
// computes its shard's part of the step's gradient with the weights the coordinator just wrote.
import type { MessagePort } from 'node:worker_threads';
import { initBackend } from '../backend';
import { tf } from '../tf';
import { createSudoRmRf } from '../models/sudormrf';
import type { SudoRmRf } from '../models/sudormrf';
import { reweighterFromConfig } from '../reweighting';
import type { Reweighter } from '../reweighting';
import { abortExchange, exchangeShard, ExchangeAborted, gradientSize, packTensors, readWeights } from './parallel';
import { weightedGradients } from './step';
import type { FromGradientHelper, ShardRequest, StartGradientHelper } from './protocol';

function shardGradients(model: SudoRmRf, reweighter: Reweighter, weights: Float32Array, m: ShardRequest): Float32Array | null {
  const startedAt = performance.now();
  readWeights(model, weights);
  const { grads } = weightedGradients(model, m.shard, {
    reweighter, progress: m.progress, slots: m.slots, mixtureConsistency: m.mixtureConsistency, shard: exchangeShard(m.exchange, m.workers, m, m.offset, startedAt),
  });
  if (grads === null) return null;
  try {
    return packTensors(model.trainableVariables.map((v) => grads[v.name]!), new Float32Array(gradientSize(model)));
  } finally {
    tf.dispose(grads);
  }
}

/** Serves gradient requests on `port` after `init`, the helper's first message. */
export function serveGradients(port: MessagePort, init: StartGradientHelper): void {
  const post = (m: FromGradientHelper, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
  const weights = new Float32Array(init.weights);
  const replica = (async () => {
    await initBackend(init.backend);
    const model = createSudoRmRf(init.model);
    model.gradientCheckpointing = init.gradientCheckpointing;
    return { model, reweighter: reweighterFromConfig(init.reweighting) };
  })();
  const failed = (e: unknown) => post({ type: 'error', message: message(e), secondary: e instanceof ExchangeAborted });
  // Listening from the start keeps the thread alive while the backend loads.
  port.on('message', (m: ShardRequest) => void replica
    .then(({ model, reweighter }) => {
      const grads = shardGradients(model, reweighter, weights, m);
      post({ type: 'gradients', grads }, grads ? [grads.buffer as ArrayBuffer] : []);
    })
    .catch((e: unknown) => {
      abortExchange(m.exchange);
      failed(e);
    }));
  replica.then(() => post({ type: 'ready' }), failed);
}
