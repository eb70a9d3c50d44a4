import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';
import { expectedMixtureStd, loadClips, Mixer, type Clip, type MixerBatch, type MixerOptions } from '../../../core/data/mixer';
import type { Manifest } from '../../../core/data/manifest';
import { DEFAULT_AUGMENT, type AugmentConfig } from '../../../core/data/augment';
import { Rng } from '../../../core/data/random';
import { MODEL_RATE, type MixtureType, type SoundClass } from '../../../core/types';

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

// ---------------------------------------------------------------------------------------------
// Augmentation

/** No channel, speed, pause, layers or bed: each test turns on what it checks. */
const OFF: AugmentConfig = {
  ...DEFAULT_AUGMENT, eq: 0, bandLimit: 0, codec: 0, reverb: 0, speed: 0, pause: 0, envLayers: [0, 0], bed: 0,
};

function source(b: MixerBatch, i: number, s: number): Float32Array {
  return b.sources.subarray((i * 2 + s) * b.time, (i * 2 + s + 1) * b.time);
}

function rowOf(b: MixerBatch, i: number): Float32Array {
  return b.mixture.subarray(i * b.time, (i + 1) * b.time);
}

function longestZeroRun(x: Float32Array): number {
  let best = 0; let run = 0;
  for (const v of x) { run = v === 0 ? run + 1 : 0; best = Math.max(best, run); }
  return best;
}

function amplitudeAt(y: Float32Array, freq: number): number {
  let c = 0; let s = 0;
  for (let i = 0; i < y.length; i++) {
    c += y[i]! * Math.cos((2 * Math.PI * freq * i) / MODEL_RATE);
    s += y[i]! * Math.sin((2 * Math.PI * freq * i) / MODEL_RATE);
  }
  return (2 * Math.hypot(c, s)) / y.length;
}

function noiseClip(id: string, cls: SoundClass, label: string, seconds: number, amp = 0.5): Clip {
  const rng = new Rng(id);
  const audio = new Float32Array(Math.round(seconds * MODEL_RATE));
  for (let i = 0; i < audio.length; i++) audio[i] = rng.uniform(-amp, amp) || amp;
  return { id, class: cls, label, split: 'train', audio };
}

function toneClip(id: string, cls: SoundClass, label: string, freq: number, seconds: number): Clip {
  const audio = new Float32Array(Math.round(seconds * MODEL_RATE));
  for (let i = 0; i < audio.length; i++) audio[i] = 0.5 * Math.sin((2 * Math.PI * freq * i) / MODEL_RATE + freq);
  return { id, class: cls, label, split: 'train', audio };
}

function speechNoise(): Clip[] {
  return [0, 1, 2, 3].map((k) => noiseClip(`speech-${k}`, 'speech', `speaker-${k % 2}`, 3));
}

/**
 * The mixer as it was before augmentation (a copy of its logic): what a config without `augment`
 * must still produce, bit for bit.
 */
