import { tf } from './tf';

/** Backends in order of preference; `TILT_BACKEND` or the `prefer` option forces one. */
export const BACKEND_ORDER = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_ORDER)[number];

export interface BackendInfo {
  /** Which of our choices runs. */
  choice: BackendChoice;
  /** tfjs's own backend name (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  /** Why each preferred backend before it was not used. */
  skipped: { choice: BackendChoice; reason: string }[];
}

let active: BackendInfo | null = null;

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

async function tryBackend(choice: BackendChoice): Promise<string> {
  switch (choice) {
    case 'tfjs-node-gpu':
      // The native addons register the `tensorflow` backend onto the shared tfjs-core when imported.
      await import('@tensorflow/tfjs-node-gpu' as string);
      return 'tensorflow';
    case 'tfjs-node':
      await import('@tensorflow/tfjs-node' as string);
      return 'tensorflow';
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return 'wasm';
    case 'cpu':
      return 'cpu';
  }
}

export function isBackendChoice(s: string): s is BackendChoice {
  return (BACKEND_ORDER as readonly string[]).includes(s);
}

/**
 * Picks the fastest backend that loads here and reports it. Idempotent: later calls return the
 * first result unless `prefer` asks for a different one.
 */
export async function initBackend(prefer: string | undefined = process.env.TILT_BACKEND): Promise<BackendInfo> {
  if (prefer !== undefined && prefer !== '' && !isBackendChoice(prefer)) {
    throw new Error(`Unknown backend "${prefer}" (TILT_BACKEND): use one of ${BACKEND_ORDER.join(', ')}`);
  }
  const forced = prefer ? (prefer as BackendChoice) : undefined;
  if (active && (!forced || active.choice === forced)) return active;
  const candidates = forced ? [forced] : [...BACKEND_ORDER];
  const skipped: BackendInfo['skipped'] = [];
  for (const choice of candidates) {
    try {
      const name = await tryBackend(choice);
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
      await tf.ready();
      active = { choice, tfBackend: name, skipped };
      return active;
    } catch (e) {
      skipped.push({ choice, reason: firstLine(e) });
    }
  }
  const why = skipped.map((s) => `${s.choice}: ${s.reason}`).join('; ');
  throw new Error(`No TensorFlow.js backend could start (${why})`);
}

export function backendInfo(): BackendInfo | null {
  return active;
}

export function describeBackend(info: BackendInfo): string {
  const skipped = info.skipped.map((s) => `${s.choice} unavailable`).join(', ');
  return skipped ? `${info.choice} (${skipped})` : info.choice;
}
