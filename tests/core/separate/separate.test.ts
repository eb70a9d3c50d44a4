import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import type { Tensor2D, Tensor3D, Variable } from '../../../core/tf';
import type { Separator } from '../../../core/models/types';
import { agreementDb, matchGains, separateSignal, SeparationAbortedError, type WindowBlend } from '../../../core/separate/separate';
import { autoBlendShare, RNNOISE_AUTO } from '../../../core/separate/defaults';
import { rnnoiseDenoise, rnnoiseGain, RnnoiseReader } from '../../../core/dsp/rnnoise';
import { seededRandom } from '../../../core/models/init';
import { createSudoRmRf } from '../../../core/models/sudormrf';
import { BandSplitSeparator, SwappingSeparator, MemoryProbe, longSpeech, maxAbs, maxAbsDiff, snrDb } from './fixtures';

const RATE = 8000;
let speech20: Float32Array;

before(async () => {
  await initBackend('wasm');
  speech20 = longSpeech(20);
});

/** The model on the whole signal in one call, with the same normalisation and consistency as separateSignal. */
function singlePass(model: Separator, x: Float32Array, consistency = true): Float32Array[] {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  let sq = 0;
  for (const v of x) sq += (v - mean) ** 2;
  const std = Math.sqrt(sq / x.length);
  const y = tf.tidy(() => model.apply(tf.tensor2d(x.map((v) => (v - mean) / std), [1, x.length])));
  const data = y.dataSync() as Float32Array;
  y.dispose();
  const n = model.nSources;
  const stems = Array.from({ length: n }, (_, s) => data.slice(s * x.length, (s + 1) * x.length).map((v) => v * std + mean / n));
  if (consistency) {
    for (let t = 0; t < x.length; t++) {
      const share = (x[t]! - stems.reduce((a, s) => a + s[t]!, 0)) / n;
      for (const s of stems) s[t]! += share;
    }
  }
  return stems;
}

function sumOf(stems: Float32Array[]): Float32Array {
  const out = new Float32Array(stems[0]!.length);
  for (const s of stems) for (let t = 0; t < out.length; t++) out[t]! += s[t]!;
  return out;
}

test('overlap-add reproduces the single-pass output of a time-invariant separator to numerical precision', async () => {
  const model = new BandSplitSeparator();
  const ref = singlePass(model, speech20);
  const peak = maxAbs(speech20);
  // 2 s windows every 1.25 s: 16 chunks, batches of 3 and a partial last batch, last chunk shifted to the end.
  const stems = await separateSignal(model, speech20, { windowSec: 2, batchSize: 3 });
  assert.equal(model.calls, 1 + Math.ceil(16 / 3));
  assert.equal(stems.length, 2);
  for (let s = 0; s < 2; s++) {
    assert.equal(stems[s]!.length, speech20.length);
    assert.ok(maxAbsDiff(stems[s]!, ref[s]!) < 1e-5 * peak, `stem ${s}: max diff ${maxAbsDiff(stems[s]!, ref[s]!)}`);
  }
  // Default settings (8 s windows, 6 s hops) and a hop that is not a divisor of the length.
  // A margin that leaves 0.2 s of each 2 s window: the default hop still fits a cross-fade in it (0.1 s).
  for (const opts of [{}, { windowSec: 3, hopSec: 1.7, marginSec: 0.1, batchSize: 1 }, { windowSec: 2, marginSec: 0.9, batchSize: 8 }]) {
    const out = await separateSignal(model, speech20, opts);
    for (let s = 0; s < 2; s++) assert.ok(maxAbsDiff(out[s]!, ref[s]!) < 1e-5 * peak, JSON.stringify(opts));
  }
  // On wasm the default is one chunk per call (batching there only costs memory): 20 s in 8 s windows
  // with 6 s hops (0.5 s margins and a 1 s cross-fade) is 3 chunks, starting at 0, 6 and 12 s.
  const callsBefore = model.calls;
  await separateSignal(model, speech20);
  assert.equal(model.calls - callsBefore, 3);
  // The low band really is a different signal from the high band (the check above is not trivial).
  assert.ok(snrDb(ref[0]!, ref[1]!) < 0, 'bands differ');
  model.dispose();
});

