// Logit terms F(ctx). A reweighter sums its terms and takes softmax over the batch's units.
// Each preset term's JSON form is a zod schema below (TERM_BODIES): its type, check and messages.
import { z } from 'zod';
import { SOUND_CLASSES } from '../types';
import type { SoundClass } from '../types';
import type { ReweightContext } from './context';
import { unitCount } from './context';
import { SCHEDULES, scheduledBeta } from './schedules';
import { fields, number, parseWith } from '../schema';
import { ReweightConfigError } from './validate';

const ROBUST = fields({
  /** >= 0; larger up-weights hard (high-loss) units more. */
  alpha: number({ min: 0 }),
});

/** Whether an object's field fits its schedule (checked even when other fields are wrong). */
const onlyFor = (field: 'rate' | 'stages', schedule: string) => z.refine<{ schedule?: unknown; rate?: unknown; stages?: unknown }>(
  (c) => c[field] === undefined || c.schedule === schedule,
  { path: [field], error: `only applies to the "${schedule}" schedule`, when: (p) => typeof p.value === 'object' && p.value !== null },
);

const CURRICULUM = fields({
  /** < 0: easy (low-loss) units first; annealed to 0. */
  beta0: number({ below: 0 }),
  schedule: z.enum(SCHEDULES),
  /** Annealing steps (positive integer); default: the run's totalSteps. */
  steps: number({ integer: true, min: 1 }).optional(),
  /** exponential only (> 0, default 5). */
  rate: number({ above: 0 }).optional(),
  /** step only (positive integer, default 4). */
  stages: number({ integer: true, min: 1 }).optional(),
}).check(onlyFor('rate', 'exponential'), onlyFor('stages', 'step'));

/** One logit per sound class; a class left out gets 0. */
const CLASS = fields(Object.fromEntries(SOUND_CLASSES.map((c) => [c, number().optional()])) as Record<SoundClass, z.ZodOptional<z.ZodNumber>>);

/** Each preset term's kind and the schema of its body: a term's JSON form is `{ kind: body }`. */
export const TERM_BODIES = {
  uniform: fields({}),
  robust: ROBUST,
  curriculum: CURRICULUM,
  class: CLASS,
};

export type TermKind = keyof typeof TERM_BODIES;
export const TERM_KINDS = Object.keys(TERM_BODIES) as TermKind[];

export type RobustConfig = z.output<typeof ROBUST>;
export type CurriculumConfig = z.output<typeof CURRICULUM>;
export type ClassGamma = z.output<typeof CLASS>;

/** The JSON form of one preset term: an object with exactly one key, its kind. */
export type TermConfig = { [K in TermKind]: { [P in K]: z.output<(typeof TERM_BODIES)[K]> } }[TermKind];

/** A term's settings checked by its schema (a copy), or ReweightConfigError naming each bad field. */
function checked<K extends TermKind>(kind: K, body: unknown): z.output<(typeof TERM_BODIES)[K]> {
  return parseWith(TERM_BODIES[kind], body, { prefix: kind }, ReweightConfigError) as z.output<(typeof TERM_BODIES)[K]>;
}

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
  const { alpha } = checked('robust', config);
  return {
    name: 'robust',
    config: { robust: { alpha } },
    logits: (ctx) => ctx.losses.map((l) => alpha * l),
  };
}

/** F = beta(k) * L with beta(k) < 0 annealed to 0 (schedules in ./schedules): easy units first. */
export function curriculumTerm(config: CurriculumConfig): LogitTerm {
  const frozen = checked('curriculum', config);
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
export function classTerm(config: ClassGamma): LogitTerm {
  const gamma = checked('class', config);
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
