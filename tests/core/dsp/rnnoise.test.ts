// The RNNoise baseline on real recordings of the CI test split: its delay is undone to the sample,
// stems are as long as the mixture and add up to it, and it removes real noise from real speech;
// streamed in pieces of any size it gives the same samples as in one piece.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readPcm } from '../../../core/data/manifest';
import type { CorpusEntry } from '../../../core/data/manifest';
import { loadRnnoise, rnnoiseDenoise, rnnoiseGain, RnnoiseReader, RnnoiseStream } from '../../../core/dsp/rnnoise';
import { rnnoiseSystem } from '../../../core/evaluation/rnnoise';
import { siSdr } from '../../../core/losses';
import { MODEL_RATE } from '../../../core/types';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';

const SECONDS = 6;
let speech: Float32Array;
let water: CorpusEntry[];

/** The test split's speech prompts end to end, cut to `seconds`. */
async function testSpeech(entries: CorpusEntry[], seconds: number): Promise<Float32Array> {
  const out = new Float32Array(seconds * MODEL_RATE);
  let at = 0;
  for (const e of entries.filter((x) => x.class === 'speech' && x.split === 'test')) {
    if (at >= out.length) break;
    const x = await readPcm(join(TEST_AUDIO_DIR, e.pcm!));
    out.set(x.subarray(0, out.length - at), at);
    at += x.length;
  }
  assert.ok(at >= out.length, `${at / MODEL_RATE} s of test speech`);
  return out;
}

before(async () => {
  const { entries } = await ensureTestAudio();
  speech = await testSpeech(entries, SECONDS);
  water = entries.filter((e) => e.split === 'test' && /env_sounds_water\.\d\.ogg$/.test(e.file));
  assert.ok(water.length >= 2, 'the CI test split holds the water recordings');
});

test('RNNoise keeps clean speech and its output lines up with the input to the sample', async () => {
  const out = await rnnoiseDenoise(speech);
  assert.equal(out.length, speech.length);
  const aligned = siSdr(out, speech);
  // About 20 dB here; a delay off by one sample at 8 kHz costs some 13 dB.
  assert.ok(aligned > 15, `SI-SDR of RNNoise on clean speech ${aligned.toFixed(2)} dB`);
  for (const shift of [-1, 1]) {
    const est = shift > 0 ? out.subarray(shift) : out.subarray(0, out.length + shift);
    const ref = shift > 0 ? speech.subarray(0, speech.length - shift) : speech.subarray(-shift);
    const shifted = siSdr(est, ref);
    assert.ok(shifted < aligned - 3, `shifted by ${shift}: ${shifted.toFixed(2)} dB vs ${aligned.toFixed(2)} dB aligned`);
  }
  const odd = await rnnoiseDenoise(speech.subarray(0, 12345));
  assert.equal(odd.length, 12345);
  const silent = await rnnoiseDenoise(new Float32Array(800));
  assert.deepEqual([silent.length, silent.every((v) => v === 0)], [800, true]);
});

