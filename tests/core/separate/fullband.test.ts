// Stems at the input's quality: rate, channels and band kept, the stems summing to the input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend';
import { fft } from '../../../core/dsp/fft';
import { readAudioFile, writeAudioFile } from '../../../core/io/audio';
import { modelInput } from '../../../core/io/input';
import { memoryReader } from '../../../core/io/stream';
import { modelBand, splitFullBand } from '../../../core/separate/fullband';
import { separateFile } from '../../../core/separate/files';
import { separateAudio, type BlockSink } from '../../../core/separate/pipeline';
import { separateSignal } from '../../../core/separate/separate';
import { BandSplitSeparator, longSpeech, maxAbsDiff } from './fixtures';

const RATE = 44100;
let dir: string;
// Source 1 ("speech") is everything below 1 kHz, source 2 ("env") the rest.
let model: BandSplitSeparator;

before(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'tilt-fullband-'));
  model = new BandSplitSeparator();
});

after(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

const tone = (freq: number, amp: number, n: number, rate = RATE) => Float32Array.from({ length: n }, (_, t) => amp * Math.sin((2 * Math.PI * freq * t) / rate));
const add = (...xs: Float32Array[]) => xs[0]!.map((_, t) => xs.reduce((a, x) => a + x[t]!, 0));
const gain = (x: Float32Array, g: number) => x.map((v) => v * g);

/** Energy of x within ±bw Hz of freq, over its middle (away from the ends). */
function energyNear(x: Float32Array, freq: number, rate = RATE, bw = 50): number {
  let n = 1;
  while (n * 2 <= x.length) n *= 2;
  const from = (x.length - n) >> 1;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = x[from + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  fft(re, im, false);
  let e = 0;
  for (let k = Math.floor(((freq - bw) * n) / rate); k <= Math.ceil(((freq + bw) * n) / rate); k++) e += re[k]! ** 2 + im[k]! ** 2;
  return e;
}

/** A sink that keeps every block, joined per channel on demand. */
function collector(channels: number): BlockSink & { channel(c: number): Float32Array } {
  const parts: Float32Array[][] = Array.from({ length: channels }, () => []);
  return {
    write: async (block) => block.forEach((x, c) => parts[c]!.push(Float32Array.from(x))),
    channel(c) {
      const x = new Float32Array(parts[c]!.reduce((a, b) => a + b.length, 0));
      let o = 0;
      for (const b of parts[c]!) {
        x.set(b, o);
        o += b.length;
      }
      return x;
    },
  };
}

/**
 * Two channels at 44.1 kHz: a "speech" source below 1 kHz (200 and 700 Hz) and an environmental one
 * above (2.5 kHz, inside the model's band; 6 and 10 kHz, above it), panned to opposite sides.
 */
function stereoMixture(seconds: number): { channels: Float32Array[]; speech: Float32Array; env: Float32Array } {
  const n = Math.round(seconds * RATE);
  const speech = add(tone(200, 0.3, n), tone(700, 0.2, n));
  const env = add(tone(2500, 0.2, n), tone(6000, 0.1, n), tone(10_000, 0.1, n));
  return { channels: [add(gain(speech, 0.9), gain(env, 0.3)), add(gain(speech, 0.4), gain(env, 0.8))], speech, env };
}

test('the stems of a 44.1 kHz stereo file are 44.1 kHz stereo and add up to it at full band in every channel', async () => {
  // An odd length: 8 kHz and back does not land on it exactly.
  const { channels } = stereoMixture(6.01234);
  const input = join(dir, 'stereo.wav');
  await writeAudioFile(input, channels, RATE, 'wav32f');
  const res = await separateFile(model, input, { outDir: join(dir, 'out'), stemNames: ['speech', 'env'], format: 'wav32f' });
  assert.deepEqual([res.inputRate, res.outputRate, res.channels], [RATE, RATE, 2]);
  const [speech, env] = await Promise.all(res.outputs.map((p) => readAudioFile(p)));
  for (const s of [speech!, env!]) {
    assert.equal(s.sampleRate, RATE);
    assert.equal(s.channels.length, 2);
    assert.equal(s.channels[0]!.length, channels[0]!.length);
  }
  for (let c = 0; c < 2; c++) {
    const sum = add(speech!.channels[c]!, env!.channels[c]!);
    assert.ok(maxAbsDiff(sum, channels[c]!) < 1e-6, `channel ${c}: stems sum to the input within ${maxAbsDiff(sum, channels[c]!)}`);
  }
});

test('high-band tones of the environmental source end up in the environmental stem, in the channels they were in', async () => {
  const { channels, speech } = stereoMixture(4);
  const stems = [collector(2), collector(2)];
  await separateAudio(model, modelInput(memoryReader({ sampleRate: RATE, channels }), 'tones'), stems, { residual: 1 });
  assert.ok(stems.every((s) => s.channel(0).length === speech.length));
  for (let c = 0; c < 2; c++) {
    for (const f of [6000, 10_000]) {
      const inInput = energyNear(channels[c]!, f);
      const inEnv = energyNear(stems[1]!.channel(c), f) / inInput;
      const inSpeech = energyNear(stems[0]!.channel(c), f) / inInput;
      assert.ok(inEnv > 0.99, `channel ${c}: the env stem holds ${(100 * inEnv).toFixed(2)}% of the ${f} Hz tone`);
      assert.ok(inSpeech < 1e-3, `channel ${c}: the speech stem holds ${(100 * inSpeech).toFixed(3)}% of it`);
    }
    // The low tones stay with speech.
    assert.ok(energyNear(stems[0]!.channel(c), 200) / energyNear(channels[c]!, 200) > 0.99);
  }
});

test('above the model band a stem takes what the source dominating the top of the band has there, up to 8 kHz', () => {
  // Speech with energy at the top of the model band (3 kHz) and a 6 kHz partial; env with a 12 kHz
  // hiss-like tone and a 5 kHz one that comes in when speech stops. The guide is the speech itself.
  const n = 4 * RATE;
  const during = (x: Float32Array, from: number, to: number) => x.map((v, t) => (t >= from * RATE && t < to * RATE ? v : 0));
  const speech = during(add(tone(3000, 0.2, n), tone(6000, 0.1, n)), 0, 2);
  const env = add(tone(12_000, 0.05, n), during(tone(5000, 0.1, n), 2, 4));
  const x = add(speech, env);
  const [s, e] = splitFullBand([x], [speech], { rate: RATE, nStems: 2, residual: 1 }).map((st) => st[0]!);
  const first = (a: Float32Array) => a.subarray(0, 2 * RATE - 4096);
  const second = (a: Float32Array) => a.subarray(2 * RATE + 4096);
  const share = (stem: Float32Array, part: (a: Float32Array) => Float32Array, f: number) => energyNear(part(stem), f) / energyNear(part(x), f);
  assert.ok(share(s!, first, 6000) > 0.99, `speech keeps its 6 kHz partial: ${share(s!, first, 6000)}`);
  assert.ok(share(e!, first, 12_000) > 0.99, `12 kHz (above 8 kHz) stays environmental while speech talks: ${share(e!, first, 12_000)}`);
  assert.ok(share(e!, second, 5000) > 0.99, `with speech silent the 5 kHz tone is environmental: ${share(e!, second, 5000)}`);
});

test('in the model band each channel gets the model stems carried by the mask; a mono input at the model rate gets them unchanged', async () => {
  const x = longSpeech(6);
  const stems = await separateSignal(model, x);
  const [speech, env] = splitFullBand([x], [stems[0]!], { rate: 8000, nStems: 2, residual: 1 }).map((s) => s[0]!);
  assert.ok(maxAbsDiff(speech!, stems[0]!) < 1e-5, `speech: ${maxAbsDiff(speech!, stems[0]!)}`);
  assert.ok(maxAbsDiff(env!, stems[1]!) < 1e-5, `env: ${maxAbsDiff(env!, stems[1]!)}`);
  assert.equal(modelBand(8000), 4000);
  assert.equal(modelBand(44100), 3600);
});

test("rate 'model' writes the stems at 8 kHz in the input's channels", async () => {
  const { channels } = stereoMixture(3);
  const input = join(dir, 'to-model.wav');
  await writeAudioFile(input, channels, RATE, 'wav32f');
  const res = await separateFile(model, input, { outDir: join(dir, 'model-rate'), stemNames: ['speech', 'env'], format: 'wav32f', rate: 'model' });
  const env = await readAudioFile(res.outputs[1]!);
  assert.deepEqual([env.sampleRate, env.channels.length, env.channels[0]!.length], [8000, 2, Math.round((channels[0]!.length * 8000) / RATE)]);
  // The 2.5 kHz tone is environmental sound, and 10 kHz is beyond an 8 kHz file.
  assert.ok(energyNear(env.channels[1]!, 2500, 8000) > 100 * energyNear(env.channels[1]!, 700, 8000));
});
