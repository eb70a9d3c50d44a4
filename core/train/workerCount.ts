// How many threads compute a step's gradients. A module of its own so that the trainer and the worker
// protocol (which carries the count) need not import each other.

/**
 * Threads that compute each step's gradients. 'auto': min(cores, batch size, 4) on the wasm backend
 * (one thread per worker); 1 on tfjs-node (natively multithreaded) and cpu.
 */
export type WorkerCount = number | 'auto';

const isWorkerCount = (w: unknown): w is WorkerCount => w === 'auto' || (Number.isInteger(w) && (w as number) >= 1);
const WORKERS_RULE = 'workers must be a whole number >= 1 or "auto"';

export function checkWorkerCount(workers: WorkerCount): void {
  if (!isWorkerCount(workers)) throw new Error(`${WORKERS_RULE} (got ${workers})`);
}

/** A worker count given as text (`--workers`). */
export function parseWorkerCount(text: string): WorkerCount {
  const workers = text === 'auto' ? 'auto' : Number(text);
  if (!isWorkerCount(workers)) throw new Error(`${WORKERS_RULE} (got "${text}")`);
  return workers;
}