function referenceBatch(clips: Clip[], opts: MixerOptions, size: number, rng: Rng): MixerBatch {
  const SOURCES: Record<MixtureType, [SoundClass, SoundClass]> = {
    'speech+env': ['speech', 'env'], 'speech+speech': ['speech', 'speech'], 'env+env': ['env', 'env'],
  };
  const T = Math.round((opts.segmentSeconds ?? 4) * (opts.rate ?? MODEL_RATE));
  const snrRange = opts.snrRange ?? [-5, 5];
  const priors = opts.priors ?? { 'speech+env': 1 };
  const types = (Object.keys(priors) as MixtureType[]).filter((t) => (priors[t] ?? 0) > 0);
  const total = types.reduce((s, t) => s + priors[t]!, 0);
  let acc = 0;
  const cumulative = types.map((t) => (acc += priors[t]! / total));
  const byClass: Record<SoundClass, Clip[]> = { speech: [], env: [] };
  for (const c of clips) if (c.audio.length > 0) byClass[c.class].push(c);
  const crop = (dst: Float32Array, cls: SoundClass, not?: string): Clip => {
    const pool = byClass[cls];
    const others = not === undefined ? pool : pool.filter((c) => c.label !== not);
    const from = others.length > 0 ? others : pool;
    for (let attempt = 0; attempt < 20; attempt++) {
      const clip = rng.pick(from);
      dst.fill(0);
      const x = clip.audio;
      if (x.length >= T) dst.set(x.subarray(rng.int(x.length - T + 1)).subarray(0, T));
      else dst.set(x, rng.int(T - x.length + 1));
      if (energy(dst) / T >= 1e-7) return clip;
    }
    throw new Error('no audible crop');
  };
  const rootSeconds = Math.sqrt(T / MODEL_RATE);
  const mixture = new Float32Array(size * T);
  const sources = new Float32Array(size * 2 * T);
  const out: MixerBatch = { batch: size, nSrc: 2, time: T, mixture, sources, classes: [], labels: [], mixtureTypes: [], snrDb: [], clipIds: [] };
  for (let b = 0; b < size; b++) {
    const u = rng.next();
    const type = types[cumulative.findIndex((c) => u < c)] ?? types[types.length - 1]!;
    const [c0, c1] = SOURCES[type];
    const s0 = sources.subarray((b * 2) * T, (b * 2 + 1) * T);
    const s1 = sources.subarray((b * 2 + 1) * T, (b * 2 + 2) * T);
    const clip0 = crop(s0, c0);
    const clip1 = crop(s1, c1, c0 === c1 ? clip0.label : undefined);
    const snr = rng.uniform(snrRange[0], snrRange[1]);
    const e0 = energy(s0); const e1 = energy(s1);
    for (let i = 0; i < T; i++) s0[i]! *= (10 ** (snr / 40) * rootSeconds) / Math.sqrt(e0);
    for (let i = 0; i < T; i++) s1[i]! *= (10 ** (-snr / 40) * rootSeconds) / Math.sqrt(e1);
    const m = mixture.subarray(b * T, (b + 1) * T);
    for (let i = 0; i < T; i++) m[i] = s0[i]! + s1[i]!;
    out.classes.push([c0, c1]); out.labels.push([clip0.label, clip1.label]); out.mixtureTypes.push(type);
    out.snrDb.push(snr); out.clipIds.push([clip0.id, clip1.id]);
  }
  return out;
}

test('without augment the batches are bit-identical to the mixer before augmentation (no extra draws)', () => {
  const opts: MixerOptions = { seed: 11, segmentSeconds: 1, snrRange: [-5, 5], priors: { 'speech+env': 2, 'speech+speech': 1, 'env+env': 1 } };
  for (const augment of [undefined, null]) {
    const mixer = new Mixer(train, { ...opts, augment });
    const stream = new Rng(11);
    for (let k = 0; k < 3; k++) assert.deepEqual(mixer.batch(8), referenceBatch(train, opts, 8, stream), `stream batch ${k}`);
    assert.deepEqual(mixer.fixed(12, 'validation'), referenceBatch(train, opts, 12, new Rng('11:fixed:validation')));
  }
  // Short clips (zero-padded crops) too.
  const short = [...speechNoise(), noiseClip('env-short', 'env', 'burst', 0.3)];
  assert.deepEqual(new Mixer(short, { seed: 2, segmentSeconds: 2 }).fixed(6, 'x'), referenceBatch(short, { segmentSeconds: 2 }, 6, new Rng('2:fixed:x')));
});

test('with augment: the mixture is the sum of its sources, SNRs are as drawn, source 0 is speech, batches are fixed by key', () => {
  const opts: MixerOptions = { seed: 4, segmentSeconds: 2, augment: DEFAULT_AUGMENT, priors: { 'speech+env': 2, 'speech+speech': 1, 'env+env': 1 } };
  const mixer = new Mixer(train, opts);
  const b = mixer.fixed(24, 'aug');
  const again = new Mixer(train, opts);
  again.batch(5);
  assert.deepEqual(again.fixed(24, 'aug'), b, 'fixed(size, name) is the same whatever the stream consumed');
  assert.deepEqual(new Mixer(train, opts).batch(6), new Mixer(train, opts).batch(6), 'streams reproduce');
  assert.notDeepEqual(mixer.fixed(24, 'other').mixture, b.mixture);
  assert.notDeepEqual(new Mixer(train, { ...opts, augment: null }).fixed(24, 'aug').sources, b.sources, 'augmentation changes the sources');
  const speechIds = new Set(train.filter((c) => c.class === 'speech').map((c) => c.id));
  const envIds = new Set(train.filter((c) => c.class === 'env').map((c) => c.id));
  const T = b.time;
  let speechEnv = 0;
  for (let i = 0; i < b.batch; i++) {
    const s0 = source(b, i, 0); const s1 = source(b, i, 1); const mix = rowOf(b, i);
    let worst = 0;
    for (let t = 0; t < T; t++) worst = Math.max(worst, Math.abs(mix[t]! - (s0[t]! + s1[t]!)));
    assert.ok(worst <= 1e-6, `mixture ${i}: |mixture - sum| = ${worst}`);
    assert.ok(s0.every(Number.isFinite) && s1.every(Number.isFinite));
    const e0 = energy(s0); const e1 = energy(s1);
    assert.ok(Math.abs(10 * Math.log10(e0 / e1) - b.snrDb[i]!) < 1e-3, `snr ${i}`);
    assert.ok(Math.abs(e0 * e1 - 2 * 2) < 4e-3, 'unit energy per second before the SNR gains');
    assert.deepEqual(b.classes[i], b.mixtureTypes[i]!.split('+'));
    if (b.mixtureTypes[i] === 'speech+env') {
      speechEnv++;
      assert.deepEqual(b.classes[i], ['speech', 'env']);
      assert.ok(speechIds.has(b.clipIds[i]![0]!), 'source 0 is a speech clip');
      assert.ok(envIds.has(b.clipIds[i]![1]!), 'source 1 is an env clip');
    }
  }
  assert.ok(speechEnv >= 6, `${speechEnv} speech+env mixtures`);
});

