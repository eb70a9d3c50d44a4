// The one-class check: leaks of systems whose stems are known fractions of the input, the summary on
// hand-made numbers, and the inputs built from real CI test clips with one source left out.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { MixerBatch } from '../../../core/data/mixer';
import {
  evaluateOneClass, LEAK_FLOOR, leakDb, leakScores, ONE_CLASS_HEADER, oneClassRows, oneClassSets, summarizeKind, summarizeLeaks,
} from '../../../core/evaluation/oneClass';
import type { OneClassOptions } from '../../../core/evaluation/oneClass';
import { MIXTURE_SYSTEM } from '../../../core/evaluation/systems';
import type { SeparationSystem } from '../../../core/evaluation/systems';
import { parseTrainConfig } from '../../../core/train/config';
import type { HeldOutSet } from '../../../core/train/heldout';
import { SOUND_CLASSES } from '../../../core/types';
import type { SoundClass } from '../../../core/types';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';

const CI_PACKAGES = { speech: ['asterisk-core-sounds-en-wav'], env: ['minetest-data', 'scratch'] };
const COUNT = 6;

// 1 s crops of the CI test split. The data asks for speech+speech mixtures: the check draws speech+env all the same.
const data = parseTrainConfig({ data: { corpus: 'ci', cacheDir: TEST_AUDIO_DIR, segmentSeconds: 1, mixtureTypes: { 'speech+speech': 1 } } }).data;
const options = (seed = 7): OneClassOptions => ({ data, split: 'test', count: COUNT, seed, batchSize: 4 });
let sets: Record<SoundClass, HeldOutSet>;

before(async () => {
  await ensureTestAudio();
  sets = await oneClassSets(options());
});

function rows(set: HeldOutSet): { input: Float32Array; sources: Float32Array[]; clipIds: string[] }[] {
  return set.batches.flatMap((b) => Array.from({ length: b.batch }, (_, i) => ({
    input: b.mixture.subarray(i * b.time, (i + 1) * b.time),
    sources: [0, 1].map((s) => b.sources.subarray((i * 2 + s) * b.time, (i * 2 + s + 1) * b.time)),
    clipIds: b.clipIds[i]!,
  })));
}

test('the inputs hold one class: the absent source is all zeros, the input is the other source, the same for a seed', async () => {
  for (const absent of SOUND_CLASSES) {
    const set = sets[absent];
    assert.deepEqual(set.batches.map((b) => b.batch), [4, 2]);
    const missing = absent === 'speech' ? 0 : 1;
    for (const [i, r] of rows(set).entries()) {
      assert.ok(r.sources[missing]!.every((v) => v === 0), `input ${i} without ${absent}: that source is silent`);
      assert.deepEqual(r.input, r.sources[1 - missing], `input ${i} without ${absent} is the other source`);
      assert.ok(r.input.some((v) => v !== 0));
      const pkg = set.packageOf.get(r.clipIds[1 - missing]!)!;
      assert.ok(CI_PACKAGES[absent === 'speech' ? 'env' : 'speech'].includes(pkg), pkg);
    }
    assert.ok(set.batches.every((b) => b.mixtureTypes.every((t) => t === 'speech+env')));
    const again = (await oneClassSets(options()))[absent];
    assert.deepEqual(again.batches.map((b) => b.mixture), set.batches.map((b) => b.mixture));
    const other = (await oneClassSets(options(8)))[absent];
    assert.notDeepEqual(other.batches.map((b) => b.mixture), set.batches.map((b) => b.mixture));
  }
  // Both kinds come from the same draws: input i of one holds the clip that input i of the other lacks.
  assert.deepEqual(rows(sets.speech).map((r) => r.clipIds), rows(sets.env).map((r) => r.clipIds));
});

const scaled = (speech: number, env: number): SeparationSystem => ({
  name: `speech ${speech}, env ${env}`,
  separate: async (m) => ({ speech: m.map((v) => speech * v), env: m.map((v) => env * v) }),
});

test('leak: the mixture baseline leaks 0 dB, a silent stem the -60 dB floor, a tenth of the input -20 dB', async () => {
  for (const absent of SOUND_CLASSES) {
    const leaks = await leakScores([MIXTURE_SYSTEM, scaled(0, 0), scaled(0.1, 0.1)], sets[absent], absent);
    assert.deepEqual(leaks.map((l) => l.length), [COUNT, COUNT, COUNT]);
    assert.ok(leaks[0]!.every((l) => l.leakDb === 0), `mixture: ${leaks[0]!.map((l) => l.leakDb)}`);
    assert.ok(leaks[1]!.every((l) => l.leakDb === 10 * Math.log10(LEAK_FLOOR) && Math.abs(l.leakDb + 60) < 1e-12));
    assert.ok(leaks[2]!.every((l) => Math.abs(l.leakDb + 20) < 1e-4), `0.1 x input: ${leaks[2]!.map((l) => l.leakDb)}`);
  }
  // Only the stem of the absent class counts: a system that hands the whole input to the present one does not leak.
  const [speechOnly] = await leakScores([scaled(1, 0)], sets.speech, 'speech');
  const [envOnly] = await leakScores([scaled(1, 0)], sets.env, 'env');
  assert.ok(speechOnly!.every((l) => l.leakDb === 0) && envOnly!.every((l) => l.leakDb === -60));
  assert.throws(() => leakDb(new Float32Array(4), new Float32Array(4)), /the input is silent/);
});

