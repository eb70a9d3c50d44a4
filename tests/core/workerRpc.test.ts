// Request/reply across a worker's message channel: each call settles with its own reply whatever the
// order the replies come in, a failure comes back as a rejection, and a worker that dies rejects
// every call still waiting instead of leaving it hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, Worker } from 'node:worker_threads';
import { answer, RpcCalls, type RpcReply, type RpcRequest } from '../../core/workerRpc';

type Req = { op: 'square'; n: number; delayMs: number } | { op: 'fail'; message: string };
type Err = { message: string; code: string };
const toError = (e: Err) => Object.assign(new Error(e.message), { code: e.code });

/** A worker's side on the other end of a real message channel: squares after a delay, or fails. */
function squaringChannel(): { calls: RpcCalls<Req, number, Err>; close: () => void } {
  const { port1, port2 } = new MessageChannel();
  port2.on('message', (m: RpcRequest<Req>) => {
    const work = m.op === 'square'
      ? new Promise<number>((resolve) => setTimeout(() => resolve(m.n * m.n), m.delayMs))
      : Promise.reject(new RangeError(m.message));
    answer((r: RpcReply<number, Err>) => port2.postMessage(r), m.reqId, work, (e) => ({ message: (e as Error).message, code: (e as Error).name }));
  });
  const calls = new RpcCalls<Req, number, Err>((m) => port1.postMessage(m), toError);
  port1.on('message', (r: RpcReply<number, Err>) => calls.settle(r));
  return { calls, close: () => port1.close() };
}

test('each call resolves with its own reply when the replies come back out of order', async () => {
  const { calls, close } = squaringChannel();
  try {
    const order: number[] = [];
    const squares = await Promise.all([3, 4, 5].map((n, i) => calls.call({ op: 'square', n, delayMs: 60 - 25 * i }).then((v) => (order.push(n), v))));
    assert.deepEqual(squares, [9, 16, 25]);
    assert.deepEqual(order, [5, 4, 3], 'the last request was answered first');
  } finally {
    close();
  }
});

test('a failure in the worker rejects its call with the error made from the reply, other calls unaffected', async () => {
  const { calls, close } = squaringChannel();
  try {
    const failed = calls.call({ op: 'fail', message: 'no such stem' });
    const fine = calls.call({ op: 'square', n: 7, delayMs: 0 });
    await assert.rejects(failed, { message: 'no such stem', code: 'RangeError' });
    assert.equal(await fine, 49);
  } finally {
    close();
  }
});

test('calls waiting when the worker exits are rejected', async () => {
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    parentPort.on('message', (m) => { if (m.op === 'fail') process.exit(3); });
  `, { eval: true });
  const calls = new RpcCalls<Req, number, Err>((m) => worker.postMessage(m), toError);
  worker.on('exit', (code) => calls.failAll(new Error(`the worker exited (code ${code})`)));
  const unanswered = calls.call({ op: 'square', n: 2, delayMs: 0 });
  const fatal = calls.call({ op: 'fail', message: 'exit' });
  await assert.rejects(unanswered, { message: 'the worker exited (code 3)' });
  await assert.rejects(fatal, { message: 'the worker exited (code 3)' });
});

test('requests carry the protocol message and a fresh number; a post that throws rejects its call', async () => {
  const posted: RpcRequest<Req>[] = [];
  let closed = false;
  const calls = new RpcCalls<Req, number, Err>((m) => {
    if (closed) throw new Error('the channel is closed');
    posted.push(m);
  }, toError);
  const first = calls.call({ op: 'square', n: 2, delayMs: 0 });
  const second = calls.call({ op: 'fail', message: 'x' });
  assert.deepEqual(posted, [{ type: 'request', reqId: 1, op: 'square', n: 2, delayMs: 0 }, { type: 'request', reqId: 2, op: 'fail', message: 'x' }]);
  closed = true;
  await assert.rejects(calls.call({ op: 'square', n: 3, delayMs: 0 }), { message: 'the channel is closed' });
  calls.settle({ type: 'reply', reqId: 2, ok: true, value: -1 });
  calls.settle({ type: 'reply', reqId: 1, ok: false, error: { message: 'bad', code: 'bad-input' } });
  assert.equal(await second, -1);
  await assert.rejects(first, { message: 'bad', code: 'bad-input' });
});