test("Tilt's SIMD build of RNNoise gives the published scalar build's output and voice activity, frame for frame, on real speech over real water", async () => {
  const npm = await import('@shiguredo/rnnoise-wasm');
  // The npm build refuses to start outside browsers and workers; its wasm is inlined, so Node runs it as is.
  const g = globalThis as { WorkerGlobalScope?: unknown };
  g.WorkerGlobalScope = class {};
  const reference = await npm.Rnnoise.load().finally(() => delete g.WorkerGlobalScope);
  const raw = await readPcm(join(TEST_AUDIO_DIR, water[0]!.pcm!));
  // 48 kHz by repeating samples: RNNoise only needs frames of real material at a speech level.
  const input = Float32Array.from({ length: 6 * speech.length }, (_, i) => 6000 * (speech[(i / 6) | 0]! + raw[((i / 6) | 0) % raw.length]!));
  const ours = (await loadRnnoise()).createDenoiseState();
  const theirs = reference.createDenoiseState();
  let err = 0;
  let ref = 0;
  let worstVoice = 0;
  let voiced = 0;
  try {
    for (let at = 0; at + 480 <= input.length; at += 480) {
      const a = input.slice(at, at + 480);
      const b = input.slice(at, at + 480);
      const va = ours.processFrame(a);
      const vb = theirs.processFrame(b);
      worstVoice = Math.max(worstVoice, Math.abs(va - vb));
      if (vb > 0.5) voiced++;
      for (let i = 0; i < 480; i++) {
        err += (a[i]! - b[i]!) ** 2;
        ref += b[i]! ** 2;
      }
    }
  } finally {
    ours.destroy();
    theirs.destroy();
  }
  const agreement = 10 * Math.log10(ref / err);
  // About 50 dB: both round the activations to 8 bits; the rest is float reassociation.
  assert.ok(agreement > 40, `output agreement ${agreement.toFixed(1)} dB`);
  assert.ok(worstVoice < 0.02, `largest voice-probability difference ${worstVoice}`);
  assert.ok(voiced > 100, `${voiced} frames with voice: the speech is heard`);
});

test('RNNoise states are independent of each other and refuse misuse', async () => {
  const rnnoise = await loadRnnoise();
  const frames = Array.from({ length: 50 }, (_, k) => Float32Array.from({ length: 480 }, (_, i) => 3000 * speech[(k * 480 + i) % speech.length]! * 20));
  const run = (): Float32Array[] => {
    const s = rnnoise.createDenoiseState();
    try {
      return frames.map((f) => {
        const x = f.slice();
        s.processFrame(x);
        return x;
      });
    } finally {
      s.destroy();
    }
  };
  const first = run();
  const others = Array.from({ length: 100 }, () => rnnoise.createDenoiseState());
  for (const o of others) o.processFrame(frames[0]!.slice());
  const again = run();
  for (const o of others) o.destroy();
  assert.deepEqual(again, first);
  const done = rnnoise.createDenoiseState();
  done.destroy();
  assert.throws(() => done.processFrame(new Float32Array(480)), /after destroy/);
  const s = rnnoise.createDenoiseState();
  assert.throws(() => s.processFrame(new Float32Array(100)), /480 samples/);
  assert.throws(() => s.processUpsampled(new Float32Array(100), 1, new Float32Array(480)), /a frame needs 133 samples and gives 480/);
  s.destroy();
  assert.throws(() => rnnoise.downsample(new Float32Array(100), new Float32Array(10)), /10 samples need 375 at 48 kHz/);
});

test('RNNoise as a separator: speech of real speech + real water noise improves, stems add up to the mixture', async () => {
  const system = await rnnoiseSystem();
  for (const e of water.slice(0, 2)) {
    const raw = await readPcm(join(TEST_AUDIO_DIR, e.pcm!));
    const noise = Float32Array.from({ length: speech.length }, (_, i) => raw[i % raw.length]!);
    // 0 dB SNR.
    const g = Math.sqrt(speech.reduce((a, v) => a + v * v, 0) / noise.reduce((a, v) => a + v * v, 0));
    for (let i = 0; i < noise.length; i++) noise[i]! *= g;
    const mixture = speech.map((v, i) => v + noise[i]!);
    const stems = await system.separate(mixture);
    assert.deepEqual([stems.speech.length, stems.env.length], [mixture.length, mixture.length]);
    let worst = 0;
    for (let i = 0; i < mixture.length; i++) worst = Math.max(worst, Math.abs(stems.speech[i]! + stems.env[i]! - mixture[i]!));
    assert.ok(worst < 1e-6, `stems sum to the mixture (max error ${worst})`);
    const speechGain = siSdr(stems.speech, speech) - siSdr(mixture, speech);
    const envGain = siSdr(stems.env, noise) - siSdr(mixture, noise);
    // About 9 dB each on these recordings.
    assert.ok(speechGain > 5 && envGain > 5, `${e.file}: SI-SDRi speech ${speechGain.toFixed(2)} dB, env ${envGain.toFixed(2)} dB`);
  }
});

