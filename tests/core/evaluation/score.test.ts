// Scoring by stem name: constructed stems whose SI-SDRi is known in closed form, swap counting, and
// the per-class / per-package / per-SNR breakdown of the held-out report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MixerBatch } from '../../../core/data/mixer';
import { comparisonMarkdown, comparisonRows, snrBands, summarizeSystem } from '../../../core/evaluation/report';
import { evaluateSystems } from '../../../core/evaluation/run';
import { scoreMixture, windowSwaps, type MixtureScore, type NamedStems } from '../../../core/evaluation/score';
import { MIXTURE_SYSTEM, stemOutputs, type SeparationSystem } from '../../../core/evaluation/systems';
import type { MixtureType, SoundClass } from '../../../core/types';

const N = 4000;

/** A sine with a whole number of periods in N samples: zero mean, orthogonal to other such sines. */
function sine(periods: number, amplitude: number): Float32Array {
  return Float32Array.from({ length: N }, (_, n) => amplitude * Math.sin((2 * Math.PI * periods * n) / N));
}

function add(a: Float32Array, b: Float32Array, gb = 1): Float32Array {
  return a.map((v, i) => v + gb * b[i]!);
}

/** SI-SDR straight from its definition, in Float64, for checking the scorer against. */
function referenceSiSdr(est: Float32Array, ref: Float32Array): number {
  const mean = (x: Float32Array) => x.reduce((a, b) => a + b, 0) / x.length;
  const me = mean(est);
  const mr = mean(ref);
  let dot = 0;
  let rr = 0;
  for (let i = 0; i < N; i++) {
    dot += (est[i]! - me) * (ref[i]! - mr);
    rr += (ref[i]! - mr) ** 2;
  }
  let target = 0;
  let noise = 0;
  for (let i = 0; i < N; i++) {
    const t = (dot / rr) * (ref[i]! - mr);
    target += t * t;
    noise += (t - (est[i]! - me)) ** 2;
  }
  return 10 * Math.log10(target / noise);
}

const speech = sine(7, 0.3);
const env = sine(31, 0.1);
const mixture = add(speech, env);
const info = { type: 'speech+env' as MixtureType, snrDb: 20 * Math.log10(3), classes: ['speech', 'env'] as SoundClass[], packages: ['voices', 'bangs'] };

test('each source is scored against the stem of its name, with the SI-SDRi its leakage gives', () => {
  // speech stem = speech + 0.1 env, env stem = env + 0.5 speech: with orthogonal sources the SI-SDRi
  // is -20 log10(leak) whatever their levels, 20 dB and 6.02 dB.
  const stems: NamedStems = { speech: add(speech, env, 0.1), env: add(env, speech, 0.5) };
  const s = scoreMixture(stems, [speech, env], mixture, info);
  assert.equal(s.swapped, false);
  assert.ok(Math.abs(s.siSdri[0]! - 20) < 1e-3, `speech ${s.siSdri[0]}`);
  assert.ok(Math.abs(s.siSdri[1]! - -20 * Math.log10(0.5)) < 1e-3, `env ${s.siSdri[1]}`);
  assert.ok(Math.abs(s.siSdri[0]! - (referenceSiSdr(stems.speech, speech) - referenceSiSdr(mixture, speech))) < 1e-6);
  assert.ok(Math.abs(s.siSdri[1]! - (referenceSiSdr(stems.env, env) - referenceSiSdr(mixture, env))) < 1e-6);
  assert.deepEqual(s.pitSiSdri, s.siSdri);
  assert.deepEqual([s.snrDb, s.classes, s.packages], [info.snrDb, info.classes, info.packages]);
});

test('stems with the names the wrong way round score negative by name, positive by permutation, and count as a swap', () => {
  const stems: NamedStems = { speech: add(env, speech, 0.5), env: add(speech, env, 0.1) };
  const s = scoreMixture(stems, [speech, env], mixture, info);
  assert.equal(s.swapped, true);
  // speech stem = env + 0.5 speech against speech: 20 log10(0.5) = -6.02 dB; env stem against env: -20 dB.
  assert.ok(Math.abs(s.siSdri[0]! - 20 * Math.log10(0.5)) < 1e-3, `speech ${s.siSdri[0]}`);
  assert.ok(Math.abs(s.siSdri[1]! - -20) < 1e-3, `env ${s.siSdri[1]}`);
  assert.ok(Math.abs(s.pitSiSdri[0]! - 20) < 1e-3 && Math.abs(s.pitSiSdri[1]! - 6.0206) < 1e-3, `pit ${s.pitSiSdri}`);
});

