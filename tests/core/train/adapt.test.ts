// Adapting a model to one recording: the recording's sound where RNNoise hears no voice is what it
// is tuned on, the tuned copy separates mixtures of that sound better than the model did, the model
// itself is left as it was, and no tensor outlives the copy. Real recordings of the CI test split.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import { readPcm } from '../../../core/data/manifest';
import type { CorpusEntry } from '../../../core/data/manifest';
import { Mixer, type Clip } from '../../../core/data/mixer';
import { siSdr } from '../../../core/losses';
import { createSudoRmRf, type SudoRmRf } from '../../../core/models/sudormrf';
import { separateSignal, SeparationAbortedError } from '../../../core/separate/separate';
import { AdaptAbortedError, adaptModel, soundWithoutVoice, type AdaptReport } from '../../../core/train/adapt';
import { MODEL_RATE } from '../../../core/types';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';
import { TinySeparator } from './tinySeparator';

let speech: Clip[];
let water: Float32Array;
const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
const small = (): SudoRmRf => {
  const m = createSudoRmRf({ nSources: 2, nBlocks: 1, upsamplingDepth: 2, encBasis: 32, encKernel: 21, bottleneck: 16, hidden: 32, dwKernel: 5 }, 3);
  m.fixedSlots = true;
  return m;
};

before(async () => {
  await initBackend('wasm');
  const { entries } = await ensureTestAudio();
  const load = async (e: CorpusEntry): Promise<Clip> => ({ id: e.file, class: e.class, label: e.label, split: e.split, audio: await readPcm(join(TEST_AUDIO_DIR, e.pcm!)) });
  speech = await Promise.all(entries.filter((e) => e.class === 'speech' && e.split === 'test').slice(0, 12).map(load));
  const waters = entries.filter((e) => e.split === 'test' && /env_sounds_water\.\d\.ogg$/.test(e.file));
  water = (await load(waters[0]!)).audio;
  assert.ok(water.length >= 2 * MODEL_RATE, 'a water recording of 2 s or more');
});

test('the sound without voice is the noise after the speech, not the speech', async () => {
  const talk = new Float32Array(3 * MODEL_RATE);
  for (let c = 0, at = 0; at < talk.length; c++) {
    const part = speech[c % speech.length]!.audio.subarray(0, talk.length - at);
    talk.set(part, at);
    at += part.length;
  }
  const noise = Float32Array.from({ length: 3 * MODEL_RATE }, (_, i) => water[i % water.length]!);
  const level = rms(talk) / rms(noise) / 10;
  const x = new Float32Array(talk.length + noise.length);
  x.set(talk);
  for (let i = 0; i < noise.length; i++) x[talk.length + i] = noise[i]! * level;
  const sound = await soundWithoutVoice(x.length, (start, count) => x.subarray(start, start + count), rms(x), { below: 0.2, reachFrames: 10 });
  // The input's own samples, in order: where each one was taken from.
  const from: number[] = [];
  for (let j = 0, i = 0; i < sound.length; i++, j++) {
    while (j < x.length && x[j] !== sound[i]) j++;
    assert.ok(j < x.length, `kept sample ${i} is not the input's next one`);
    from.push(j);
  }
  const inSpeech = from.filter((j) => j < talk.length).length / MODEL_RATE;
  const inNoise = from.length / MODEL_RATE - inSpeech;
  // Most of the 3 s of noise (RNNoise takes a moment to notice the voice is gone), little of the 3 s of speech.
  assert.ok(inNoise > 1.5 && inSpeech < 0.5, `kept ${inNoise} s of the noise and ${inSpeech} s of the speech`);
  assert.equal((await soundWithoutVoice(800, () => new Float32Array(800), 0, { below: 0.2, reachFrames: 10 })).length, 0, 'silence has no sound');
  const cancelled = AbortSignal.abort();
  await assert.rejects(soundWithoutVoice(x.length, (start, count) => x.subarray(start, start + count), rms(x), { below: 0.2, reachFrames: 10 }, cancelled), AdaptAbortedError);
});

