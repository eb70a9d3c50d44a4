import type { Engine } from '../../../core/engine/host';
import type { EngineEvent } from '../../../core/engine/types';

/** The first event of `types` for `jobId`, from those already `seen` or the next the engine emits. */
export function waitForEvent<T extends EngineEvent['type']>(
  engine: Engine, seen: readonly EngineEvent[], jobId: string, types: T[],
): Promise<Extract<EngineEvent, { type: T }>> {
  const matches = (e: EngineEvent) => e.jobId === jobId && (types as string[]).includes(e.type);
  return new Promise((resolve) => {
    const hit = seen.find(matches);
    if (hit) return resolve(hit as Extract<EngineEvent, { type: T }>);
    const off = engine.on((e) => {
      if (matches(e)) {
        off();
        resolve(e as Extract<EngineEvent, { type: T }>);
      }
    });
  });
}