test('the mixture as both stems improves nothing and swaps nothing; one-class mixtures take the best permutation', async () => {
  const { speech: a, env: b } = await MIXTURE_SYSTEM.separate(mixture);
  const s = scoreMixture({ speech: a, env: b }, [speech, env], mixture, info);
  assert.deepEqual(s.siSdri, [0, 0]);
  assert.deepEqual(s.pitSiSdri, [0, 0]);
  assert.equal(s.swapped, false);

  const other = sine(13, 0.2);
  const two = add(speech, other);
  const same = scoreMixture({ speech: add(other, speech, 0.1), env: add(speech, other, 0.1) }, [speech, other], two, {
    ...info, type: 'speech+speech', classes: ['speech', 'speech'],
  });
  assert.equal(same.swapped, false);
  assert.deepEqual(same.siSdri, same.pitSiSdri);
  assert.ok(same.siSdri.every((v) => Math.abs(v - 20) < 1e-3), `${same.siSdri}`);
});

test("a model's stems are taken by the names in its metadata, in output order when it has none", () => {
  assert.deepEqual(stemOutputs(2, ['env', 'speech']), { speech: 1, env: 0 });
  assert.deepEqual(stemOutputs(2, ['speech', 'env']), { speech: 0, env: 1 });
  assert.deepEqual(stemOutputs(2, undefined), { speech: 0, env: 1 });
  assert.deepEqual(stemOutputs(2, null), { speech: 0, env: 1 });
  assert.throws(() => stemOutputs(2, ['vocals', 'drums']), /needs stems named speech and env; the model names them \["vocals","drums"\]/);
  assert.throws(() => stemOutputs(3, ['speech', 'env', 'music']), /needs a 2-stem model; this one has 3/);
  // Names that are not a list of names are refused as separation refuses them (core/separate/stems).
  assert.throws(() => stemOutputs(2, 'speech'), /the model's metadata\.stems must be a list of names \(got "speech"\)/);
  assert.throws(() => stemOutputs(2, ['speech', 3]), /must be a list of names/);
});

test('SNR bands cut the drawn range at -2 and 2 dB, the last one closed', () => {
  assert.deepEqual(snrBands([-5, 5]).map((b) => b.label), ['[-5, -2)', '[-2, 2)', '[2, 5]']);
  assert.deepEqual(snrBands([0, 5]).map((b) => b.label), ['[0, 2)', '[2, 5]']);
  assert.deepEqual(snrBands([3, 3]).map((b) => b.label), ['[3, 3]']);
});

function score(snrDb: number, packages: string[], siSdri: number[], swapped = false, type: MixtureType = 'speech+env'): MixtureScore {
  const classes: SoundClass[] = type === 'speech+env' ? ['speech', 'env'] : type === 'env+env' ? ['env', 'env'] : ['speech', 'speech'];
  return { type, snrDb, classes, packages, siSdri, pitSiSdri: swapped ? [...siSdri].reverse().map((v) => -v) : siSdri, swapped };
}

test('the report breaks the scores down by class, package, SNR band and mixture type, and counts swaps', () => {
  const scores = [
    score(-5, ['voices', 'bangs'], [2, 4]),
    score(-2, ['voices', 'water'], [6, 8]),
    score(1.9, ['voices', 'bangs'], [-10, -6], true),
    score(2, ['talk', 'water'], [10, 20]),
    score(5, ['talk', 'bangs'], [12, 14]),
    score(0, ['bangs', 'water'], [3, 5], false, 'env+env'),
  ];
  const r = summarizeSystem('x', scores, snrBands([-5, 5]));
  assert.equal(r.system, 'x');
  assert.equal(r.overall.count, 6);
  assert.equal(r.overall.mean, (3 + 7 - 8 + 15 + 13 + 4) / 6);
  assert.deepEqual([r.byClass.speech.count, r.byClass.speech.mean], [5, (2 + 6 - 10 + 10 + 12) / 5]);
  assert.deepEqual([r.byClass.env.count, r.byClass.env.mean], [7, (4 + 8 - 6 + 20 + 14 + 3 + 5) / 7]);
  assert.deepEqual(Object.keys(r.byPackage), ['bangs', 'talk', 'voices', 'water']);
  assert.deepEqual([r.byPackage.voices!.count, r.byPackage.voices!.mean], [3, (2 + 6 - 10) / 3]);
  assert.deepEqual([r.byPackage.bangs!.count, r.byPackage.bangs!.mean], [4, (4 - 6 + 14 + 3) / 4]);
  assert.deepEqual([r.byPackage.water!.count, r.byPackage.water!.mean], [3, (8 + 20 + 5) / 3]);
  // -2 opens the middle band, 2 opens the top one, 5 closes it.
  assert.deepEqual(Object.keys(r.bySnr), ['[-5, -2)', '[-2, 2)', '[2, 5]']);
  assert.deepEqual(Object.values(r.bySnr).map((s) => s.count), [1, 3, 2]);
  assert.deepEqual(Object.values(r.bySnr).map((s) => s.mean), [3, (7 - 8 + 4) / 3, 14]);
  assert.deepEqual(Object.keys(r.byMixtureType), ['speech+env', 'env+env']);
  assert.equal(r.byMixtureType['speech+env']!.count, 5);
  // Only the five speech+env mixtures can be swapped.
  assert.deepEqual(r.swaps, { count: 1, of: 5 });
  assert.equal(r.pit.overall.mean, (3 + 7 + 8 + 15 + 13 + 4) / 6);

  const rows = comparisonRows([r, summarizeSystem('y', scores.slice(0, 2), snrBands([-5, 5]))]);
  const labels = rows.map((row) => `${row[0]}/${row[1]}`);
  assert.deepEqual(labels.slice(0, 4), ['all mixtures/x', 'all mixtures/y', 'all mixtures, best permutation/x', 'all mixtures, best permutation/y']);
  assert.ok(labels.includes('speech+env/x') && labels.includes('SNR [2, 5] dB/x') && labels.includes('water/y'));
  const md = comparisonMarkdown([r]);
  assert.match(md, /^\| SI-SDRi \(dB\) \| system \| n \| mean \| std \| p1 \|/);
  assert.match(md, /\n\| all mixtures \| x \| 6 \| 5\.67 \| /);
  assert.match(md, /Stem swaps .*: x 1 of 5\.$/);
});

test('evaluateSystems scores every system on the same mixtures, sources mapped to their packages', async () => {
  const time = N;
  const mixtures = 3;
  const refs = [[speech, env], [sine(11, 0.2), sine(40, 0.2)], [sine(5, 0.1), sine(23, 0.4)]];
  const batch: MixerBatch = {
    batch: mixtures, nSrc: 2, time,
    mixture: new Float32Array(mixtures * time), sources: new Float32Array(mixtures * 2 * time),
    classes: refs.map(() => ['speech', 'env']), labels: refs.map(() => ['a', 'b']), mixtureTypes: refs.map(() => 'speech+env'),
    snrDb: [-4, 0, 4], clipIds: [['/v/1.wav', '/e/1.ogg'], ['/v/2.wav', '/e/2.ogg'], ['/v/3.wav', '/elsewhere.ogg']],
  };
  refs.forEach(([s, e], i) => {
    batch.sources.set(s!, 2 * i * time);
    batch.sources.set(e!, (2 * i + 1) * time);
    batch.mixture.set(add(s!, e!), i * time);
  });
  // Knows the answer (by where the mixture sits in the batch) and leaks 10% of the other source;
  // it names the second mixture's stems the wrong way round.
  const oracle: SeparationSystem = {
    name: 'oracle',
    async separate(m) {
      const i = m.byteOffset / 4 / time;
      const [s, e] = refs[i]!;
      const stems = { speech: add(s!, e!, 0.1), env: add(e!, s!, 0.1) };
      return i === 1 ? { speech: stems.env, env: stems.speech } : stems;
    },
  };
  const packageOf = new Map([['/v/1.wav', 'voices'], ['/v/2.wav', 'voices'], ['/v/3.wav', 'voices'], ['/e/1.ogg', 'fx'], ['/e/2.ogg', 'fx']]);
  const fractions: number[] = [];
  const [o, m] = await evaluateSystems([oracle, MIXTURE_SYSTEM], { batches: [batch], packageOf }, { snrRange: [-5, 5], onProgress: (f) => fractions.push(f) });
  assert.deepEqual(fractions, [1, 2, 3, 4, 5, 6].map((k) => k / 6));
  assert.deepEqual([o!.system, m!.system], ['oracle', 'mixture']);
  assert.deepEqual(o!.swaps, { count: 1, of: 3 });
  assert.deepEqual(m!.swaps, { count: 0, of: 3 });
  assert.equal(m!.overall.mean, 0);
  assert.equal(m!.overall.std, 0);
  // Orthogonal sources: 20 dB per source when named right, and the PIT figure is 20 dB throughout.
  assert.ok(Math.abs(o!.pit.overall.mean - 20) < 1e-3 && o!.pit.overall.std < 1e-3, `pit ${o!.pit.overall.mean}`);
  assert.ok(o!.byClass.speech.p[99]! - 20 < 1e-3 && o!.byClass.speech.p[1]! < 0, 'the swapped mixture scores below zero by name');
  assert.deepEqual(Object.fromEntries(Object.entries(o!.byPackage).map(([p, s]) => [p, s.count])), { fx: 2, unknown: 1, voices: 3 });
  assert.deepEqual(Object.values(o!.bySnr).map((s) => s.count), [1, 1, 1]);
});

test('window swaps: stems exchanged in part of a long mixture are counted window by window, windows where a source is not heard left out', () => {
  const W = 1000;
  const speech = sine(37, 1);
  const env = sine(211, 0.8);
  env.fill(0, 3 * W, 4 * W); // the fourth window holds speech only
  const mixture = add(speech, env);
  const references = [speech, env];
  // Right names in windows 0 and 1, exchanged in windows 2 and 3.
  const named = { speech: Float32Array.from(speech), env: Float32Array.from(env) };
  named.speech.set(env.subarray(2 * W), 2 * W);
  named.env.set(speech.subarray(2 * W), 2 * W);
  assert.deepEqual(windowSwaps({ speech, env }, references, mixture, ['speech', 'env'], W), { swapped: 0, of: 3 });
  assert.deepEqual(windowSwaps(named, references, mixture, ['speech', 'env'], W), { swapped: 1, of: 3 });
  // The whole-file score still calls it no swap: the right half outweighs.
  assert.equal(scoreMixture(named, references, mixture, { type: 'speech+env', snrDb: 0, classes: ['speech', 'env'], packages: ['a', 'b'] }).swapped, false);
  // The last, shorter window is dropped.
  assert.deepEqual(windowSwaps({ speech, env }, references, mixture, ['speech', 'env'], 1500), { swapped: 0, of: 2 });
  assert.throws(() => windowSwaps({ speech, env }, references, mixture, ['speech', 'speech'], W), /two classes/);
  assert.throws(() => windowSwaps({ speech, env }, references, mixture, ['speech', 'env'], 0), /window of 0 samples/);
});

test('window swaps add up over a report\'s mixtures, and the markdown says so', async () => {
  const speech = sine(37, 1);
  const env = sine(211, 0.8);
  const mixture = add(speech, env);
  const exchanged: SeparationSystem = { name: 'exchanged', separate: async () => ({ speech: env, env: speech }) };
  const batch: MixerBatch = {
    batch: 2, nSrc: 2, time: N, mixture: Float32Array.from([...mixture, ...mixture]), sources: Float32Array.from([...speech, ...env, ...speech, ...env]),
    classes: [['speech', 'env'], ['speech', 'env']], labels: [['a', 'b'], ['a', 'b']], mixtureTypes: ['speech+env', 'speech+env'], snrDb: [1.9, 1.9], clipIds: [['s', 'e'], ['s', 'e']],
  };
  const set = { batches: [batch], packageOf: new Map([['s', 'voices'], ['e', 'sounds']]) };
  const [right, wrong] = await evaluateSystems([MIXTURE_SYSTEM, exchanged], set, { snrRange: [-5, 5], swapWindow: 1000 });
  assert.deepEqual(wrong!.windowSwaps, { swapped: 8, of: 8 });
  // The mixture as both stems fits neither way better: no swap.
  assert.deepEqual(right!.windowSwaps, { swapped: 0, of: 8 });
  assert.match(comparisonMarkdown([right!, wrong!]), /Windows swapped \(of the windows where both sources are heard\): mixture 0 of 8, exchanged 8 of 8\./);
  const plain = await evaluateSystems([MIXTURE_SYSTEM], set, { snrRange: [-5, 5] });
  assert.equal(plain[0]!.windowSwaps, undefined);
  assert.doesNotMatch(comparisonMarkdown(plain), /Windows swapped/);
});
