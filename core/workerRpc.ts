// Calls across a worker thread's message channel that each get exactly one reply. The caller's side
// numbers its calls and settles each with the reply that carries its number; the worker's side answers
// with the outcome of the work a request asked for. Both ride on the channel's own message union.

/** A request as posted: the protocol's message plus the number its reply carries back. */
export type RpcRequest<Req> = Req & { type: 'request'; reqId: number };

/** The answer to request `reqId`: its value, or its error as plain data (errors do not survive postMessage). */
export type RpcReply<Res, Err> =
  | { type: 'reply'; reqId: number; ok: true; value: Res }
  | { type: 'reply'; reqId: number; ok: false; error: Err };

/** The caller's side: `post` sends to the worker, `toError` turns an error reply into the rejection. */
export class RpcCalls<Req, Res, Err> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: Res) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly post: (m: RpcRequest<Req>) => void,
    private readonly toError: (e: Err) => Error,
  ) {}

  call(req: Req): Promise<Res> {
    const reqId = this.nextId++;
    return new Promise((resolve, reject) => {
      // A post that throws rejects this promise before anything waits for a reply.
      this.post({ ...req, type: 'request', reqId });
      this.pending.set(reqId, { resolve, reject });
    });
  }

  /** Settles the call `reply` answers; a reply to no waiting call (one already failed) is dropped. */
  settle(reply: RpcReply<Res, Err>): void {
    const call = this.pending.get(reply.reqId);
    if (!call) return;
    this.pending.delete(reply.reqId);
    if (reply.ok) call.resolve(reply.value);
    else call.reject(this.toError(reply.error));
  }

  /** Rejects every call still waiting: its worker is gone and will never reply. */
  failAll(error: Error): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) call.reject(error);
  }
}

/** The worker's side: replies to request `reqId` once `work` settles, its failure made plain data by `toError`. */
export function answer<Res, Err>(post: (m: RpcReply<Res, Err>) => void, reqId: number, work: Promise<Res>, toError: (e: unknown) => Err): void {
  work.then(
    (value) => post({ type: 'reply', reqId, ok: true, value }),
    (e: unknown) => post({ type: 'reply', reqId, ok: false, error: toError(e) }),
  );
}
