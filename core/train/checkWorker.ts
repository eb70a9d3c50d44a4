// The data check side of the training worker: checks a data section (decoding the user's folders
// off the caller's thread) and answers cancel between files.
import type { MessagePort } from 'node:worker_threads';
import { parseTrainConfig } from './config';
import { checkData } from './check';
import { PhaseClock, throttled } from './progress';
import { PROGRESS_INTERVAL_MS } from './protocol';
import type { FromCheckWorker, StartDataCheck, ToCheckWorker } from './protocol';

export function runDataCheck(port: MessagePort, start: StartDataCheck): void {
  const post = (m: FromCheckWorker) => port.postMessage(m);
  const abort = new AbortController();
  port.on('message', (m: ToCheckWorker) => {
    if (m.type === 'cancel') abort.abort();
  });
  const clock = new PhaseClock();
  const phase = throttled((progress) => post({ type: 'phase', progress }), PROGRESS_INTERVAL_MS);
  const check = async () => {
    const { data } = parseTrainConfig({ data: start.data });
    return checkData(data, {
      signal: abort.signal,
      onProgress: (p) => {
        const progress = clock.prepare(p);
        if (progress) phase(progress);
      },
    });
  };
  check().then(
    (result) => post({ type: 'checked', check: result }),
    (e: unknown) => post(abort.signal.aborted ? { type: 'cancelled' } : { type: 'error', message: e instanceof Error ? e.message : String(e) }),
  );
}
