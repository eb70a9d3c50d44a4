import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import { createSudoRmRf } from '../../../core/models/sudormrf';
import { presetModelConfig } from '../../../core/train/config';
import { mixtureSourceFor } from '../../../core/train/data';
import {
  EXPERIMENTS, FINE_TUNE_LR, SCALES, SCALE_SPECS, armConfig, batchHash, checkClaims, experimentPlan, pairedDiff, runExperiment,
  stepsToReach, weightsHash, writeReport,
} from '../../../core/experiments';
import type { ArmResult, ExperimentPlan, ExperimentResult } from '../../../core/experiments';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';
import { parseXml } from './xml';

let workDir: string;
let plan: ExperimentPlan;
let result: ExperimentResult;
let files: string[];
let progressSteps: Record<string, number[]>;
let tensorsBefore: number;
let tensorsAfter: number;

const spec = SCALE_SPECS.smoke;
const stepsPerArm = spec.epochs * spec.stepsPerEpoch;

before(async () => {
  await initBackend();
  await ensureTestAudio();
  workDir = await mkdtemp(join(tmpdir(), 'tilt-experiment-'));
  process.on('exit', () => void rm(workDir, { recursive: true, force: true }));
  plan = experimentPlan('class', 'smoke', { corpus: 'ci', cacheDir: TEST_AUDIO_DIR });
  progressSteps = {};
  tensorsBefore = tf.memory().numTensors;
  const r = await runExperiment(plan, join(workDir, 'class'), {
    progress: (arm, p) => (progressSteps[arm.id] ??= []).push(p.step),
  });
  tensorsAfter = tf.memory().numTensors;
  assert.notEqual(r, 'cancelled');
  result = r as ExperimentResult;
  files = await writeReport(result);
});

function csvRows(text: string): string[][] {
  return text.trim().split('\n').map((l) => l.split(','));
}

test('every arm trains its full budget and leaves no tensors behind', () => {
  assert.deepEqual(result.arms.map((a) => a.arm.id), ['uniform', 'gamma-speech', 'gamma-env']);
  for (const a of result.arms) {
    assert.deepEqual(progressSteps[a.arm.id], Array.from({ length: stepsPerArm }, (_, i) => i + 1));
    assert.equal(a.history.length, spec.epochs);
    assert.equal(a.testReport.overall.count, spec.testMixtures);
  }
  assert.equal(tensorsAfter, tensorsBefore);
});

test('arms share data and initial weights, and differ only in their reweighting', async () => {
  const [first, ...rest] = result.arms;
  for (const a of rest) {
    assert.equal(a.fingerprint.initHash, first!.fingerprint.initHash);
    assert.equal(a.fingerprint.firstBatchHash, first!.fingerprint.firstBatchHash);
    assert.deepEqual(a.test.mixtureTypes, first!.test.mixtureTypes);
    assert.deepEqual(a.test.snrDb, first!.test.snrDb, 'the same test mixtures for every arm');
    assert.notDeepEqual(a.config.reweighting, first!.config.reweighting);
  }
  // The fingerprints are what an independent rebuild from each arm's own config gives.
  for (const a of result.arms) {
    const model = createSudoRmRf(presetModelConfig(a.config.model as Parameters<typeof presetModelConfig>[0]), a.config.seed);
    assert.equal(weightsHash(model), a.fingerprint.initHash);
    model.dispose();
    const source = await mixtureSourceFor(a.config);
    assert.equal(batchHash(source.trainBatch(0, a.config.batchSize)), a.fingerprint.firstBatchHash);
  }
  const other = createSudoRmRf(presetModelConfig(first!.config.model as Parameters<typeof presetModelConfig>[0]), first!.config.seed + 1);
  assert.notEqual(weightsHash(other), first!.fingerprint.initHash, 'the hash tells different initialisations apart');
  other.dispose();
  // Same for every experiment and scale: configs equal once name and reweighting are set aside.
  for (const experiment of EXPERIMENTS) {
    for (const scale of SCALES) {
      const p = experimentPlan(experiment, scale, { corpus: 'full', cacheDir: null }, scale === 'tune' ? '/models/base' : null);
      const strip = (arm: (typeof p.arms)[number]) => ({ ...armConfig(p, arm), name: '', reweighting: null });
      for (const arm of p.arms.slice(1)) assert.deepEqual(strip(arm), strip(p.arms[0]!), `${experiment}/${scale}/${arm.id}`);
    }
  }
});