test('adapting tunes a copy on mixtures of the sound: it separates them better, the model is unchanged, no tensors leak', async () => {
  const model = small();
  const before = model.variables.map((v) => Float32Array.from(v.dataSync()));
  // Fixed mixtures of the same sound and speech, drawn apart from the stream adapting trains on.
  const check = new Mixer([...speech, { id: 'sound', class: 'env', label: 'sound', split: 'test', audio: water }], { segmentSeconds: 2, seed: 'check' }).fixed(8, 'check');
  const score = (m: SudoRmRf) => {
    const out = tf.tidy(() => m.apply(tf.tensor2d(check.mixture, [check.batch, check.time])).dataSync());
    const T = check.time;
    let sum = 0;
    for (let b = 0; b < check.batch; b++) {
      for (let s = 0; s < 2; s++) sum += siSdr(out.subarray((b * 2 + s) * T, (b * 2 + s + 1) * T), check.sources.subarray((b * 2 + s) * T, (b * 2 + s + 1) * T));
    }
    return sum / (2 * check.batch);
  };
  const start = score(model);
  const tensors = tf.memory().numTensors;
  const steps: number[] = [];
  const { model: adapted, report } = await adaptModel(model, water, { speech, steps: 30, learningRate: 3e-3, onStep: (done) => steps.push(done) });
  assert.ok(adapted);
  assert.deepEqual(report, { soundSeconds: water.length / MODEL_RATE, steps: 30, skipped: null });
  assert.deepEqual(steps, Array.from({ length: 30 }, (_, i) => i + 1));
  const tuned = score(adapted);
  assert.ok(tuned > start + 10, `SI-SDR on mixtures of the sound: ${start.toFixed(2)} -> ${tuned.toFixed(2)} dB`);
  assert.equal(adapted.fixedSlots, true);
  model.variables.forEach((v, i) => assert.deepEqual(v.dataSync(), before[i], `${model.weightNames[i]} unchanged`));
  adapted.dispose();
  assert.equal(tf.memory().numTensors, tensors, 'nothing left of the copy or its optimizer');
  model.dispose();
});

test('too little sound, a model that cannot be copied and a cancel are answered plainly', async () => {
  const model = small();
  const short = await adaptModel(model, water.subarray(0, MODEL_RATE), { speech });
  assert.equal(short.model, null);
  assert.match(short.report.skipped!, /1\.0 s sound without voice \(adapting needs 2 s\)/);
  const quiet = await adaptModel(model, new Float32Array(3 * MODEL_RATE), { speech });
  assert.match(quiet.report.skipped!, /no audible sound/);
  const tiny = new TinySeparator();
  await assert.rejects(adaptModel(tiny, water, { speech }), TypeError);
  tiny.dispose();
  const tensors = tf.memory().numTensors;
  const controller = new AbortController();
  await assert.rejects(adaptModel(model, water, { speech, signal: controller.signal, onStep: (done) => done === 2 && controller.abort() }), (e: unknown) => e instanceof AdaptAbortedError && /after 2 of 20 adapting steps/.test(e.message));
  assert.equal(tf.memory().numTensors, tensors, 'a cancelled copy is disposed');
  model.dispose();
});

test('separating with adapt: the report comes back, the stems add up, and a cancel while adapting is a separation cancel', async () => {
  const model = small();
  const talk = speech[0]!.audio;
  const x = new Float32Array(talk.length + 3 * MODEL_RATE);
  for (let i = 0; i < x.length; i++) x[i] = water[i % water.length]! * 0.1 + (i < talk.length ? talk[i]! : 0);
  const tensors = tf.memory().numTensors;
  let report: AdaptReport | null = null;
  const stems = await separateSignal(model, x, { adapt: { speech, steps: 3 }, onAdapted: (r) => (report = r) });
  assert.ok(report !== null && (report as AdaptReport).steps === 3 && (report as AdaptReport).soundSeconds > 1, JSON.stringify(report));
  const sum = x.map((_, t) => stems[0]![t]! + stems[1]![t]!);
  assert.ok(siSdr(sum, x) > 40, 'the stems add up to the input');
  assert.equal(tf.memory().numTensors, tensors);
  const controller = new AbortController();
  await assert.rejects(
    separateSignal(model, x, { adapt: { speech, onStep: (done) => done === 1 && controller.abort() }, signal: controller.signal }),
    (e: unknown) => e instanceof SeparationAbortedError && /cancelled after 1 of 20 adapting steps/.test((e as Error).message),
  );
  assert.equal(tf.memory().numTensors, tensors);
  model.dispose();
});
