/** A config problem: the field's path (`terms[1].class.speech`) and why it is wrong. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Thrown for invalid reweighting settings; `issues` lists every problem found, not just the first. */
export class ReweightConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path} ${i.message}` : i.message)).join('; '));
    this.name = 'ReweightConfigError';
  }
}

export interface NumberRule {
  /** Inclusive lower bound. */
  min?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
  /** Exclusive lower bound. */
  above?: number;
  integer?: boolean;
}

/** Collects issues so a whole config is checked in one pass. */
export class Validator {
  readonly issues: ConfigIssue[] = [];

  fail(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** True when value is a finite number that satisfies the rule; otherwise records why not. */
  number(value: unknown, path: string, rule: NumberRule = {}): value is number {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.fail(path, `must be a finite number (got ${describe(value)})`);
      return false;
    }
    const problems: string[] = [];
    if (rule.integer && !Number.isInteger(value)) problems.push('an integer');
    if (rule.min !== undefined && value < rule.min) problems.push(`>= ${rule.min}`);
    if (rule.max !== undefined && value > rule.max) problems.push(`<= ${rule.max}`);
    if (rule.above !== undefined && value <= rule.above) problems.push(`> ${rule.above}`);
    if (rule.below !== undefined && value >= rule.below) problems.push(`< ${rule.below}`);
    if (problems.length > 0) {
      this.fail(path, `must be ${problems.join(' and ')} (got ${value})`);
      return false;
    }
    return true;
  }

  oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): value is T {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return true;
    this.fail(path, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')} (got ${describe(value)})`);
    return false;
  }

  /** True for a plain object whose keys are all in `known`; unknown keys are reported. */
  object(value: unknown, path: string, known: readonly string[]): value is Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `must be an object (got ${describe(value)})`);
      return false;
    }
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const hint = known.length > 0 ? `expected ${known.map((k) => `"${k}"`).join(', ')}` : 'it takes no fields';
        this.fail(`${path}.${key}`, `is not a known field (${hint})`);
      }
    }
    return true;
  }

  throwIfAny(): void {
    if (this.issues.length > 0) throw new ReweightConfigError(this.issues);
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'function' ? 'a function' : `a ${typeof value}`;
}
