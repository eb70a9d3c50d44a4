import { MIXTURE_TYPES, SOUND_CLASSES } from '../types';
import type { MixtureType, SoundClass } from '../types';
import type { Granularity, ReweightContext } from './context';
import { unitCount } from './context';
import type { LogitTerm, TermConfig } from './terms';
import { uniformTerm } from './terms';

/** Numerically stable softmax in Float64 (shift-invariant by construction). */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    p[i] = Math.exp(logits[i]! - max);
    sum += p[i]!;
  }
  for (let i = 0; i < p.length; i++) p[i]! /= sum;
  return p;
}

export interface WeightDiagnostics {
  /** Number of weighted units (mixtures, or (mixture, source) pairs). */
  units: number;
  /** -sum p ln p, in nats; ln(units) when uniform. */
  entropy: number;
  /** 1 / sum p^2: `units` when uniform, 1 when one unit takes all the weight. */
  effectiveBatchSize: number;
  maxWeight: number;
  /**
   * Weight mass per class, summing to 1. Per source: the sum of the weights of that class's
   * sources. Per mixture: each mixture's weight is split equally among its sources, so a
   * speech+env mixture gives half its weight to each class (the same convention as classTerm).
   */
  classMass: Record<SoundClass, number>;
  /** Sum of the weights of each mixture type's units. */
  mixtureTypeMass: Record<MixtureType, number>;
}

export function weightDiagnostics(weights: ArrayLike<number>, ctx: ReweightContext): WeightDiagnostics {
  const units = unitCount(ctx);
  if (weights.length !== units) throw new Error(`weightDiagnostics: ${weights.length} weights for ${units} units`);
  let entropy = 0;
  let sumSq = 0;
  let maxWeight = 0;
  const classMass = Object.fromEntries(SOUND_CLASSES.map((c) => [c, 0])) as Record<SoundClass, number>;
  const mixtureTypeMass = Object.fromEntries(MIXTURE_TYPES.map((t) => [t, 0])) as Record<MixtureType, number>;
  for (let u = 0; u < units; u++) {
    const p = weights[u]!;
    if (p > 0) entropy -= p * Math.log(p);
    sumSq += p * p;
    maxWeight = Math.max(maxWeight, p);
    if (ctx.granularity === 'source') {
      const b = Math.floor(u / ctx.nSrc);
      classMass[ctx.classes[b]![u % ctx.nSrc]!] += p;
      mixtureTypeMass[ctx.mixtureTypes[b]!] += p;
    } else {
      for (const c of ctx.classes[u]!) classMass[c] += p / ctx.nSrc;
      mixtureTypeMass[ctx.mixtureTypes[u]!] += p;
    }
  }
  return { units, entropy, effectiveBatchSize: 1 / sumSq, maxWeight, classMass, mixtureTypeMass };
}

export interface Weighting {
  /** F summed over the terms, one per unit. */
  logits: Float64Array;
  /** softmax(F): a pmf over the units, to be used as constants. */
  weights: Float64Array;
  /** True when every logit is equal, so the weighted objective is the plain mean. */
  uniform: boolean;
  diagnostics: WeightDiagnostics;
}

export interface Reweighter {
  readonly granularity: Granularity;
  readonly terms: readonly LogitTerm[];
  /** The JSON form, or null when a custom term makes it unserialisable. */
  readonly config: { granularity: Granularity; terms: TermConfig[] } | null;
  weigh(ctx: ReweightContext): Weighting;
}

/** F = the sum of the terms' logits; no terms means uniform. */
export function createReweighter(terms: readonly LogitTerm[], granularity: Granularity = 'mixture'): Reweighter {
  const used = terms.length > 0 ? [...terms] : [uniformTerm()];
  const configs = used.map((t) => t.config);
  return {
    granularity,
    terms: used,
    config: configs.every((c) => c !== undefined) ? { granularity, terms: configs as TermConfig[] } : null,
    weigh(ctx) {
      if (ctx.granularity !== granularity) {
        throw new Error(`reweighter works per ${granularity} but the context is per ${ctx.granularity}`);
      }
      const units = unitCount(ctx);
      const logits = new Float64Array(units);
      for (const term of used) {
        const f = term.logits(ctx);
        if (f.length !== units) throw new Error(`reweighting term "${term.name}" gave ${f.length} logits for ${units} units`);
        for (let u = 0; u < units; u++) {
          if (!Number.isFinite(f[u]!)) throw new Error(`reweighting term "${term.name}" gave a non-finite logit (${f[u]}) for unit ${u}`);
          logits[u]! += f[u]!;
        }
      }
      const weights = softmax(logits);
      const uniform = logits.every((l) => l === logits[0]);
      return { logits, weights, uniform, diagnostics: weightDiagnostics(weights, ctx) };
    },
  };
}
