// The "scale" field of the loss-based terms (robust, curriculum): "raw" losses in dB, or the batch's
// standardized losses z = (L - mean) / max(std, eps) over the units the term sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MixtureType, SoundClass } from '../../../core/types';
import {
  BATCH_SCALE_EPS_DB, ReweightConfigError, batchStandardized, createReweighter, curriculumTerm, makeReweightContext,
  parseReweightConfig, reweighterFromConfig, robustTerm,
} from '../../../core/reweighting';
import type { Granularity, LogitTerm, ReweightContext } from '../../../core/reweighting';

function near(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} is not within ${tol} of ${expected}`);
}

/** Every mixture speech+env: the classes play no part in these terms. */
function context(sourceLosses: number[][], granularity: Granularity = 'mixture', step = 0, totalSteps = 100): ReweightContext {
  const classes: SoundClass[][] = sourceLosses.map((row) => row.map((_, s) => (s % 2 === 0 ? 'speech' : 'env')));
  const mixtureTypes: MixtureType[] = sourceLosses.map(() => 'speech+env');
  return makeReweightContext({ granularity, sourceLosses, classes, mixtureTypes, step, epoch: 0, totalSteps });
}

const weigh = (term: LogitTerm, ctx: ReweightContext) => createReweighter([term], ctx.granularity).weigh(ctx);
const ess = (w: ArrayLike<number>) => 1 / Array.from(w).reduce((s, p) => s + p * p, 0);

// Mixture losses -17, -11, -9, -3: mean -10, deviations -7, -1, 1, 7, population variance
// (49 + 1 + 1 + 49) / 4 = 25, std 5, so z = -1.4, -0.2, 0.2, 1.4.
const SOURCES = [[-18, -16], [-12, -10], [-9, -9], [-1, -5]];

test('scale "batch": logits are alpha * z and beta(k) * z, z from the hand-computed mean and std', () => {
  const ctx = context(SOURCES);
  assert.deepEqual(ctx.losses, [-17, -11, -9, -3]);
  assert.deepEqual(batchStandardized(ctx.losses), [-1.4, -0.2, 0.2, 1.4]);
  assert.deepEqual(Array.from(weigh(robustTerm({ alpha: 0.5, scale: 'batch' }), ctx).logits), [-0.7, -0.1, 0.1, 0.7]);
  // Linear curriculum at half way: beta = -1 * (1 - 50 / 100) = -0.5.
  const curriculum = curriculumTerm({ beta0: -1, schedule: 'linear', scale: 'batch' });
  assert.deepEqual(Array.from(weigh(curriculum, context(SOURCES, 'mixture', 50)).logits), [0.7, 0.1, -0.1, -0.7]);
  assert.deepEqual(Array.from(weigh(curriculum, context(SOURCES, 'mixture', 100)).weights), [0.25, 0.25, 0.25, 0.25], 'beta reaches 0');
  // Weights: softmax of those logits, e.g. the hardest vs the easiest mixture e^(0.5 * 2.8).
  const w = weigh(robustTerm({ alpha: 0.5, scale: 'batch' }), ctx).weights;
  near(w[3]! / w[0]!, Math.exp(1.4), 1e-12, 'hardest vs easiest');
});

test('scale "batch" per source standardizes over the (mixture, source) units', () => {
  const ctx = context(SOURCES, 'source');
  // Units -18, -16, -12, -10, -9, -9, -1, -5: mean -10, squared deviations 64, 36, 4, 0, 1, 1, 81, 25 -> variance 212 / 8 = 26.5.
  const z = ctx.losses.map((l) => (l + 10) / Math.sqrt(26.5));
  const logits = weigh(robustTerm({ alpha: 0.3, scale: 'batch' }), ctx).logits;
  assert.equal(logits.length, 8);
  logits.forEach((f, u) => near(f, 0.3 * z[u]!, 1e-12, `unit ${u}`));
});

test('scale "batch" weights ignore a shift or a positive rescaling of the losses; "raw" weights do not', () => {
  const transforms: [string, (l: number) => number][] = [['+ 7 dB', (l) => l + 7], ['x 3', (l) => l * 3], ['x 0.1 - 20', (l) => 0.1 * l - 20]];
  for (const granularity of ['mixture', 'source'] as const) {
    const base = context(SOURCES, granularity, 10);
    for (const [name, f] of transforms) {
      const moved = context(SOURCES.map((row) => row.map(f)), granularity, 10);
      const pairs: [string, LogitTerm, LogitTerm][] = [
        ['robust', robustTerm({ alpha: 0.4, scale: 'batch' }), robustTerm({ alpha: 0.4, scale: 'raw' })],
        ['curriculum', curriculumTerm({ beta0: -1, schedule: 'cosine', scale: 'batch' }), curriculumTerm({ beta0: -1, schedule: 'cosine' })],
      ];
      for (const [term, batch, raw] of pairs) {
        const a = weigh(batch, base).weights;
        const b = weigh(batch, moved).weights;
        a.forEach((p, u) => near(b[u]!, p, 1e-12, `${granularity} ${term} batch ${name} unit ${u}`));
        if (name === '+ 7 dB') continue; // softmax is shift-invariant: raw weights ignore a shift too
        const ra = weigh(raw, base).weights;
        const rb = weigh(raw, moved).weights;
        const gap = Math.max(...Array.from(ra, (p, u) => Math.abs(p - rb[u]!)));
        assert.ok(gap > 1e-3, `${granularity} ${term} raw ${name}: weights moved only ${gap}`);
      }
    }
  }
});

test('beta0 = -1 in batch stds tilts a batch whose losses spread a few dB; beta0 = -0.2 raw barely does', () => {
  // Eight mixtures whose losses spread 1.4 dB (std): raw beta0 = -0.2 keeps ~7.4 of 8 (runs measured 6.7 to 7.8).
  const losses = [-9.8, -9.1, -8.2, -7.9, -7.4, -6.9, -6.1, -5.2];
  const ctx = context(losses.map((l) => [l - 0.5, l + 0.5]));
  assert.deepEqual(ctx.losses, losses);
  const raw = weigh(curriculumTerm({ beta0: -0.2, schedule: 'linear' }), ctx).diagnostics.effectiveBatchSize;
  const batch = weigh(curriculumTerm({ beta0: -1, schedule: 'linear', scale: 'batch' }), ctx);
  assert.ok(raw > 7, `raw beta0 -0.2: effective batch size ${raw} of 8`);
  assert.ok(batch.diagnostics.effectiveBatchSize < 5, `batch beta0 -1: effective batch size ${batch.diagnostics.effectiveBatchSize} of 8`);
  near(batch.diagnostics.effectiveBatchSize, ess(batch.weights), 1e-12);
  assert.ok(batch.weights[0]! > batch.weights[7]!, 'easiest first');
  // Same tilt whatever the spread: ten times the spread, same effective batch size.
  const wide = weigh(curriculumTerm({ beta0: -1, schedule: 'linear', scale: 'batch' }), context(losses.map((l) => [10 * l - 5, 10 * l + 5])));
  near(wide.diagnostics.effectiveBatchSize, batch.diagnostics.effectiveBatchSize, 1e-9, 'spread x 10');
});

test('scale "batch": all-equal losses, one unit, or a spread below eps give uniform (or near-uniform) weights', () => {
  const terms = [robustTerm({ alpha: 2, scale: 'batch' }), curriculumTerm({ beta0: -3, schedule: 'step', scale: 'batch' })];
  for (const term of terms) {
    for (const granularity of ['mixture', 'source'] as const) {
      const equal = weigh(term, context([[0.1, 0.1], [0.1, 0.1], [0.1, 0.1]], granularity));
      const n = granularity === 'mixture' ? 3 : 6;
      assert.equal(equal.uniform, true, `${term.name} ${granularity}: equal losses`);
      assert.deepEqual(Array.from(equal.weights), new Array(n).fill(1 / n));
    }
    const one = weigh(term, context([[-4, 2]]));
    assert.deepEqual(Array.from(one.logits), [0], `${term.name}: one unit`);
    assert.deepEqual(Array.from(one.weights), [1]);
    // Losses 1e-6 dB apart: std far below eps, so z is divided by eps and stays tiny.
    const close = weigh(term, context([[-5, -5], [-5 + 1e-6, -5 + 1e-6], [-5 + 2e-6, -5 + 2e-6]]));
    close.weights.forEach((p, u) => near(p, 1 / 3, 1e-2, `${term.name}: close losses unit ${u}`));
    close.logits.forEach((f) => assert.ok(Number.isFinite(f)));
  }
  assert.deepEqual(batchStandardized([3, 3 + BATCH_SCALE_EPS_DB / 2]).map((z) => Math.round(z * 1e6) / 1e6), [-0.25, 0.25], 'divides by eps below it');
  assert.deepEqual(batchStandardized([]), []);
});

test('scale round-trips through JSON; left out it stays left out (raw)', () => {
  const full = {
    granularity: 'source',
    terms: [{ robust: { alpha: 0.5, scale: 'batch' } }, { curriculum: { beta0: -1, schedule: 'exponential', rate: 3, scale: 'batch' } }, { robust: { alpha: 0.1, scale: 'raw' } }],
  };
  assert.deepEqual(parseReweightConfig(JSON.parse(JSON.stringify(full))), full);
  const r = reweighterFromConfig(JSON.parse(JSON.stringify(full)));
  assert.deepEqual(r.config, full);
  assert.deepEqual(JSON.parse(JSON.stringify(r.config)), full);
  assert.deepEqual(robustTerm({ alpha: 0.2 }).config, { robust: { alpha: 0.2 } });
  assert.deepEqual(curriculumTerm({ beta0: -0.5, schedule: 'linear' }).config, { curriculum: { beta0: -0.5, schedule: 'linear' } });
  // Leaving it out is "raw": the same logits as today.
  const ctx = context(SOURCES);
  assert.deepEqual(Array.from(weigh(robustTerm({ alpha: 0.5 }), ctx).logits), Array.from(weigh(robustTerm({ alpha: 0.5, scale: 'raw' }), ctx).logits));
  assert.deepEqual(Array.from(weigh(robustTerm({ alpha: 0.5 }), ctx).logits), [-8.5, -5.5, -4.5, -1.5]);
});

test('a bad scale is refused with the field named', () => {
  const errorOf = (raw: unknown): ReweightConfigError => {
    try {
      parseReweightConfig(raw, 'reweighting');
    } catch (e) {
      assert.ok(e instanceof ReweightConfigError);
      return e;
    }
    assert.fail('config was accepted');
  };
  const e = errorOf([{ robust: { alpha: 0.2, scale: 'foo' } }, { curriculum: { beta0: -1, schedule: 'linear', scale: 1 } }, { class: { speech: 1, scale: 'batch' } }]);
  assert.deepEqual(e.issues.map((i) => i.path), ['reweighting.terms[0].robust.scale', 'reweighting.terms[1].curriculum.scale', 'reweighting.terms[2].class.scale']);
  assert.match(e.message, /terms\[0\]\.robust\.scale must be one of "raw", "batch" \(got "foo"\)/);
  assert.match(e.message, /terms\[1\]\.curriculum\.scale must be one of "raw", "batch" \(got 1\)/);
  assert.match(e.message, /terms\[2\]\.class\.scale is not a known field/);
  assert.throws(() => robustTerm({ alpha: 0.2, scale: 'std' as never }), /^ReweightConfigError: robust\.scale must be one of "raw", "batch" \(got "std"\)$/);
  assert.throws(() => curriculumTerm({ beta0: -1, schedule: 'linear', scale: 'z' as never }), /curriculum\.scale must be one of "raw", "batch" \(got "z"\)/);
});
