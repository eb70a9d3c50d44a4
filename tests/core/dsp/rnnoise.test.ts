// The RNNoise baseline on real recordings of the CI test split: its delay is undone to the sample,
// stems are as long as the mixture and add up to it, and it removes real noise from real speech.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readPcm } from '../../../core/data/manifest';
import type { CorpusEntry } from '../../../core/data/manifest';
import { rnnoiseDenoise } from '../../../core/dsp/rnnoise';
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