test('absentSpeech / absentEnv leave one source of a speech+env mixture out: the mixture is the other', () => {
  const opts: MixerOptions = { seed: 9, segmentSeconds: 1, augment: { ...DEFAULT_AUGMENT, absentSpeech: 0.3, absentEnv: 0.2 } };
  const b = new Mixer(train, opts).fixed(200, 'absent');
  const counts = { speech: 0, env: 0, none: 0 };
  for (let i = 0; i < b.batch; i++) {
    const [e0, e1] = [energy(source(b, i, 0)), energy(source(b, i, 1))];
    const mix = rowOf(b, i);
    if (e0 === 0) {
      counts.speech++;
      assert.equal(b.snrDb[i], -Infinity);
      assert.ok(mix.every((v, t) => v === source(b, i, 1)[t]), 'no speech: the mixture is the env source');
    } else if (e1 === 0) {
      counts.env++;
      assert.equal(b.snrDb[i], Infinity);
      assert.ok(mix.every((v, t) => v === source(b, i, 0)[t]), 'no env: the mixture is the speech source');
    } else {
      counts.none++;
      assert.ok(Number.isFinite(b.snrDb[i]));
    }
    assert.deepEqual(b.classes[i], ['speech', 'env'], 'the slots keep their classes');
  }
  assert.ok(counts.speech > 40 && counts.speech < 80, `speech left out of ${counts.speech} / 200`);
  assert.ok(counts.env > 22 && counts.env < 60, `env left out of ${counts.env} / 200`);
  const plain = new Mixer(train, { seed: 9, segmentSeconds: 1, augment: DEFAULT_AUGMENT }).fixed(8, 'x');
  assert.ok(Array.from({ length: plain.batch }, (_, i) => energy(source(plain, i, 0)) > 0 && energy(source(plain, i, 1)) > 0).every(Boolean));
});

test('with augment the mixture level stays the expected one', () => {
  const rms = (augment: AugmentConfig | null, count = 300) => {
    const b = new Mixer(train, { seed: 6, segmentSeconds: 1, snrRange: [-5, 5], augment, priors: { 'speech+env': 2, 'env+env': 1 } }).fixed(count, 'level');
    return Math.sqrt(energy(b.mixture) / b.mixture.length);
  };
  const expected = expectedMixtureStd([-5, 5]);
  const plain = rms(null);
  const all: AugmentConfig = { ...DEFAULT_AUGMENT, eq: 1, bandLimit: 1, codec: 1, reverb: 1, speed: 1, pause: 1, bed: 1, envLayers: [1, 2] };
  // (Everything on is slow: a room on every source, layer and bed; 120 mixtures.)
  for (const [name, augment, count] of [['default', DEFAULT_AUGMENT, 300], ['everything', all, 120]] as const) {
    const level = rms(augment, count);
    assert.ok(Math.abs(level / expected - 1) < 0.1, `${name}: rms ${level} vs expected ${expected}`);
    assert.ok(Math.abs(level / plain - 1) < 0.1, `${name}: rms ${level} vs ${plain} without augmentation`);
  }
});