test('with margins smaller than the receptive field the chunk seams show, so the margin is what makes it exact', async () => {
  const model = new BandSplitSeparator(257, 300);
  const ref = singlePass(model, speech20);
  // Hop = window with no margin: chunks meet edge to edge, each cut where the filter lacks context.
  const stems = await separateSignal(model, speech20, { windowSec: 2, hopSec: 2, marginSec: 0 });
  assert.ok(maxAbsDiff(stems[0]!, ref[0]!) > 1e-3 * maxAbs(speech20), `seam error ${maxAbsDiff(stems[0]!, ref[0]!)}`);
  const exact = await separateSignal(model, speech20, { windowSec: 2, hopSec: 1.9, marginSec: 0.05 });
  assert.ok(maxAbsDiff(exact[0]!, ref[0]!) < 1e-5 * maxAbs(speech20), 'exact with a margin');
  model.dispose();
});

test('stems sum to the mixture with mixture consistency on (the default) and not with it off', async () => {
  // Gains that lose 60% of the low band and add 30% to the high band.
  const model = new BandSplitSeparator(65, 1000, [0.4, 1.3]);
  const x = speech20;
  const on = await separateSignal(model, x, { windowSec: 2, matchGains: false });
  assert.ok(maxAbsDiff(sumOf(on), x) < 1e-6 * maxAbs(x) + 1e-7, 'consistent stems sum to the mixture');
  const off = await separateSignal(model, x, { windowSec: 2, mixtureConsistency: false, matchGains: false });
  assert.ok(maxAbsDiff(sumOf(off), x) > 0.1 * maxAbs(x), 'inconsistent stems do not');
  // The projection adds the same share of the residual to every stem.
  const ref = singlePass(model, x, false);
  for (let s = 0; s < 2; s++) assert.ok(maxAbsDiff(off[s]!, ref[s]!) < 1e-5 * maxAbs(x), 'matches single pass');
  for (let t = 0; t < x.length; t += 997) {
    const share = (x[t]! - off[0]![t]! - off[1]![t]!) / 2;
    for (let s = 0; s < 2; s++) assert.ok(Math.abs(on[s]![t]! - (off[s]![t]! + share)) < 1e-6, 'equal residual shares');
  }
  model.dispose();
});

test('the RNNoise blend moves the speech stem toward RNNoise\'s estimate by its weight, into the slot named, and the stems still add up', async () => {
  const model = Object.assign(new BandSplitSeparator(65, 1000), { fixedSlots: true });
  const x = speech20.subarray(0, 12 * RATE);
  const sep = (weight: number, speechSlot = 0) => separateSignal(model, x, { windowSec: 4, denoiserBlend: { weight, speechSlot } });
  const [plain, off, half, full, fullInSlot1] = [await separateSignal(model, x, { windowSec: 4 }), await sep(0), await sep(0.5), await sep(1), await sep(1, 1)];
  assert.deepEqual(off, plain, 'weight 0 is no blend');
  for (const stems of [half, full, fullInSlot1]) assert.ok(maxAbsDiff(sumOf(stems), x) < 1e-6 * maxAbs(x) + 1e-7, 'the stems add up to the mixture');
  // Linear in the weight: half way between the model's stems and RNNoise's.
  for (let s = 0; s < 2; s++) {
    const mid = off[s]!.map((v, t) => 0.5 * v + 0.5 * full[s]![t]!);
    assert.ok(maxAbsDiff(half[s]!, mid) < 1e-5 * maxAbs(x), `stem ${s} at weight 0.5`);
  }
  // At weight 1 the speech stem is RNNoise's, whichever slot holds speech; real speech alone passes through it.
  assert.ok(maxAbsDiff(full[0]!, fullInSlot1[1]!) < 1e-5 * maxAbs(x));
  assert.ok(maxAbsDiff(full[0]!, off[0]!) > 0.1 * maxAbs(x), 'not the model\'s low band');
  assert.ok(snrDb(x, full[0]!) > 10, `RNNoise keeps clean speech: ${snrDb(x, full[0]!).toFixed(1)} dB`);

  await assert.rejects(sep(1.5), /weight must be between 0 and 1 or 'auto'/);
  await assert.rejects(sep(0.5, 2), /speechSlot must be 0 or 1/);
  const free = new BandSplitSeparator(65, 1000);
  await assert.rejects(separateSignal(free, x, { denoiserBlend: { weight: 0.5, speechSlot: 0 } }), /needs a model whose speech and env stems have fixed slots/);
  free.dispose();
  model.dispose();
});