test('the summary: mean, median, p95 (the worst 5 %) and the share above -10 dB', () => {
  // -40, -38, ..., 0: median -20, p95 at 19 of 20 steps = -2; above -10 dB: -8, -6, -4, -2, 0.
  const s = summarizeLeaks(Array.from({ length: 21 }, (_, i) => -40 + 2 * i));
  assert.deepEqual(s, { count: 21, mean: -20, median: -20, p95: -2, leaking: 5 / 21 });
  // -10 dB itself is not above the threshold.
  const t = summarizeLeaks([-60, -10, -60, -9.5]);
  assert.deepEqual([t.count, t.mean, t.median, t.leaking], [4, -34.875, -35, 0.25]);
  assert.ok(Math.abs(t.p95 - -9.575) < 1e-12, `p95 ${t.p95}`);
  const kind = summarizeKind([
    { leakDb: -30, package: 'water' }, { leakDb: -5, package: 'bangs' }, { leakDb: -20, package: 'water' }, { leakDb: 0, package: 'bangs' },
  ]);
  assert.deepEqual(Object.keys(kind.byPackage), ['bangs', 'water']);
  assert.deepEqual([kind.overall.count, kind.overall.mean, kind.overall.leaking], [4, -13.75, 0.5]);
  assert.deepEqual([kind.byPackage.bangs!.mean, kind.byPackage.bangs!.leaking, kind.byPackage.water!.median, kind.byPackage.water!.leaking], [-2.5, 1, -25, 0]);
});

test('evaluateOneClass reports every system on both kinds, overall and per package, in one table', async () => {
  const fractions: number[] = [];
  const reports = await evaluateOneClass([scaled(0.1, 0.1), MIXTURE_SYSTEM], sets, (f) => fractions.push(f));
  assert.equal(fractions.length, 2 * 2 * COUNT);
  assert.equal(fractions.at(-1), 1);
  assert.deepEqual(reports.map((r) => r.system), ['speech 0.1, env 0.1', 'mixture']);
  for (const c of SOUND_CLASSES) {
    const [tenth, mixture] = reports.map((r) => r.byAbsent[c]!);
    assert.equal(tenth!.overall.count, COUNT);
    assert.ok(Math.abs(tenth!.overall.mean + 20) < 1e-4 && tenth!.overall.leaking === 0);
    assert.deepEqual([mixture!.overall.mean, mixture!.overall.p95, mixture!.overall.leaking], [0, 0, 1]);
    const present = c === 'speech' ? 'env' : 'speech';
    assert.ok(Object.keys(mixture!.byPackage).every((p) => CI_PACKAGES[present].includes(p)), Object.keys(mixture!.byPackage).join());
    assert.equal(Object.values(mixture!.byPackage).reduce((n, s) => n + s.count, 0), COUNT);
  }
  const table = oneClassRows(reports);
  assert.equal(ONE_CLASS_HEADER.length, table[0]!.length);
  assert.deepEqual(table.slice(0, 2), [
    ['no speech (env only)', 'speech 0.1, env 0.1', COUNT, reports[0]!.byAbsent.speech!.overall.mean, reports[0]!.byAbsent.speech!.overall.median, reports[0]!.byAbsent.speech!.overall.p95, '0%'],
    ['no speech (env only)', 'mixture', COUNT, 0, 0, 0, '100%'],
  ]);
  assert.ok(table.some((r) => r[0] === 'no env (speech only): asterisk-core-sounds-en-wav' && r[1] === 'mixture'));
});

test('a mixture that still holds the absent class is refused', async () => {
  const time = 8;
  const batch: MixerBatch = {
    batch: 1, nSrc: 2, time, mixture: new Float32Array(time).fill(2), sources: new Float32Array(2 * time).fill(1),
    classes: [['speech', 'env']], labels: [['a', 'b']], mixtureTypes: ['speech+env'], snrDb: [0], clipIds: [['/v.wav', '/e.ogg']],
  };
  await assert.rejects(leakScores([MIXTURE_SYSTEM], { batches: [batch], packageOf: new Map() }, 'speech'), /not a speech\+env mixture without speech/);
});