test('pause: 1 silences a stretch of the configured fraction of every speech source, never of env sources', () => {
  const clips = [...speechNoise(), noiseClip('env-a', 'env', 'a', 3), noiseClip('env-b', 'env', 'b', 3)];
  const T = 2 * MODEL_RATE;
  const fixedPause = new Mixer(clips, { seed: 1, segmentSeconds: 2, augment: { ...OFF, pause: 1, pauseFraction: [0.3, 0.3] }, priors: { 'speech+env': 1, 'speech+speech': 1 } }).fixed(16, 'p');
  for (let i = 0; i < 16; i++) {
    for (let s = 0; s < 2; s++) {
      const run = longestZeroRun(source(fixedPause, i, s));
      if (fixedPause.classes[i]![s] === 'speech') assert.equal(run, Math.round(0.3 * T), `mixture ${i} source ${s}`);
      else assert.ok(run < 3, `env source ${i}: zero run ${run}`);
    }
  }
  assert.ok(fixedPause.mixtureTypes.includes('speech+speech'));
  const drawn = new Mixer(clips, { seed: 1, segmentSeconds: 2, augment: { ...OFF, pause: 1, pauseFraction: [0.15, 0.5] } }).fixed(16, 'p');
  const runs = drawn.classes.map((_, i) => longestZeroRun(source(drawn, i, 0)));
  for (const run of runs) assert.ok(run >= Math.round(0.15 * T) && run <= Math.round(0.5 * T), `pause of ${run / T} of the segment`);
  assert.ok(new Set(runs).size > 8, 'the length is drawn');
  const none = new Mixer(clips, { seed: 1, segmentSeconds: 2, augment: OFF }).fixed(16, 'p');
  for (let i = 0; i < 16; i++) assert.ok(longestZeroRun(source(none, i, 0)) < 3, 'pause: 0 leaves speech whole');
});

test('speed changes the crop: a 400 Hz tone at factor 1.25 becomes 500 Hz, level unchanged', () => {
  const clips = [toneClip('sp-400', 'speech', 'tone', 400, 3), toneClip('env-400', 'env', 'tone', 400, 3)];
  const b = new Mixer(clips, { seed: 3, segmentSeconds: 1, augment: { ...OFF, speed: 1, speedRange: [1.25, 1.25] } }).fixed(4, 's');
  for (let i = 0; i < 4; i++) {
    for (let s = 0; s < 2; s++) {
      const x = source(b, i, s);
      const a500 = amplitudeAt(x, 500); const a400 = amplitudeAt(x, 400);
      assert.ok(a400 < 0.01 * a500, `mixture ${i} source ${s}: 400 Hz ${a400} vs 500 Hz ${a500}`);
    }
    assert.ok(Math.abs(energy(source(b, i, 0)) * energy(source(b, i, 1)) - 1) < 1e-3);
  }
});

test('envLayers: env sources hold several clips, each at layerGainDb below the first; without layers only one', () => {
  const freqs = [200, 300, 500, 700, 1100, 1300, 1700, 1900];
  const clips = [...speechNoise(), ...freqs.map((f) => toneClip(`env-${f}`, 'env', `tone-${f}`, f, 2))];
  const freqOf = new Map(freqs.map((f) => [`env-${f}`, f]));
  const present = (x: Float32Array) => {
    const amps = freqs.map((f) => amplitudeAt(x, f));
    const top = Math.max(...amps);
    return { amps, heard: freqs.filter((_, k) => amps[k]! > 0.1 * top) };
  };
  const opts = { seed: 9, segmentSeconds: 1 };
  for (const augment of [null, OFF]) {
    const b = new Mixer(clips, { ...opts, augment }).fixed(32, 'layers');
    for (let i = 0; i < 32; i++) {
      const { heard } = present(source(b, i, 1));
      assert.deepEqual(heard, [freqOf.get(b.clipIds[i]![1]!)], `no layers: only the main clip (mixture ${i})`);
    }
  }
  const layered = new Mixer(clips, { ...opts, augment: { ...OFF, envLayers: [2, 2], layerGainDb: [-12, -12] } }).fixed(32, 'layers');
  let total = 0; let checked = 0;
  for (let i = 0; i < 32; i++) {
    const { amps, heard } = present(source(layered, i, 1));
    const main = freqOf.get(layered.clipIds[i]![1]!)!;
    assert.ok(heard.includes(main) && heard.length >= 1 && heard.length <= 3, `mixture ${i}: ${heard.join(', ')}`);
    total += heard.length;
    if (heard.length === 3) {
      // Three distinct clips: the layers are 12 dB (x 0.251) below the main clip.
      const mainAmp = amps[freqs.indexOf(main)]!;
      for (const f of heard) if (f !== main) {
        const ratio = amps[freqs.indexOf(f)]! / mainAmp;
        assert.ok(Math.abs(ratio - 10 ** (-12 / 20)) < 0.01, `layer ${f} Hz at ${ratio} of the main clip`);
      }
      checked++;
    }
    assert.equal(longestZeroRun(source(layered, i, 0)) < 3, true, 'the speech source is not layered');
  }
  assert.ok(total / 32 > 2.2, `${total / 32} clips per env source on average`);
  assert.ok(checked >= 8, `${checked} env sources with three distinct clips`);
  // Speech sources carry none of the tones.
  for (let i = 0; i < 32; i++) {
    const speech = source(layered, i, 0);
    const { amps } = present(source(layered, i, 1));
    const loud = Math.max(...amps);
    for (const f of freqs) assert.ok(amplitudeAt(speech, f) < 0.1 * loud);
  }
});