test('report.md has the paper\'s table with a numeric row per arm, and claims that match the numbers', async () => {
  const md = await readFile(join(result.outDir, 'report.md'), 'utf8');
  const section = (heading: string) => md.slice(md.indexOf(heading), md.indexOf('\n\n', md.indexOf('|', md.indexOf(heading))));
  for (const heading of ['### All mixtures', '### Speech sources', '### Environmental-sound sources']) {
    const rows = section(heading).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Arm'));
    assert.equal(rows.length, result.arms.length, heading);
    rows.forEach((row, i) => {
      const cells = row.split('|').slice(1, -1).map((c) => c.trim());
      assert.equal(cells[0], result.arms[i]!.arm.label);
      const numbers = cells.slice(1).map(Number);
      assert.equal(numbers.length, 2 + 9 + 1, 'mean, std, 9 percentiles, n');
      assert.ok(numbers.every(Number.isFinite), row);
    });
  }
  const uniformRow = section('### Speech sources').split('\n').find((l) => l.startsWith('| uniform |'))!;
  assert.equal(Number(uniformRow.split('|')[2]), Number(result.arms[0]!.testReport.byClass.speech.mean.toFixed(2)));

  const claims = checkClaims(result);
  assert.equal(claims.length, 2);
  const [uniform, speech, env] = result.arms as [ArmResult, ArmResult, ArmResult];
  const expectSpeech = speech.testReport.byClass.speech.mean > uniform.testReport.byClass.speech.mean ? 'holds' : 'does not hold';
  const expectEnv = env.testReport.byClass.env.mean > uniform.testReport.byClass.env.mean ? 'holds' : 'does not hold';
  assert.deepEqual(claims.map((c) => c.verdict), [expectSpeech, expectEnv]);
  for (const c of claims) assert.ok(md.includes(`${c.statement}: ${c.verdict} at this scale.`));
  // Paired over the same sources, the mean difference is the difference of the class means.
  const d = pairedDiff(speech, uniform, 'speech');
  assert.equal(d.n, uniform.testReport.byClass.speech.count);
  assert.ok(Math.abs(d.mean - (speech.testReport.byClass.speech.mean - uniform.testReport.byClass.speech.mean)) < 1e-9);
  assert.ok(d.se > 0);
});

test('the class experiment is the paper\'s design: three mixture types, one class logit per mixture, checked per type', () => {
  assert.deepEqual(plan.mixtureTypes, { 'speech+env': 1, 'speech+speech': 1, 'env+env': 1 });
  const [, speech] = result.arms as [ArmResult, ArmResult, ArmResult];
  assert.equal(speech.config.reweighting.granularity, 'mixture');
  assert.ok(new Set(speech.test.mixtureTypes).size > 1, 'the test set mixes the types');
  // Per type, paired differences split the per-class one: their counts add up.
  const uniform = result.arms[0]!;
  const parts = (['speech+env', 'speech+speech'] as const).map((t) => pairedDiff(speech, uniform, 'speech', t));
  const whole = pairedDiff(speech, uniform, 'speech');
  assert.equal(parts[0]!.n + parts[1]!.n, whole.n);
  assert.ok(Math.abs((parts[0]!.mean * parts[0]!.n + parts[1]!.mean * parts[1]!.n) / whole.n - whole.mean) < 1e-9);
  assert.equal(pairedDiff(speech, uniform, 'speech', 'env+env').n, 0, 'env+env mixtures hold no speech source');
  const source = experimentPlan('class-source', 'small', { corpus: 'full', cacheDir: null });
  assert.deepEqual(source.mixtureTypes, { 'speech+env': 1 });
  assert.equal(armConfig(source, source.arms[1]!).reweighting.granularity, 'source');
});

test('an experiment from a saved model fine-tunes it in every arm at the fine-tune learning rate', () => {
  const p = experimentPlan('class', 'small', { corpus: 'full', cacheDir: null }, '/models/base');
  for (const arm of p.arms) {
    const c = armConfig(p, arm);
    assert.deepEqual(c.model, { from: '/models/base' });
    assert.equal(c.optimizer.lr, FINE_TUNE_LR);
  }
  assert.equal(armConfig(plan, plan.arms[0]!).optimizer.lr, 1e-3, 'from scratch keeps the scale\'s rate');
  assert.throws(() => experimentPlan('class', 'tune', { corpus: 'full', cacheDir: null }), /scale "tune" fine-tunes a saved model: give one with --from/);
});

test('curves.csv has a row per arm and step, with validation on the last step of each epoch; test.csv a row per arm and test mixture', async () => {
  const curves = csvRows(await readFile(join(result.outDir, 'curves.csv'), 'utf8'));
  const header = curves[0]!;
  for (const col of ['arm', 'step', 'loss', 'effective_batch_size', 'val_mean', 'val_p1', 'val_p99', 'val_speech_mean', 'val_env_mean']) assert.ok(header.includes(col), col);
  const rows = curves.slice(1);
  assert.equal(rows.length, result.arms.length * stepsPerArm);
  for (const r of rows) assert.equal(r.length, header.length);
  const col = (name: string) => header.indexOf(name);
  const validated = rows.filter((r) => r[col('val_mean')] !== '');
  assert.equal(validated.length, result.arms.length * spec.epochs);
  assert.deepEqual([...new Set(validated.map((r) => Number(r[col('step')])))], [spec.stepsPerEpoch, 2 * spec.stepsPerEpoch]);
  for (const r of rows) assert.ok(Number.isFinite(Number(r[col('loss')])) && r[col('loss')] !== '');
  const uniformFirst = rows.find((r) => r[0] === 'uniform' && r[col('step')] === String(spec.stepsPerEpoch))!;
  assert.ok(Math.abs(Number(uniformFirst[col('val_mean')]) - result.arms[0]!.history[0]!.validation.overall.mean) < 1e-4);

  const testRows = csvRows(await readFile(join(result.outDir, 'test.csv'), 'utf8'));
  const th = testRows[0]!;
  assert.deepEqual(th, ['arm', 'mixture', 'mixture_type', 'snr_db', 'class_0', 'class_1', 'si_sdri_0', 'si_sdri_1', 'si_sdri_mean']);
  assert.equal(testRows.length - 1, result.arms.length * spec.testMixtures);
  for (const r of testRows.slice(1)) {
    assert.ok(Math.abs(Number(r[8]) - (Number(r[6]) + Number(r[7])) / 2) < 1e-4);
    assert.equal(`${r[4]}+${r[5]}`, r[2], 'each source\'s class as its mixture type says');
  }
});