test('RNNoise streamed in pieces of any size gives the samples of one pass, and a reader moving forward reads each sample once', async () => {
  const whole = await rnnoiseDenoise(speech);
  const gain = rnnoiseGain(Math.sqrt(speech.reduce((a, v) => a + v * v, 0) / speech.length));
  const stream = await RnnoiseStream.open(gain);
  const pieces: Float32Array[] = [];
  const sizes = [1, 7, 479, 480, 481, 5000, 3];
  for (let at = 0, k = 0; at < speech.length; k++) {
    const n = Math.min(sizes[k % sizes.length]!, speech.length - at);
    pieces.push(stream.push(speech.subarray(at, at + n)));
    at += n;
  }
  pieces.push(stream.end());
  stream.dispose();
  const streamed = new Float32Array(pieces.reduce((a, p) => a + p.length, 0));
  pieces.reduce((at, p) => (streamed.set(p, at), at + p.length), 0);
  assert.deepEqual(streamed, whole);
  assert.throws(() => stream.push(speech.subarray(0, 10)), /push after end/);

  const reads: [number, number][] = [];
  const reader = await RnnoiseReader.open(speech.length, gain, (start, count) => (reads.push([start, count]), speech.subarray(start, start + count)));
  // Overlapping windows, as separation reads them.
  for (const [start, count] of [[0, 16000], [12000, 16000], [speech.length - 16000, 16000]] as const) {
    assert.deepEqual(await reader.read(start, count), whole.subarray(start, start + count), `samples [${start}, ${start + count})`);
  }
  await assert.rejects(reader.read(0, 10), /behind the last read/);
  reader.dispose();
  const fed = reads.reduce((a, [, n]) => a + n, 0);
  assert.equal(fed, speech.length, 'every input sample read once');
  await assert.rejects(RnnoiseStream.open(rnnoiseGain(0)), /gain must be positive and finite/);
});

test('the reader says where RNNoise hears no voice: real water noise after real speech, by 10 ms blocks with their neighbours', async () => {
  const raw = await readPcm(join(TEST_AUDIO_DIR, water[0]!.pcm!));
  const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
  const talk = speech.subarray(0, 3 * MODEL_RATE);
  const noise = Float32Array.from({ length: 3 * MODEL_RATE }, (_, i) => raw[i % raw.length]!);
  const level = rms(talk) / rms(noise) / 10; // the noise 20 dB below the speech
  const x = new Float32Array(talk.length + noise.length);
  x.set(talk);
  x.set(noise.map((v) => v * level), talk.length);
  for (let i = 0; i < talk.length; i++) x[i]! += noise[i]! * level;
  const rule = { below: 0.4, reachFrames: 3 };
  const reader = await RnnoiseReader.open(x.length, rnnoiseGain(rms(x)), (start, count) => x.subarray(start, start + count));
  // Read in overlapping windows, as separation does.
  const quiet = new Uint8Array(x.length);
  for (const start of [0, 12000, 24000, x.length - 16000]) quiet.set(await reader.voiceless(start, 16000, rule), start);
  await assert.rejects(reader.voiceless(0, 10, rule), /behind the last read/);
  reader.dispose();
  const share = (from: number, to: number) => quiet.subarray(from, to).reduce((a, v) => a + v, 0) / (to - from);
  // The speech has its pauses; the last 2 s (RNNoise needs a moment to notice the voice is gone) are noise alone.
  assert.ok(share(0, talk.length) < 0.3, `voiceless in the speech: ${share(0, talk.length)}`);
  assert.ok(share(talk.length + MODEL_RATE, x.length) > 0.8, `voiceless in the noise: ${share(talk.length + MODEL_RATE, x.length)}`);
  // Whole blocks of 80 samples, with neighbours: no isolated samples.
  for (let b = 0; b < x.length / 80; b++) assert.equal(new Set(quiet.subarray(b * 80, b * 80 + 80)).size, 1, `block ${b}`);
});
