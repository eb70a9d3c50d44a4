import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';
import { expectedMixtureStd, loadClips, Mixer, type Clip } from '../../../core/data/mixer';
import type { Manifest } from '../../../core/data/manifest';

let m: Manifest;
let train: Clip[];
let testClips: Clip[];
before(async () => {
  m = await ensureTestAudio();
  train = await loadClips(m.entries, { cacheDir: TEST_AUDIO_DIR, splits: ['train'] });
  testClips = await loadClips(m.entries, { cacheDir: TEST_AUDIO_DIR, splits: ['test'] });
});

function energy(x: Float32Array): number {
  let e = 0;
  for (const v of x) e += v * v;
  return e;
}

test('mixtures of real clips: the mixture is the sum, SNRs and unit energies per second are as drawn', () => {
  const mixer = new Mixer(train, { seed: 1, snrRange: [-5, 5] });
  const b = mixer.batch(8);
  assert.equal(b.time, 32000);
  assert.equal(b.mixture.length, 8 * 32000);
  assert.equal(b.sources.length, 8 * 2 * 32000);
  for (let i = 0; i < 8; i++) {
    const s0 = b.sources.subarray(i * 2 * 32000, (i * 2 + 1) * 32000);
    const s1 = b.sources.subarray((i * 2 + 1) * 32000, (i * 2 + 2) * 32000);
    const mix = b.mixture.subarray(i * 32000, (i + 1) * 32000);
    for (let t = 0; t < 32000; t++) assert.equal(mix[t], Math.fround(s0[t]! + s1[t]!));
    const e0 = energy(s0), e1 = energy(s1);
    assert.ok(Math.abs(10 * Math.log10(e0 / e1) - b.snrDb[i]!) < 1e-3, `snr ${i}`);
    assert.ok(Math.abs(e0 * e1 - 4 * 4) < 16e-3, 'unit energy per second (4 s crops) before the SNR gains');
    assert.ok(b.snrDb[i]! >= -5 && b.snrDb[i]! <= 5, 'snr in range');
    assert.deepEqual(b.classes[i], ['speech', 'env']);
    assert.equal(b.mixtureTypes[i], 'speech+env');
    assert.equal(b.labels[i]![0], 'Allison');
  }
});

test('the mixture level does not depend on the segment length and is the expected one', () => {
  const rms = (seconds: number) => {
    const b = new Mixer(train, { seed: 5, segmentSeconds: seconds, snrRange: [-5, 5] }).batch(64);
    return Math.sqrt(energy(b.mixture) / b.mixture.length);
  };
  const expected = expectedMixtureStd([-5, 5]);
  for (const seconds of [0.5, 1, 4]) {
    const ratio = rms(seconds) / expected;
    assert.ok(ratio > 0.95 && ratio < 1.05, `${seconds} s: rms / expected = ${ratio}`);
  }
});

test('seeds reproduce, streams advance, and fixed sets ignore how much training consumed', () => {
  const a = new Mixer(train, { seed: 7 });
  const b = new Mixer(train, { seed: 7 });
  const a1 = a.batch(4);
  assert.deepEqual(a1.mixture, b.batch(4).mixture);
  assert.notDeepEqual(a.batch(4).mixture, a1.mixture);
  assert.notDeepEqual(new Mixer(train, { seed: 8 }).batch(4).mixture, a1.mixture);
  const fresh = new Mixer(testClips, { seed: 7 });
  const used = new Mixer(testClips, { seed: 7 });
  used.batch(16);
  assert.deepEqual(fresh.fixed(8, 'test').sources, used.fixed(8, 'test').sources);
  assert.notDeepEqual(fresh.fixed(8, 'test').sources, fresh.fixed(8, 'validation').sources);
});

test('mixture-type priors and same-class mixtures pick two different sound types', () => {
  const mixer = new Mixer(train, { seed: 3, priors: { 'speech+env': 1, 'env+env': 1, 'speech+speech': 1 } });
  const b = mixer.batch(60);
  const types = new Set(b.mixtureTypes);
  assert.equal(types.size, 3);
  for (let i = 0; i < 60; i++) {
    const expected = b.mixtureTypes[i]!.split('+');
    assert.deepEqual(b.classes[i], expected);
    if (b.mixtureTypes[i] === 'env+env') assert.notEqual(b.labels[i]![0], b.labels[i]![1]);
  }
  assert.throws(() => new Mixer(train.filter((c) => c.class === 'env')), /needs speech clips/);
  assert.throws(() => new Mixer(train, { priors: { 'speech+env': 0 } }), /positive weight/);
});

test('a mixer over the test split only uses test clips: no clip is in two splits', () => {
  const splitOf = new Map(m.entries.map((e) => [e.file, e.split]));
  assert.equal(splitOf.size, m.entries.length);
  const b = new Mixer(testClips, { seed: 0, priors: { 'speech+env': 1, 'env+env': 1 } }).fixed(32, 'test');
  for (const ids of b.clipIds) for (const id of ids) assert.equal(splitOf.get(id), 'test');
  const trainIds = new Set(train.map((c) => c.id));
  assert.ok(testClips.every((c) => !trainIds.has(c.id)), 'disjoint');
});
