// The serialisable (plain JSON) form of a reweighting scheme, e.g.
//   [{ "robust": { "alpha": 0.2 } }, { "class": { "speech": 3, "env": 0 } }]
// or { "granularity": "source", "terms": [...] }. Terms add up: F = sum of their logits.
import { z } from 'zod';
import { GRANULARITIES } from './context';
import { createReweighter } from './reweighter';
import type { Reweighter } from './reweighter';
import { TERM_BODIES, TERM_KINDS, classTerm, curriculumTerm, robustTerm, uniformTerm } from './terms';
import type { ClassGamma, CurriculumConfig, LogitTerm, RobustConfig, TermConfig } from './terms';
import { describe, fields, got, parseWith, problem } from '../schema';
import { ReweightConfigError } from './validate';

/**
 * One term: first its shape (an object with exactly one key, a known kind), as one problem; then
 * its body, by its kind's schema.
 */
export const REWEIGHT_TERM: z.ZodType<TermConfig, unknown> = z.unknown().check((ctx) => {
  const raw = ctx.value;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problem(ctx, [], `must be an object with one of ${TERM_KINDS.map((k) => `"${k}"`).join(', ')} (got ${describe(raw)})`);
    return;
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1) {
    problem(ctx, [], `must have exactly one key, the term's kind (${TERM_KINDS.join(', ')}); got ${keys.length === 0 ? 'none' : keys.join(', ')}`);
  } else if (!Object.hasOwn(TERM_BODIES, keys[0]!)) {
    problem(ctx, [], `has unknown term kind "${keys[0]}" (expected one of ${TERM_KINDS.join(', ')})`);
  }
}).pipe(fields(Object.fromEntries(TERM_KINDS.map((k) => [k, TERM_BODIES[k].optional()]))))
  .transform((term) => term as TermConfig);

const FORMS = 'must be an array of terms or an object { "granularity", "terms" }';

/** The whole setting: a list of terms, or { granularity (default "mixture"), terms }. */
export const REWEIGHT_CONFIG = z.preprocess((raw) => (Array.isArray(raw) ? { terms: raw } : raw), fields({
  granularity: z.enum(GRANULARITIES).default('mixture'),
  terms: z.array(REWEIGHT_TERM, { error: got('must be an array of terms') }),
}, { error: (issue) => (issue.code === 'invalid_type' ? got(FORMS)(issue) : undefined) }));

export type ReweightConfig = z.output<typeof REWEIGHT_CONFIG>;

/**
 * Checks a reweighting config from JSON and returns it in normalised form (object with
 * granularity, default "mixture"). Throws ReweightConfigError listing every problem, each with
 * its field path (prefixed by `path`, e.g. "reweighting") and the reason.
 */
export function parseReweightConfig(raw: unknown, path = ''): ReweightConfig {
  return parseWith(REWEIGHT_CONFIG, raw, { prefix: path, root: path || 'reweighting' }, ReweightConfigError);
}

export function termFromConfig(term: TermConfig): LogitTerm {
  if ('uniform' in term) return uniformTerm();
  if ('robust' in term) return robustTerm(term.robust as RobustConfig);
  if ('curriculum' in term) return curriculumTerm(term.curriculum as CurriculumConfig);
  return classTerm(term.class as ClassGamma);
}

/** Validates a JSON config and builds its reweighter. */
export function reweighterFromConfig(raw: unknown, path = ''): Reweighter {
  const config = parseReweightConfig(raw, path);
  return createReweighter(config.terms.map(termFromConfig), config.granularity);
}