test('bed: 1 covers the whole segment: no all-zero 100 ms window in env sources even when env clips are short', () => {
  const clips = [...speechNoise(), ...[0, 1, 2].map((k) => noiseClip(`env-burst-${k}`, 'env', `burst-${k}`, 0.3))];
  const window = Math.round(0.1 * MODEL_RATE);
  const opts = { seed: 5, segmentSeconds: 2, priors: { 'speech+env': 1, 'env+env': 1 } };
  const envSources = (b: MixerBatch) => b.classes.flatMap((cls, i) => cls.flatMap((c, s) => (c === 'env' ? [source(b, i, s)] : [])));
  // Without a bed, short clips leave long silences (the control).
  const bare = new Mixer(clips, { ...opts, augment: OFF }).fixed(24, 'bed');
  for (const x of envSources(bare)) assert.ok(longestZeroRun(x) >= window, 'a short clip alone leaves silence');
  for (const augment of [{ ...DEFAULT_AUGMENT, bed: 1 }, { ...OFF, bed: 1 }]) {
    const b = new Mixer(clips, { ...opts, augment }).fixed(24, 'bed');
    const env = envSources(b);
    assert.ok(env.length >= 24);
    for (const x of env) assert.ok(longestZeroRun(x) < window, `zero run ${longestZeroRun(x)} samples`);
  }
  // The bed alone (no channel), 15 dB under the main clip: every 100 ms window keeps >= 0.1 of the source's rms.
  const b = new Mixer(clips, { ...opts, augment: { ...OFF, bed: 1, bedGainDb: [-15, -15] } }).fixed(24, 'bed');
  for (const x of envSources(b)) {
    const rms = Math.sqrt(energy(x) / x.length);
    for (let start = 0; start + window <= x.length; start += window / 2) {
      const w = Math.sqrt(energy(x.subarray(start, start + window)) / window);
      assert.ok(w > 0.1 * rms, `window at ${start}: ${w / rms} of the rms`);
    }
  }
});

test('runs: 1 draws both sources of a speech+env mixture as runs of clips, speech with pauses between turns; mixtures of one class never', () => {
  const clips = [0, 1, 2].flatMap((k) => [noiseClip(`speech-${k}`, 'speech', `voice-${k}`, 0.5), noiseClip(`env-${k}`, 'env', `sound-${k}`, 0.5)]);
  const opts = { seed: 3, segmentSeconds: 6 };
  const clipLength = 0.5 * MODEL_RATE;
  const heard = (x: Float32Array) => x.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
  const crops = new Mixer(clips, { ...opts, augment: OFF }).fixed(16, 'runs');
  for (let i = 0; i < 16; i++) for (const s of [0, 1]) assert.ok(heard(source(crops, i, s)) <= clipLength, 'a crop holds one short clip');
  const runs = new Mixer(clips, { ...opts, augment: { ...OFF, runs: 1 } }).fixed(16, 'runs');
  for (let i = 0; i < 16; i++) {
    const speech = source(runs, i, 0);
    const env = source(runs, i, 1);
    assert.ok(heard(speech) >= 2 * clipLength && heard(env) >= 2 * clipLength, `mixture ${i}: ${heard(speech)} / ${heard(env)} samples heard`);
    const from = speech.findIndex((v) => v !== 0);
    const to = speech.findLastIndex((v) => v !== 0);
    assert.ok(longestZeroRun(speech.subarray(from, to)) >= 0.3 * MODEL_RATE, 'a pause between two turns');
    const mix = rowOf(runs, i);
    for (let t = 0; t < runs.time; t++) assert.equal(mix[t], Math.fround(speech[t]! + env[t]!));
    assert.ok(Math.abs(10 * Math.log10(energy(speech) / energy(env)) - runs.snrDb[i]!) < 1e-3);
  }
  // Same-class mixtures keep their crops and their stream.
  const same = { seed: 3, segmentSeconds: 6, priors: { 'speech+speech': 1, 'env+env': 1 } };
  assert.deepEqual(new Mixer(clips, { ...same, augment: { ...OFF, runs: 1 } }).fixed(8, 'same').mixture, new Mixer(clips, { ...same, augment: OFF }).fixed(8, 'same').mixture);
});
