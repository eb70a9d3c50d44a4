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

/**
 * How a loss-based term (robust, curriculum) reads the losses: "raw" (default) uses L in dB, so
 * alpha/beta are per dB; "batch" uses the batch's standardized losses z = (L - mean) / max(std, eps)
 * over the units the term sees (see batchStandardized), so alpha/beta are per batch standard deviation.
 */
export const LOSS_SCALES = ['raw', 'batch'] as const;
export type LossScale = (typeof LOSS_SCALES)[number];

/** The smallest spread (dB) "batch" divides by: closer losses than this give near-uniform weights. */
export const BATCH_SCALE_EPS_DB = 1e-3;

/**
 * z_u = (L_u - mean(L)) / max(std(L), BATCH_SCALE_EPS_DB) over the given units; std is the
 * population one (divides by N). One unit, or all losses equal, gives all zeros (uniform weights).
 */
export function batchStandardized(losses: readonly number[]): number[] {
  const n = losses.length;
  if (n === 0) return [];
  const mean = losses.reduce((a, b) => a + b, 0) / n;
  const variance = losses.reduce((a, l) => a + (l - mean) ** 2, 0) / n;
  const spread = Math.max(Math.sqrt(variance), BATCH_SCALE_EPS_DB);
  return losses.map((l) => (l - mean) / spread);
}

/** The losses a term with this scale multiplies by its alpha/beta. */
const scaledLosses = (ctx: ReweightContext, scale: LossScale | undefined): readonly number[] => (scale === 'batch' ? batchStandardized(ctx.losses) : ctx.losses);

/** Optional on robust and curriculum; left out means "raw" (and stays left out in the config). */
const SCALE = z.enum(LOSS_SCALES).optional();

const ROBUST = fields({
  /** >= 0; larger up-weights hard (high-loss) units more (per dB, or per batch std with scale "batch"). */
  alpha: number({ min: 0 }),
  scale: SCALE,
});

/** Whether an object's field fits its schedule (checked even when other fields are wrong). */
const onlyFor = (field: 'rate' | 'stages', schedule: string) => z.refine<{ schedule?: unknown; rate?: unknown; stages?: unknown }>(
  (c) => c[field] === undefined || c.schedule === schedule,
  { path: [field], error: `only applies to the "${schedule}" schedule`, when: (p) => typeof p.value === 'object' && p.value !== null },
);

const CURRICULUM = fields({
  /** < 0: easy (low-loss) units first; annealed to 0 (per dB, or per batch std with scale "batch"). */
  beta0: number({ below: 0 }),
  schedule: z.enum(SCHEDULES),
  scale: SCALE,
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

/**
 * F = alpha * L (or alpha * z with scale "batch", z the batch's standardized losses): up-weights the
 * hard units (raises the worst percentiles).
 */
export function robustTerm(config: RobustConfig): LogitTerm {
  const frozen = checked('robust', config);
  const { alpha, scale } = frozen;
  return {
    name: 'robust',
    config: { robust: frozen },
    logits: (ctx) => scaledLosses(ctx, scale).map((l) => alpha * l),
  };
}

/**
 * F = beta(k) * L (or beta(k) * z with scale "batch") with beta(k) < 0 annealed to 0 (schedules in
 * ./schedules): easy units first.
 */
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
      return scaledLosses(ctx, frozen.scale).map((l) => beta * l);
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
