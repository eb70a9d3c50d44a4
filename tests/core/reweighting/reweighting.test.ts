import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MixtureType, SoundClass } from '../../../core/types';
import {
  ReweightConfigError, SCHEDULES, classTerm, createReweighter, curriculumTerm, customTerm, makeReweightContext,
  parseReweightConfig, reweighterFromConfig, robustTerm, scheduledBeta, softmax, uniformTerm,
} from '../../../core/reweighting';
import type { Granularity, ReweightContext } from '../../../core/reweighting';

function near(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} is not within ${tol} of ${expected}`);
}

const TYPES: Record<string, MixtureType> = { 'speech,env': 'speech+env', 'speech,speech': 'speech+speech', 'env,env': 'env+env' };

function context(
  sourceLosses: number[][], classes: SoundClass[][], granularity: Granularity = 'mixture', progress = { step: 0, epoch: 0, totalSteps: 100 },
): ReweightContext {
  const mixtureTypes = classes.map((row) => TYPES[row.join()] ?? TYPES[[...row].reverse().join()]!);
  return makeReweightContext({ granularity, sourceLosses, classes, mixtureTypes, ...progress });
}

const LOSSES = [[-12, -8], [-3, 1], [-20, -16], [5, 3]];
const CLASSES: SoundClass[][] = [['speech', 'env'], ['speech', 'speech'], ['env', 'env'], ['env', 'speech']];

test('softmax is a pmf, shift-invariant, and stable for large logits', () => {
  const x = [0.3, -1.2, 2.5, 0];
  const p = softmax(x);
  near(p.reduce((a, b) => a + b, 0), 1, 1e-15, 'sum');
  for (const c of [-1000, 7.25, 1e4]) softmax(x.map((v) => v + c)).forEach((q, i) => near(q, p[i]!, 1e-12, `shift ${c}`));
  near(p[2]! / p[0]!, Math.exp(2.2), 1e-12, 'ratio');
  const huge = softmax([1000, 999]);
  near(huge[0]!, 1 / (1 + Math.exp(-1)), 1e-15, 'large logits');
});

test('uniform weights are exactly 1/N and flagged uniform, at both granularities', () => {
  for (const g of ['mixture', 'source'] as const) {
    const ctx = context(LOSSES, CLASSES, g);
    const n = g === 'mixture' ? 4 : 8;
    for (const r of [createReweighter([], g), createReweighter([uniformTerm()], g), createReweighter([robustTerm({ alpha: 0 })], g)]) {
      const w = r.weigh(ctx);
      assert.equal(w.uniform, true);
      assert.deepEqual(Array.from(w.weights), new Array(n).fill(1 / n));
      near(w.diagnostics.entropy, Math.log(n), 1e-12, 'entropy');
      near(w.diagnostics.effectiveBatchSize, n, 1e-9, 'effective batch size');
      assert.equal(w.diagnostics.maxWeight, 1 / n);
    }
  }
});

test('robust: weights follow exp(alpha * L), and alpha -> 0 tends to uniform', () => {
  const ctx = context(LOSSES, CLASSES);
  const L = ctx.exampleLosses; // [-10, -1, -18, 4]
  assert.deepEqual(L, [-10, -1, -18, 4]);
  const p = createReweighter([robustTerm({ alpha: 0.2 })]).weigh(ctx).weights;
  near(p[3]! / p[0]!, Math.exp(0.2 * 14), 1e-9, 'hardest vs easy');
  assert.ok(p[3]! > p[1]! && p[1]! > p[0]! && p[0]! > p[2]!, 'ordered by loss');
  let previous = Infinity;
  for (const alpha of [0.1, 1e-2, 1e-4, 1e-8]) {
    const w = createReweighter([robustTerm({ alpha })]).weigh(ctx).weights;
    const gap = Math.max(...w.map((v) => Math.abs(v - 0.25)));
    assert.ok(gap < previous, `alpha ${alpha}: gap ${gap} should shrink`);
    previous = gap;
  }
  assert.ok(previous < 1e-7, `alpha 1e-8 leaves gap ${previous}`);
});

test('class bias gives the e^gamma ratio; per mixture a mixed mixture gets the mean of its sources\' gammas', () => {
  const gamma = { speech: 3, env: 0.5 };
  const perSource = createReweighter([classTerm(gamma)], 'source').weigh(context(LOSSES, CLASSES, 'source'));
  // units: b * 2 + s; classes speech,env | speech,speech | env,env | env,speech
  near(perSource.weights[0]! / perSource.weights[1]!, Math.exp(2.5), 1e-12, 'speech vs env source');
  near(perSource.weights[2]! / perSource.weights[0]!, 1, 1e-12, 'two speech sources');
  near(perSource.diagnostics.classMass.speech / perSource.diagnostics.classMass.env, Math.exp(2.5), 1e-9, 'class mass');

  const perMixture = createReweighter([classTerm(gamma)]).weigh(context(LOSSES, CLASSES));
  assert.deepEqual(Array.from(perMixture.logits), [1.75, 3, 0.5, 1.75]);
  near(perMixture.weights[1]! / perMixture.weights[2]!, Math.exp(2.5), 1e-12, 'speech+speech vs env+env');
  near(perMixture.weights[0]! / perMixture.weights[2]!, Math.exp(1.25), 1e-12, 'speech+env vs env+env');
  const { classMass, mixtureTypeMass } = perMixture.diagnostics;
  const [w0, w1, , w3] = Array.from(perMixture.weights);
  near(classMass.speech, w0! / 2 + w1! + w3! / 2, 1e-12, 'speech mass splits mixed mixtures in half');
  near(classMass.speech + classMass.env, 1, 1e-12, 'class masses sum to 1');
  near(mixtureTypeMass['speech+env'], w0! + w3!, 1e-12, 'mixture type mass');
  // Shifting every gamma by a constant changes nothing.
  const shifted = createReweighter([classTerm({ speech: 13, env: 10.5 })]).weigh(context(LOSSES, CLASSES));
  shifted.weights.forEach((v, i) => near(v, perMixture.weights[i]!, 1e-12, 'shifted gamma'));
});

test('terms add up: robust + class weights are proportional to exp(alpha L + gamma)', () => {
  const ctx = context(LOSSES, CLASSES, 'source');
  const w = createReweighter([robustTerm({ alpha: 0.1 }), classTerm({ speech: 2 })], 'source').weigh(ctx).weights;
  const expected = softmax(ctx.classes.flatMap((row, b) => row.map((c, s) => 0.1 * LOSSES[b]![s]! + (c === 'speech' ? 2 : 0))));
  w.forEach((v, i) => near(v, expected[i]!, 1e-12, `unit ${i}`));
});

test('custom terms: any F of the context; bad output is rejected with the term named', () => {
  const lastIsHard = customTerm('last-hard', (ctx) => ctx.losses.map((_, i) => (i === ctx.losses.length - 1 ? 1 : 0)));
  const w = createReweighter([lastIsHard]).weigh(context(LOSSES, CLASSES)).weights;
  near(w[3]! / w[0]!, Math.E, 1e-12);
  assert.equal(createReweighter([lastIsHard]).config, null, 'custom terms are not serialisable');
  const short = customTerm('short', () => [1]);
  assert.throws(() => createReweighter([short]).weigh(context(LOSSES, CLASSES)), /"short" gave 1 logits for 4 units/);
  const nan = customTerm('nan', (ctx) => ctx.losses.map(() => NaN));
  assert.throws(() => createReweighter([nan]).weigh(context(LOSSES, CLASSES)), /"nan" gave a non-finite logit/);
  assert.throws(() => createReweighter([], 'source').weigh(context(LOSSES, CLASSES)), /per source but the context is per mixture/);
});

test('diagnostics: a concentrated pmf has effective batch size near 1 and low entropy', () => {
  const r = createReweighter([robustTerm({ alpha: 5 })]).weigh(context(LOSSES, CLASSES));
  assert.ok(r.diagnostics.effectiveBatchSize < 1.001, `ESS ${r.diagnostics.effectiveBatchSize}`);
  assert.ok(r.diagnostics.entropy < 1e-3, `entropy ${r.diagnostics.entropy}`);
  near(r.diagnostics.maxWeight, r.weights[3]!, 0, 'max weight is the hardest example');
  const p = Array.from(r.weights);
  near(r.diagnostics.effectiveBatchSize, 1 / p.reduce((s, v) => s + v * v, 0), 1e-12);
});

test('curriculum schedules start at beta0, end at 0, and rise monotonically', () => {
  const steps = 200;
  for (const schedule of SCHEDULES) {
    const opts = { schedule, beta0: -0.8, steps };
    assert.equal(scheduledBeta(opts, 0), -0.8, `${schedule} at 0`);
    assert.equal(scheduledBeta(opts, steps), 0, `${schedule} at the end`);
    assert.equal(scheduledBeta(opts, steps + 50), 0, `${schedule} after the end`);
    let previous = -Infinity;
    for (let k = 0; k <= steps; k++) {
      const b = scheduledBeta(opts, k);
      assert.ok(b >= previous && b <= 0, `${schedule} at ${k}: ${b} after ${previous}`);
      previous = b;
    }
  }
  near(scheduledBeta({ schedule: 'linear', beta0: -0.8, steps }, 50), -0.6, 1e-15, 'linear');
  near(scheduledBeta({ schedule: 'cosine', beta0: -0.8, steps }, 100), -0.4, 1e-12, 'cosine midpoint');
  near(scheduledBeta({ schedule: 'exponential', beta0: -1, steps, rate: 4 }, 100), -(Math.exp(-2) - Math.exp(-4)) / (1 - Math.exp(-4)), 1e-15, 'exponential');
  assert.equal(scheduledBeta({ schedule: 'step', beta0: -1, steps, stages: 4 }, 49), -1);
  assert.equal(scheduledBeta({ schedule: 'step', beta0: -1, steps, stages: 4 }, 50), -0.75);
  assert.equal(scheduledBeta({ schedule: 'step', beta0: -1, steps, stages: 4 }, 199), -0.25);
});

test('curriculum favours easy examples early and anneals to uniform; it defaults to the run length', () => {
  const term = curriculumTerm({ beta0: -0.5, schedule: 'linear' });
  const at = (step: number) => createReweighter([term]).weigh(context(LOSSES, CLASSES, 'mixture', { step, epoch: 0, totalSteps: 100 })).weights;
  const start = at(0);
  near(start[2]! / start[3]!, Math.exp(-0.5 * (-18 - 4)), 1e-9, 'easiest vs hardest at step 0');
  assert.deepEqual(Array.from(at(100)), [0.25, 0.25, 0.25, 0.25]);
  assert.throws(() => createReweighter([term]).weigh(context(LOSSES, CLASSES, 'mixture', { step: 0, epoch: 0, totalSteps: 0 })), /no annealing length/);
  assert.throws(() => curriculumTerm({ beta0: 0.5, schedule: 'linear' }), /curriculum\.beta0 must be < 0 \(got 0\.5\)/);
});

test('a JSON config builds the reweighter it describes and round-trips', () => {
  const json = JSON.parse('[{"robust":{"alpha":0.2}},{"class":{"speech":3,"env":0}}]') as unknown;
  const config = parseReweightConfig(json);
  assert.deepEqual(config, { granularity: 'mixture', terms: [{ robust: { alpha: 0.2 } }, { class: { speech: 3, env: 0 } }] });
  const fromJson = reweighterFromConfig(json);
  assert.deepEqual(fromJson.config, config);
  const direct = createReweighter([robustTerm({ alpha: 0.2 }), classTerm({ speech: 3, env: 0 })]);
  const ctx = context(LOSSES, CLASSES);
  assert.deepEqual(Array.from(fromJson.weigh(ctx).weights), Array.from(direct.weigh(ctx).weights));
  const full = { granularity: 'source', terms: [{ curriculum: { beta0: -0.5, schedule: 'step', steps: 1000, stages: 5 } }, { uniform: {} }] };
  assert.deepEqual(reweighterFromConfig(JSON.parse(JSON.stringify(full))).config, full);
});

test('invalid configs are rejected with every wrong field named and the reason', () => {
  const errorOf = (raw: unknown, path?: string): ReweightConfigError => {
    try {
      parseReweightConfig(raw, path);
    } catch (e) {
      assert.ok(e instanceof ReweightConfigError);
      return e;
    }
    assert.fail('config was accepted');
  };
  assert.match(errorOf([{ robust: { alpha: 0.2 } }, { class: { speech: 'high' } }]).message, /^terms\[1\]\.class\.speech must be a finite number \(got "high"\)$/);
  const many = errorOf({
    granularity: 'frame',
    terms: [
      { robust: { alpha: -1 } },
      { curriculum: { beta0: 0.3, schedule: 'sigmoid', rate: 2 } },
      { class: { music: 1 } },
      { robust: {}, class: {} },
      { robustt: { alpha: 1 } },
      { curriculum: { beta0: -1, schedule: 'linear', steps: 10.5 } },
      { uniform: { x: 1 } },
    ],
  }, 'reweighting');
  assert.deepEqual(many.issues.map((i) => i.path), [
    'reweighting.granularity',
    'reweighting.terms[0].robust.alpha',
    'reweighting.terms[1].curriculum.beta0',
    'reweighting.terms[1].curriculum.schedule',
    'reweighting.terms[1].curriculum.rate',
    'reweighting.terms[2].class.music',
    'reweighting.terms[3]',
    'reweighting.terms[4]',
    'reweighting.terms[5].curriculum.steps',
    'reweighting.terms[6].uniform.x',
  ]);
  const text = many.message;
  assert.match(text, /reweighting\.granularity must be one of "mixture", "source" \(got "frame"\)/);
  assert.match(text, /terms\[0\]\.robust\.alpha must be >= 0 \(got -1\)/);
  assert.match(text, /terms\[1\]\.curriculum\.rate only applies to the "exponential" schedule/);
  assert.match(text, /terms\[2\]\.class\.music is not a known field \(expected "speech", "env"\)/);
  assert.match(text, /terms\[3\] must have exactly one key/);
  assert.match(text, /terms\[4\] has unknown term kind "robustt"/);
  assert.match(text, /terms\[5\]\.curriculum\.steps must be an integer/);
  assert.match(errorOf('robust').message, /must be an array of terms or an object/);
  assert.match(errorOf({ terms: 3 }).message, /^terms must be an array of terms \(got 3\)$/);
  assert.match(errorOf([{ robust: { alpha: Infinity } }]).message, /terms\[0\]\.robust\.alpha must be a finite number \(got Infinity\)/);
});