test('with the blend on, RNNoise runs once over the whole file: at weight 1 the speech stem is its one-pass estimate across window seams', async () => {
  const model = Object.assign(new BandSplitSeparator(65, 1000), { fixedSlots: true });
  const x = speech20.subarray(0, 12 * RATE);
  // 4 s windows every 2.5 s; no normalisation or projection, so the speech stem is what the blend made of each window.
  const [speechStem] = await separateSignal(model, x, { windowSec: 4, normalize: false, mixtureConsistency: false, denoiserBlend: { weight: 1, speechSlot: 0 } });
  assert.ok(maxAbsDiff(speechStem!, await rnnoiseDenoise(x)) < 1e-5 * maxAbs(x));

  // Each window reports its agreement, the share it gave RNNoise, and the speech energy of the part of the file it stands for.
  const windows: WindowBlend[] = [];
  const [autoSpeech] = await separateSignal(model, x, {
    windowSec: 4, normalize: false, mixtureConsistency: false, denoiserBlend: { weight: 'auto', speechSlot: 0 }, onWindowBlend: (w) => windows.push(w),
  });
  assert.equal(windows.length, 5, '12 s in 4 s windows every 2.5 s, the last moved back to end with the file');
  for (const w of windows) assert.equal(w.share, autoBlendShare(w.agreementDb));
  const reported = windows.reduce((a, w) => a + w.speechEnergy, 0);
  const stem = autoSpeech!.reduce((a, v) => a + v * v, 0);
  assert.ok(Math.abs(reported / stem - 1) < 0.05, `the windows' parts cover the file once: ${reported} against ${stem}`);
  model.dispose();
});

test('agreementDb is the estimate\'s energy over its distance from the other, in dB', () => {
  const estimate = Float32Array.from({ length: 800 }, (_, t) => Math.sin(t / 7));
  const apart = (ratio: number) => estimate.map((v) => v + ratio * v);
  assert.ok(Math.abs(agreementDb(estimate, apart(0.1)) - 20) < 1e-3, '10 % off: 20 dB');
  assert.ok(Math.abs(agreementDb(estimate, apart(1)) - 0) < 1e-3, 'as far apart as the estimate is loud: 0 dB');
  assert.ok(agreementDb(estimate, estimate) > 100, 'identical');
});

test('the automatic blend share falls from RNNOISE_AUTO.maxShare where the estimates disagree to 0 where they agree', () => {
  const { maxShare, agreementDb: centre, widthDb } = RNNOISE_AUTO;
  assert.equal(autoBlendShare(centre), maxShare / 2);
  assert.ok(Math.abs(autoBlendShare(-20) - maxShare) < 1e-6, 'far apart: the most RNNoise');
  assert.ok(autoBlendShare(centre + 10 * widthDb) < 1e-4 * maxShare, 'close: the model alone');
  for (let db = -10; db < 30; db++) assert.ok(autoBlendShare(db + 1) < autoBlendShare(db), `falling at ${db} dB`);
});

test('the automatic blend moves a window\'s speech stem toward RNNoise\'s by the share its agreement gives, and all the way where RNNoise hears no voice', async () => {
  const model = Object.assign(new BandSplitSeparator(65, 1000), { fixedSlots: true });
  // One window, no normalisation or projection: the stems the blend sees are the ones returned.
  const x = speech20.subarray(0, 4 * RATE);
  const opts = { windowSec: 4, normalize: false, mixtureConsistency: false } as const;
  const sep = (weight: number | 'auto') => separateSignal(model, x, { ...opts, denoiserBlend: { weight, speechSlot: 0 } });
  const [off, full, auto] = [await sep(0), await sep(1), await sep('auto')];
  const share = autoBlendShare(agreementDb(off[0]!, full[0]!));
  assert.ok(share > 0.01 && share < RNNOISE_AUTO.maxShare - 0.01, `a share between the ends: ${share}`);
  // Where RNNoise heard no voice (the pauses of real speech), the speech stem is RNNoise's.
  const reader = await RnnoiseReader.open(x.length, rnnoiseGain(Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length)), (start, count) => x.subarray(start, start + count));
  const voiceless = await reader.voiceless(0, x.length, RNNOISE_AUTO.voiceless);
  reader.dispose();
  const quiet = voiceless.reduce((a, v) => a + v, 0) / x.length;
  assert.ok(quiet > 0 && quiet < 0.5, `some of the speech is pauses: ${quiet}`);
  for (let s = 0; s < 2; s++) {
    const expected = off[s]!.map((v, t) => (voiceless[t] ? (s === 0 ? full[0]![t]! : x[t]! - full[0]![t]!) : v + share * (full[s]![t]! - v)));
    assert.ok(maxAbsDiff(auto[s]!, expected) < 1e-5 * maxAbs(x), `stem ${s}`);
  }
  const voiced = (y: Float32Array) => y.filter((_, t) => !voiceless[t]);
  assert.ok(maxAbsDiff(voiced(sumOf(auto)), voiced(sumOf(off))) < 1e-6 * maxAbs(x), 'where RNNoise hears a voice, what the speech stem gains the env stem loses');
  model.dispose();
});