test('every SVG is well-formed with one curve per arm, named in the legend', async () => {
  const svgs = files.filter((f) => f.endsWith('.svg'));
  assert.ok(svgs.includes('loss.svg') && svgs.includes('validation.svg') && svgs.includes('percentiles.svg'));
  for (const name of svgs) {
    const elements = parseXml(await readFile(join(result.outDir, name), 'utf8'));
    const curves = elements.filter((e) => e.name === 'polyline' || e.name === 'path');
    assert.deepEqual(curves.map((c) => c.attrs['data-series']), result.arms.map((a) => a.arm.label), name);
    for (const c of curves) assert.match(c.attrs.points!, /^-?[\d.]+,-?[\d.]+( -?[\d.]+,-?[\d.]+)*$/);
  }
});

test('rerunning a finished experiment trains nothing and reproduces the results', async () => {
  const steps: number[] = [];
  const states: string[] = [];
  const again = await runExperiment(plan, result.outDir, { progress: (_a, p) => steps.push(p.step), armStart: (_a, info) => states.push(info.state) });
  assert.notEqual(again, 'cancelled');
  assert.deepEqual(steps, []);
  assert.deepEqual(states, ['done', 'done', 'done']);
  const r = again as ExperimentResult;
  assert.deepEqual(r.arms.map((a) => a.test.siSdri), result.arms.map((a) => a.test.siSdri));
  assert.deepEqual(r.arms.map((a) => a.steps), result.arms.map((a) => a.steps));
  await assert.rejects(
    runExperiment(experimentPlan('robust', 'smoke', { corpus: 'ci', cacheDir: TEST_AUDIO_DIR }), result.outDir),
    /holds a different experiment \(class at scale smoke/,
  );
});

test('an experiment cancelled mid-arm resumes to the same curves and test scores as an uninterrupted one', async () => {
  const out = join(workDir, 'cancelled');
  const abort = new AbortController();
  const first = await runExperiment(plan, out, {
    progress: (arm, p) => { if (arm.id === 'gamma-speech' && p.step === 2) abort.abort(); },
  }, { signal: abort.signal });
  assert.equal(first, 'cancelled');
  assert.ok(existsSync(join(out, 'arms', 'uniform', 'test.json')) && !existsSync(join(out, 'arms', 'gamma-speech', 'test.json')));
  const states: string[] = [];
  const resumed = await runExperiment(plan, out, { armStart: (_a, info) => states.push(`${info.state}@${info.step}`) }) as ExperimentResult;
  assert.deepEqual(states, ['done@6', 'resumed@2', 'fresh@0']);
  for (const [i, a] of resumed.arms.entries()) {
    const straight = result.arms[i]!;
    assert.deepEqual(a.steps.map((s) => s.step), straight.steps.map((s) => s.step), `${a.arm.id}: one log line per step`);
    // Resuming mid-epoch matches to float32 rounding, not bit for bit (Adam's beta powers are
    // recomputed on restore rather than carried over).
    a.steps.forEach((s, k) => assert.ok(Math.abs(s.loss - straight.steps[k]!.loss) < 1e-4, `${a.arm.id} step ${s.step}: ${s.loss} vs ${straight.steps[k]!.loss}`));
    a.test.siSdri.flat().forEach((v, k) => assert.ok(Math.abs(v - straight.test.siSdri.flat()[k]!) < 1e-3, `${a.arm.id} test score ${k}`));
  }
});

test('curriculum: steps to reach a target are read at validation points', () => {
  const arm = (means: number[]) => ({
    history: means.map((m, i) => ({ step: (i + 1) * 50, validation: { overall: { mean: m } } })),
  }) as unknown as ArmResult;
  const a = arm([1, 3, 5, 6]);
  assert.equal(stepsToReach(a, 2.9), 100);
  assert.equal(stepsToReach(a, 3), 100);
  assert.equal(stepsToReach(a, 0.5), 50);
  assert.equal(stepsToReach(a, 6.5), null);
});
