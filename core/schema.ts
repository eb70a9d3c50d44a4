// The one way Tilt checks what comes from outside (training configs, reweighting settings, the app's
// requests): zod schemas, which give the type, the check and the messages. Every problem is reported
// at once, each as its field's path, the reason and what was got:
//   reweighting.terms[0].class.speech must be a finite number (got "high")
import { z } from 'zod';
import { TRAIN_LIMITS } from './types';

/** A problem with one field: its path (`terms[1].class.speech`) and why it is wrong. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Thrown for invalid settings; `issues` lists every problem found, not just the first. */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path} ${i.message}` : i.message)).join('; '));
    this.name = 'ConfigError';
  }
}

/** How a value is shown after "got": numbers, booleans, null and strings as written, others by kind. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'function' ? 'a function' : `a ${typeof value}`;
}

const quoted = (values: readonly unknown[]): string => values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(', ');

/** A message that ends with what was got: `must be [low, high] (got [1,0])`; `show` formats the value. */
export const got = (text: string, show: (value: unknown) => string = describe) => (issue: { input?: unknown }): string => `${text} (got ${show(issue.input)})`;

/** The project's wording for zod's issues (a schema's own message, where it gives one, comes first). */
function message(issue: z.core.$ZodRawIssue): string {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected as string;
      if (expected === 'int' && typeof input === 'number' && Number.isFinite(input)) return got('must be an integer')(issue);
      if (expected === 'number' || expected === 'int') return got('must be a finite number')(issue);
      if (expected === 'boolean') return got('must be true or false')(issue);
      if (expected === 'object') return got('must be an object')(issue);
      if (expected === 'array' || expected === 'tuple') return got('must be an array')(issue);
      return got(`must be a ${expected}`)(issue);
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      if (issue.origin === 'string') {
        if (small && bound === 1) return got('must be a non-empty string')(issue);
        return `must be ${small ? 'at least' : 'at most'} ${bound} characters long (got ${String(input).length})`;
      }
      if (issue.origin === 'array' || issue.origin === 'set') {
        return `must list ${small ? 'at least' : 'at most'} ${bound} (got ${Array.isArray(input) ? input.length : describe(input)})`;
      }
      return got(`must be ${small ? '>' : '<'}${issue.inclusive === false ? '' : '='} ${bound}`)(issue);
    }
    case 'invalid_value':
      return got(`must be one of ${quoted(issue.values)}`)(issue);
    case 'unrecognized_keys': {
      const inst = issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined;
      const known = Object.keys(inst?._zod?.def?.shape ?? {});
      return `is not a known field (${known.length > 0 ? `expected ${quoted(known)}` : 'it takes no fields'})`;
    }
    case 'invalid_union': {
      // A discriminated union's tag (`kind`): named with the values it takes.
      const tag = issue.discriminator as string | undefined;
      const inst = issue.inst as { _zod?: { propValues?: Record<string, Set<unknown>> } } | undefined;
      const values = tag ? inst?._zod?.propValues?.[tag] : undefined;
      if (tag && values) return got(`must be one of ${quoted([...values])}`)({ input: (input as Record<string, unknown>)[tag] });
      return got('is not valid')(issue);
    }
    case 'invalid_key':
      // A record's key: the key schema's own message, with the key as got.
      return (issue.issues as { message?: string }[] | undefined)?.[0]?.message ?? got('is not a valid key')(issue);
    default:
      return got('is not valid')(issue);
  }
}

function pathText(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

export interface IssueNames {
  /** Put before every path (`reweighting` gives `reweighting.terms[0]`). */
  prefix?: string;
  /** What the whole value is called, for problems with the value itself (`config must be an object`). */
  root?: string;
}

/** zod's issues in the project's form: one per bad field (one per unknown key), in order. */
export function issuesOf(error: z.ZodError, names: IssueNames = {}): ConfigIssue[] {
  const prefix = names.prefix ?? '';
  const root = names.root ?? prefix;
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // One issue per key, named by its own path; at the top, under the value's name (`config.colour`).
      for (const key of issue.keys) out.push({ path: pathText(issue.path.length ? prefix : root, [...issue.path, key]), message: issue.message });
      continue;
    }
    out.push({ path: issue.path.length ? pathText(prefix, issue.path) : root, message: issue.message });
  }
  return out;
}

/**
 * Checks `raw` against `schema` and returns its output; otherwise throws `Err` (ConfigError by
 * default) listing every problem.
 */
export function parseWith<S extends z.ZodType>(
  schema: S, raw: unknown, names: IssueNames = {}, Err: new (issues: ConfigIssue[]) => Error = ConfigError,
): z.output<S> {
  const result = schema.safeParse(raw, { error: message });
  if (!result.success) throw new Err(issuesOf(result.error, names));
  return result.data;
}

// ---- Building blocks ------------------------------------------------------------------------

export interface NumberRule {
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  above?: number;
  below?: number;
  integer?: boolean;
}

/** A finite number within `rule` (`must be >= 1 (got 0)`, `must be an integer (got 2.5)`). */
export function number(rule: NumberRule = {}): z.ZodNumber {
  let s: z.ZodNumber = rule.integer ? z.int() : z.number();
  if (rule.min !== undefined) s = s.min(rule.min);
  if (rule.max !== undefined) s = s.max(rule.max);
  if (rule.above !== undefined) s = s.gt(rule.above);
  if (rule.below !== undefined) s = s.lt(rule.below);
  return s;
}

/** A string that is not empty (`must be a non-empty string (got "")`). */
export function text(max?: number): z.ZodString {
  const s = z.string({ error: got('must be a non-empty string') }).min(1);
  return max === undefined ? s : s.max(max);
}

/** An object with exactly these fields: any other is reported by name (`x.colour is not a known field`). */
export const fields = z.strictObject;

/** Reports a problem found by a check across fields, at `path` below the checked value. */
export function problem(ctx: z.core.ParsePayload, path: PropertyKey[], message: string): void {
  ctx.issues.push({ code: 'custom', input: ctx.value, path, message });
}

/** TRAIN_LIMITS as schemas: the fields every way into training (config, requests) checks alike. */
export const TRAIN_FIELDS = {
  segmentSeconds: number(TRAIN_LIMITS.segmentSeconds),
  batchSize: number({ ...TRAIN_LIMITS.batchSize, integer: true }),
  lr: number(TRAIN_LIMITS.lr),
  seed: number({ ...TRAIN_LIMITS.seed, integer: true }),
  steps: number({ ...TRAIN_LIMITS.steps, integer: true }),
  epochs: number({ ...TRAIN_LIMITS.epochs, integer: true }),
  stepsPerEpoch: number({ ...TRAIN_LIMITS.stepsPerEpoch, integer: true }),
};

/** [low, high] with lo <= low <= high <= hi; one message for the pair, with the pair as got. */
export function range(lo: number, hi: number, integer = false) {
  const rule = `must be [low, high] with ${lo} <= low <= high <= ${hi}`;
  const show = (v: unknown) => JSON.stringify(v);
  return z.custom<[number, number]>(
    (v) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && x >= lo && x <= hi) && v[0] <= v[1],
    { error: got(rule, show) },
  ).check((ctx) => {
    if (integer && !ctx.value.every(Number.isInteger)) ctx.issues.push({ code: 'custom', input: ctx.value, message: got('must be whole numbers', show)({ input: ctx.value }) });
  }).transform(([a, b]): [number, number] => [a, b]);
}
