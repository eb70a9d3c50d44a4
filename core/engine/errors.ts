import type { EngineErrorInfo } from './types';

/** An error the UI can show as is: a readable message plus a machine-readable code. */
export class EngineError extends Error {
  constructor(message: string, readonly code: string, readonly file?: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** Turns anything thrown into the wire shape, keeping a file name and code when the error has them. */
export function toErrorInfo(e: unknown): EngineErrorInfo {
  if (e instanceof EngineError) return { message: e.message, code: e.code, ...(e.file ? { file: e.file } : {}) };
  if (e instanceof Error) {
    const rec = e as Error & { code?: unknown; file?: unknown; path?: unknown };
    const file = typeof rec.file === 'string' ? rec.file : typeof rec.path === 'string' ? rec.path : undefined;
    const code = e.name === 'AudioFileError' ? 'bad-input' : e.name === 'AbortError' ? 'cancelled' : typeof rec.code === 'string' ? rec.code : 'internal';
    return { message: e.message, code, ...(file ? { file } : {}) };
  }
  return { message: String(e), code: 'internal' };
}
