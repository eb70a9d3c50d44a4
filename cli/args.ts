import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './format';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with usage errors instead of TypeErrors. */
export function parseCommandArgs<O extends Options>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

export function parseNumberOption(name: string, value: string | undefined, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number${min > -Infinity ? ` >= ${min}` : ''}, got "${value}"`);
  return n;
}
