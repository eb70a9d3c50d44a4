import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SEPARATE_DEFAULTS, WINDOW_SECONDS_RANGE, type BlendWeight } from '../core/separate/defaults';
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

/** A JSON file named on the command line (a training config), or a usage error saying why it cannot be read. */
export async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The `data` section of a training config read from JSON (undefined when it has none). */
export function dataSection(config: unknown): unknown {
  return (config as { data?: unknown } | null)?.data;
}

/** `--window S`: the separation window in seconds, within WINDOW_SECONDS_RANGE; the default when not given. */
export function parseWindowOption(value: string | undefined): number {
  const [lo, hi] = WINDOW_SECONDS_RANGE;
  const seconds = parseNumberOption('window', value, SEPARATE_DEFAULTS.windowSec, lo);
  if (seconds > hi) throw new UsageError(`--window must be at most ${hi} s, got "${value}"`);
  return seconds;
}

/** `--rnnoise auto|off|W`: RNNoise's share of the speech stem, chosen per window (auto, the default), or fixed from 0 (off) to 1. */
export function parseBlendOption(value: string | undefined): BlendWeight {
  if (value === undefined || value === 'auto') return 'auto';
  if (value === 'off') return 0;
  // Number('') is 0: an empty value is a mistake, not "off".
  const weight = value.trim() === '' ? NaN : Number(value);
  if (!(weight >= 0 && weight <= 1)) throw new UsageError(`--rnnoise must be auto, off or a number between 0 and 1 (RNNoise's share of the speech stem), got "${value}"`);
  return weight;
}

export function parseNumberOption(name: string, value: string | undefined, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number${min > -Infinity ? ` >= ${min}` : ''}, got "${value}"`);
  return n;
}
