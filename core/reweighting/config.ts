// The serialisable (plain JSON) form of a reweighting scheme, e.g.
//   [{ "robust": { "alpha": 0.2 } }, { "class": { "speech": 3, "env": 0 } }]
// or { "granularity": "source", "terms": [...] }. Terms add up: F = sum of their logits.
import { GRANULARITIES } from './context';
import type { Granularity } from './context';
import { createReweighter } from './reweighter';
import type { Reweighter } from './reweighter';
import {
  TERM_KINDS, checkClass, checkCurriculum, checkRobust, classTerm, curriculumTerm, robustTerm, uniformTerm,
} from './terms';
import type { ClassGamma, CurriculumConfig, LogitTerm, RobustConfig, TermConfig } from './terms';
import { Validator, describe } from './validate';

export interface ReweightConfig {
  granularity: Granularity;
  terms: TermConfig[];
}

function join(prefix: string, field: string): string {
  return prefix ? `${prefix}.${field}` : field;
}

/**
 * Checks a reweighting config from JSON and returns it in normalised form (object with
 * granularity, default "mixture"). Throws ReweightConfigError listing every problem, each with
 * its field path (prefixed by `path`, e.g. "reweighting") and the reason.
 */
export function parseReweightConfig(raw: unknown, path = ''): ReweightConfig {
  const v = new Validator();
  let granularity: Granularity = 'mixture';
  let terms: unknown = raw;
  if (!Array.isArray(raw)) {
    if (typeof raw !== 'object' || raw === null) {
      v.fail(path || 'reweighting', `must be an array of terms or an object { "granularity", "terms" } (got ${describe(raw)})`);
      v.throwIfAny();
    }
    const obj = raw as Record<string, unknown>;
    v.object(obj, path || 'reweighting', ['granularity', 'terms']);
    if (obj.granularity !== undefined && v.oneOf(obj.granularity, join(path, 'granularity'), GRANULARITIES)) {
      granularity = obj.granularity;
    }
    terms = obj.terms;
  }
  const termsPath = join(path, 'terms');
  if (!Array.isArray(terms)) {
    v.fail(termsPath, `must be an array of terms (got ${describe(terms)})`);
    v.throwIfAny();
  }
  (terms as unknown[]).forEach((term, i) => checkTerm(term, `${termsPath}[${i}]`, v));
  v.throwIfAny();
  return { granularity, terms: structuredClone(terms as TermConfig[]) };
}

function checkTerm(raw: unknown, path: string, v: Validator): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    v.fail(path, `must be an object with one of ${TERM_KINDS.map((k) => `"${k}"`).join(', ')} (got ${describe(raw)})`);
    return;
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1) {
    v.fail(path, `must have exactly one key, the term's kind (${TERM_KINDS.join(', ')}); got ${keys.length === 0 ? 'none' : keys.join(', ')}`);
    return;
  }
  const kind = keys[0]!;
  const body = (raw as Record<string, unknown>)[kind];
  const at = `${path}.${kind}`;
  switch (kind) {
    case 'uniform':
      v.object(body, at, []);
      return;
    case 'robust':
      checkRobust(body, at, v);
      return;
    case 'curriculum':
      checkCurriculum(body, at, v);
      return;
    case 'class':
      checkClass(body, at, v);
      return;
    default:
      v.fail(path, `has unknown term kind "${kind}" (expected one of ${TERM_KINDS.join(', ')})`);
  }
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
