// Logit terms F(ctx). A reweighter sums its terms and takes softmax over the batch's units.
import { SOUND_CLASSES } from '../types';
import type { SoundClass } from '../types';
import type { ReweightContext } from './context';
import { unitCount } from './context';
import { SCHEDULES, scheduledBeta } from './schedules';
import type { ScheduleName } from './schedules';
import { Validator } from './validate';

export interface RobustConfig {
  /** >= 0; larger up-weights hard (high-loss) units more. */
  alpha: number;
}

export interface CurriculumConfig {
  /** < 0: easy (low-loss) units first; annealed to 0. */
  beta0: number;
  schedule: ScheduleName;
  /** Annealing steps (positive integer); default: the run's totalSteps. */
  steps?: number;
  /** exponential only (> 0, default 5). */
  rate?: number;
  /** step only (positive integer, default 4). */
  stages?: number;
}

/** One logit per sound class; a class left out gets 0. */
export type ClassGamma = Partial<Record<SoundClass, number>>;

/** The JSON form of one preset term: an object with exactly one key. */
export type TermConfig =
  | { uniform: Record<string, never> }
  | { robust: RobustConfig }
  | { curriculum: CurriculumConfig }
  | { class: ClassGamma };

export const TERM_KINDS = ['uniform', 'robust', 'curriculum', 'class'] as const;

export interface LogitTerm {
  readonly name: string;
  /** The preset's JSON form; absent for custom terms, which cannot be serialised. */
  readonly config?: TermConfig;
  /** One logit per unit of ctx (see ReweightContext). */
  logits(ctx: ReweightContext): ArrayLike<number>;
}

/** F = 0: the plain mean. */
export function uniformTerm(): LogitTerm {
  return {
    name: 'uniform',
    config: { uniform: {} },
    logits: (ctx) => new Float64Array(unitCount(ctx)),
  };
}

/** F = alpha * L: up-weights the hard units (raises the worst percentiles). */
export function robustTerm(config: RobustConfig): LogitTerm {
  const v = new Validator();
  checkRobust(config, 'robust', v);
  v.throwIfAny();
  const alpha = config.alpha;
  return {
    name: 'robust',
    config: { robust: { alpha } },
    logits: (ctx) => ctx.losses.map((l) => alpha * l),
  };
}

/** F = beta(k) * L with beta(k) < 0 annealed to 0 (schedules in ./schedules): easy units first. */
export function curriculumTerm(config: CurriculumConfig): LogitTerm {
  const v = new Validator();
  checkCurriculum(config, 'curriculum', v);
  v.throwIfAny();
  const frozen: CurriculumConfig = { ...config };
  return {
    name: 'curriculum',
    config: { curriculum: frozen },
    logits: (ctx) => {
      const steps = frozen.steps ?? ctx.totalSteps;
      if (!(Number.isInteger(steps) && steps > 0)) {
        throw new Error(`curriculum: no annealing length (set "steps", or give a positive totalSteps; got ${steps})`);
      }
      const beta = scheduledBeta({ ...frozen, steps }, ctx.step);
      return ctx.losses.map((l) => beta * l);
    },
  };
}

/**
 * F = gamma[class]. Per (mixture, source) unit: the gamma of that source's class. Per mixture:
 * the MEAN of gamma over the mixture's sources, so a mixture whose sources all have class c gets
 * exactly gamma[c] (the e^gamma weight ratio between such mixtures), a speech+env mixture gets
 * (gamma.speech + gamma.env) / 2, the logit does not grow with the number of sources, and adding
 * a constant to every gamma changes nothing. Note that per mixture, every speech+env mixture gets
 * the same logit: to tilt training toward one class inside speech+env mixtures, use per-source
 * granularity.
 */
export function classTerm(gamma: ClassGamma): LogitTerm {
  const v = new Validator();
  checkClass(gamma, 'class', v);
  v.throwIfAny();
  const g = (c: SoundClass): number => gamma[c] ?? 0;
  return {
    name: 'class',
    config: { class: { ...gamma } },
    logits: (ctx) => (ctx.granularity === 'source'
      ? ctx.classes.flatMap((row) => row.map(g))
      : ctx.classes.map((row) => row.reduce((sum, c) => sum + g(c), 0) / row.length)),
  };
}

/** A user-defined F; must return one finite logit per unit. */
export function customTerm(name: string, logits: (ctx: ReweightContext) => ArrayLike<number>): LogitTerm {
  if (name.trim() === '') throw new Error('customTerm: name must not be empty');
  return { name, logits };
}

export function checkRobust(raw: unknown, path: string, v: Validator): void {
  if (!v.object(raw, path, ['alpha'])) return;
  v.number(raw.alpha, `${path}.alpha`, { min: 0 });
}

export function checkCurriculum(raw: unknown, path: string, v: Validator): void {
  if (!v.object(raw, path, ['beta0', 'schedule', 'steps', 'rate', 'stages'])) return;
  v.number(raw.beta0, `${path}.beta0`, { below: 0 });
  const schedule = raw.schedule;
  v.oneOf(schedule, `${path}.schedule`, SCHEDULES);
  if (raw.steps !== undefined) v.number(raw.steps, `${path}.steps`, { integer: true, min: 1 });
  if (raw.rate !== undefined) {
    if (schedule !== 'exponential') v.fail(`${path}.rate`, 'only applies to the "exponential" schedule');
    else v.number(raw.rate, `${path}.rate`, { above: 0 });
  }
  if (raw.stages !== undefined) {
    if (schedule !== 'step') v.fail(`${path}.stages`, 'only applies to the "step" schedule');
    else v.number(raw.stages, `${path}.stages`, { integer: true, min: 1 });
  }
}

export function checkClass(raw: unknown, path: string, v: Validator): void {
  if (!v.object(raw, path, SOUND_CLASSES)) return;
  for (const c of SOUND_CLASSES) if (raw[c] !== undefined) v.number(raw[c], `${path}.${c}`);
}