test('matchGains undoes the arbitrary per-output gains of a scale-invariant model', () => {
  const rng = seededRandom(5);
  const sources = [0, 1].map(() => Float32Array.from({ length: 4000 }, () => rng() - 0.5));
  const mixture = sources[0]!.map((v, t) => v + sources[1]![t]!);
  const estimates = [sources[0]!.map((v) => v * 0.2), sources[1]!.map((v) => v * -3)];
  matchGains(estimates, mixture);
  for (let s = 0; s < 2; s++) assert.ok(maxAbsDiff(estimates[s]!, sources[s]!) < 1e-5, `source ${s}`);
  const silent = [new Float32Array(10), Float32Array.from({ length: 10 }, (_, t) => t)];
  matchGains(silent, Float32Array.from({ length: 10 }, (_, t) => 2 * t));
  assert.ok(silent[0]!.every((v) => v === 0) && Math.abs(silent[1]![9]! - 18) < 1e-4, 'a silent output stays silent');
});

test('separation brings the input to the level the model was trained at', async () => {
  const model = new BandSplitSeparator(65, 1000, [1, 1]);
  const seen: number[] = [];
  const apply = model.apply.bind(model);
  model.apply = (x) => { seen.push(Math.sqrt(tf.tidy(() => tf.moments(x).variance.dataSync()[0]!))); return apply(x); };
  model.inputStd = 0.02;
  await separateSignal(model, speech20.map((v) => v * 7), { windowSec: 20, marginSec: 0 });
  assert.ok(Math.abs(seen[0]! - 0.02) < 2e-3, `input std ${seen[0]}`);
  model.dispose();
});

test('normalisation: the output scales with the input and a DC offset is split across the stems', async () => {
  const model = new BandSplitSeparator();
  const base = await separateSignal(model, speech20, { windowSec: 2 });
  const loud = await separateSignal(model, speech20.map((v) => v * 8 + 0.25), { windowSec: 2, mixtureConsistency: false });
  for (let s = 0; s < 2; s++) {
    const expected = base[s]!.map((v) => v * 8 + 0.125);
    assert.ok(maxAbsDiff(loud[s]!, expected) < 1e-4 * 8 * maxAbs(speech20), `stem ${s}`);
  }
  // Silence gives silent stems, not amplified noise.
  const quiet = await separateSignal(model, new Float32Array(3 * RATE), { windowSec: 2 });
  for (const s of quiet) assert.equal(maxAbs(s), 0);
  model.dispose();
});

test('chunk permutation alignment undoes a separator that swaps its outputs on alternate chunks', async () => {
  const ref = singlePass(new BandSplitSeparator(), speech20);
  for (const batchSize of [1, 4]) {
    const swapping = new SwappingSeparator(new BandSplitSeparator(), (row) => row % 2 === 1);
    const stems = await separateSignal(swapping, speech20, { windowSec: 2, batchSize });
    // The global order is the majority's; with alternating swaps either order is right.
    const order = snrDb(ref[0]!, stems[0]!) > snrDb(ref[0]!, stems[1]!) ? [0, 1] : [1, 0];
    for (let s = 0; s < 2; s++) {
      const err = maxAbsDiff(stems[order[s]!]!, ref[s]!);
      assert.ok(err < 1e-5 * maxAbs(speech20), `batch ${batchSize}, stem ${s}: ${err}`);
    }
    swapping.dispose();
  }
  // Without alignment the same separator gives stems that mix both bands.
  const swapping = new SwappingSeparator(new BandSplitSeparator(), (row) => row % 2 === 1);
  const raw = await separateSignal(swapping, speech20, { windowSec: 2, alignPermutations: false });
  for (const order of [[0, 1], [1, 0]]) {
    const worst = Math.min(snrDb(ref[0]!, raw[order[0]!]!), snrDb(ref[1]!, raw[order[1]!]!));
    assert.ok(worst < 0, `unaligned stems match the bands (worst SNR ${worst} dB)`);
  }
  swapping.dispose();
});

test("the final order follows the model's own order on most of the signal, so class-named stems keep their class", async () => {
  const ref = singlePass(new BandSplitSeparator(), speech20);
  // The model gets only the first two of 16 chunks the wrong way round.
  const model = new SwappingSeparator(new BandSplitSeparator(), (row) => row < 2);
  const stems = await separateSignal(model, speech20, { windowSec: 2 });
  for (let s = 0; s < 2; s++) assert.ok(maxAbsDiff(stems[s]!, ref[s]!) < 1e-5 * maxAbs(speech20), `stem ${s}`);
  model.dispose();
});

test('a 12-minute recording keeps tensor memory at a few chunks and RSS bounded; no tensors leak across calls', async () => {
  const minutes = 12;
  const long = longSpeech(minutes * 60);
  const short = long.subarray(0, 60 * RATE);
  const windowSec = 8;
  const batchSize = 2;

  const shortProbe = new MemoryProbe(new BandSplitSeparator());
  await separateSignal(shortProbe, short, { windowSec, batchSize });

  const probe = new MemoryProbe(new BandSplitSeparator());
  const tensorsBefore = tf.memory().numTensors;
  const bytesBefore = tf.memory().numBytes;
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  let peakBytesInProgress = 0;
  const fractions: number[] = [];
  const stems = await separateSignal(probe, long, {
    windowSec,
    batchSize,
    onProgress: (f) => {
      fractions.push(f);
      peakBytesInProgress = Math.max(peakBytesInProgress, tf.memory().numBytes);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    },
  });
  assert.equal(stems[0]!.length, long.length);
  // 12 min at 8 kHz is 23 MB per signal; the tensors alive at once stay at a few 8 s chunks
  // (input [2, 64000] + output [2, 2, 64000] + the filter's intermediates = about 2.5 MB).
  const chunkBytes = batchSize * windowSec * RATE * 4;
  const signalBytes = long.length * 4;
  assert.ok(probe.peakBytes - bytesBefore < 8 * chunkBytes, `peak tensor bytes ${probe.peakBytes - bytesBefore}`);
  assert.ok(probe.peakBytes - bytesBefore < signalBytes / 4, 'peak tensor bytes far below the signal size');
  // Flat: the 12-minute file needs no more tensor memory than a 1-minute one.
  assert.ok(probe.peakBytes <= shortProbe.peakBytes + 1024, `12 min ${probe.peakBytes} vs 1 min ${shortProbe.peakBytes}`);
  assert.equal(peakBytesInProgress, bytesBefore, 'between forward calls no chunk tensors are alive');
  // RSS: the two output stems (2 x 23 MB) plus per-batch arrays and allocator slack.
  const rssGrowth = peakRss - rssBefore;
  assert.ok(rssGrowth < 2 * signalBytes + 150e6, `RSS grew by ${(rssGrowth / 1e6).toFixed(0)} MB`);
  // Progress: one call per forward call, increasing, ending at 1.
  // 8 s windows with 6 s hops over 12 min: 120 chunks.
  assert.equal(fractions.length, Math.ceil(120 / batchSize));
  assert.ok(fractions.every((f, i) => i === 0 || f > fractions[i - 1]!), 'progress increases');
  assert.equal(fractions.at(-1), 1);
  assert.equal(tf.memory().numTensors, tensorsBefore);

  // Repeated calls leave the tensor count where it was.
  for (let i = 0; i < 3; i++) {
    await separateSignal(probe, short, { windowSec: 2, batchSize: 3 });
    assert.equal(tf.memory().numTensors, tensorsBefore, `after call ${i + 1}`);
  }
  probe.dispose();
  shortProbe.dispose();
});

test('cancellation stops early with a clear AbortError and frees the chunk tensors', async () => {
  const model = new BandSplitSeparator();
  const tensorsBefore = tf.memory().numTensors;
  // Aborted from the progress callback after the first forward call.
  const ac = new AbortController();
  let progressCalls = 0;
  await assert.rejects(
    separateSignal(model, speech20, { windowSec: 2, batchSize: 1, signal: ac.signal, onProgress: () => (++progressCalls === 1 ? ac.abort() : undefined) }),
    (e: Error) => e instanceof SeparationAbortedError && e.name === 'AbortError' && /Separation cancelled after 1 of 16 chunks/.test(e.message),
  );
  assert.equal(progressCalls, 1);
  assert.equal(model.calls, 1);
  // Aborted from another task (a UI button, a worker message) while separation runs.
  const ac2 = new AbortController();
  const running = separateSignal(model, speech20, { windowSec: 2, batchSize: 1, signal: ac2.signal });
  setTimeout(() => ac2.abort(new Error('user pressed cancel')), 0);
  await assert.rejects(running, (e: Error) => e.name === 'AbortError' && (e.cause as Error).message === 'user pressed cancel');
  assert.ok(model.calls < 16, `stopped after ${model.calls} forward calls`);
  // Already aborted: no forward call at all.
  const callsBefore = model.calls;
  await assert.rejects(separateSignal(model, speech20, { signal: AbortSignal.abort() }), /cancelled after 0 of/);
  assert.equal(model.calls, callsBefore);
  assert.equal(tf.memory().numTensors, tensorsBefore);
  model.dispose();
});

test('the Sudo rm -rf model separates a real two-recording mixture chunk by chunk: shapes, finite stems, consistency', async () => {
  const model = createSudoRmRf({ nSources: 2, nBlocks: 2, upsamplingDepth: 3, encBasis: 64, encKernel: 21, bottleneck: 32, hidden: 64, dwKernel: 5 }, 1);
  // Two different stretches of real speech, summed: 12 s.
  const a = longSpeech(24);
  const x = a.subarray(0, 12 * RATE).map((v, i) => v + 0.5 * a[12 * RATE + i]!);
  const tensorsBefore = tf.memory().numTensors;
  const chunked = await separateSignal(model, x, { windowSec: 4, batchSize: 2 });
  assert.equal(tf.memory().numTensors, tensorsBefore);
  assert.equal(chunked.length, 2);
  for (const s of chunked) {
    assert.equal(s.length, x.length);
    assert.ok(s.every(Number.isFinite), 'finite stems');
  }
  assert.ok(maxAbsDiff(sumOf(chunked), x) < 1e-6 * maxAbs(x), 'stems sum to the mixture');
  // gLN normalises over the whole input, so chunks are not exactly the single pass, but close.
  const single = await separateSignal(model, x, { windowSec: 12 });
  for (let s = 0; s < 2; s++) {
    const snr = snrDb(single[s]!, chunked[s]!);
    assert.ok(snr > 25, `stem ${s}: chunked vs single pass ${snr.toFixed(1)} dB`);
  }
  model.dispose();
});

class BrokenSeparator implements Separator {
  readonly nSources = 2;
  readonly variables: readonly Variable[] = [];
  constructor(private readonly kind: 'shape' | 'nan') {}
  apply(mixture: Tensor2D): Tensor3D {
    return tf.tidy(() => {
      if (this.kind === 'shape') return tf.stack([mixture, mixture, mixture], 1) as Tensor3D;
      return tf.stack([mixture.div(0).mul(0), mixture], 1) as Tensor3D;
    });
  }
  dispose(): void {}
}

test('bad input and bad models give clear errors and leak nothing', async () => {
  const model = new BandSplitSeparator();
  const tensorsBefore = tf.memory().numTensors;
  await assert.rejects(separateSignal(model, new Float32Array(0)), /the mixture is empty \(0 samples\)/);
  const nan = speech20.slice();
  nan[12345] = NaN;
  await assert.rejects(separateSignal(model, nan), /non-finite sample \(NaN\) at index 12345/);
  const inf = speech20.slice();
  inf[7] = -Infinity;
  await assert.rejects(separateSignal(model, inf), /non-finite sample \(-Infinity\) at index 7/);
  await assert.rejects(separateSignal(model, [0.1, 0.2] as unknown as Float32Array), /must be a Float32Array/);
  await assert.rejects(separateSignal(model, speech20, { windowSec: 2, hopSec: 1.9, marginSec: 0.1 }), /hopSec \(1.9\) must be .* at most windowSec - 2 \* marginSec/);
  await assert.rejects(separateSignal(model, speech20, { windowSec: 2, marginSec: 1 }), /marginSec \(1\) must be less than half of windowSec \(2\)/);
  await assert.rejects(separateSignal(model, speech20, { batchSize: 0 }), /batchSize must be a positive integer, got 0/);
  await assert.rejects(separateSignal(model, speech20, { windowSec: -1 }), /windowSec must be a positive number/);
  await assert.rejects(separateSignal(new BrokenSeparator('shape'), speech20, { windowSec: 2, batchSize: 2 }), /returned shape \[2, 3, 16000\] for input \[2, 16000\]; expected \[2, 2, 16000\]/);
  await assert.rejects(separateSignal(new BrokenSeparator('nan'), speech20, { windowSec: 2 }), /non-finite output/);
  assert.equal(tf.memory().numTensors, tensorsBefore);
  model.dispose();
});
