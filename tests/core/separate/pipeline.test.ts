// Long recordings at 48 kHz stereo go through in bounded memory, with progress through every pass.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend';
import { resample } from '../../../core/io/audio';
import { createAudioWriter, openAudio } from '../../../core/io/stream';
import { separateFile } from '../../../core/separate/files';
import type { SeparationStage } from '../../../core/separate/pipeline';
import { BandSplitSeparator, longSpeech } from './fixtures';

const RATE = 48000;
let dir: string;
let model: BandSplitSeparator;
// One minute of real speech at 48 kHz, looped to any length.
let speech: Float32Array;

before(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'tilt-pipeline-'));
  model = new BandSplitSeparator();
  speech = await resample(longSpeech(60), 8000, RATE, 'fast');
});

after(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** A `minutes`-long 48 kHz stereo WAV written block by block, so making it costs no memory either. */
async function stereoFile(name: string, minutes: number): Promise<string> {
  const path = join(dir, name);
  const w = await createAudioWriter(path, 2, RATE, 'wav16');
  const n = minutes * 60 * RATE;
  for (let at = 0; at < n; at += speech.length) {
    const len = Math.min(speech.length, n - at);
    const x = speech.subarray(0, len);
    await w.write([x.map((v, t) => 0.7 * v + 0.05 * Math.sin((at + t) / 9)), x.map((v, t) => 0.3 * v + 0.1 * Math.sin((at + t) / 9))]);
  }
  await w.close();
  return path;
}

/** Peak RSS while separating `path`, and the stages seen with their last fractions. */
async function separatePeak(path: string, out: string): Promise<{ growth: number; stages: [SeparationStage, number][] }> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const stages: [SeparationStage, number][] = [];
  await separateFile(model, path, {
    outDir: out, stemNames: ['speech', 'env'], scratchParent: dir,
    onProgress: (stage, f) => {
      peak = Math.max(peak, process.memoryUsage().rss);
      if (stages.at(-1)?.[0] === stage) stages.at(-1)![1] = f;
      else stages.push([stage, f]);
    },
  });
  return { growth: peak - before, stages };
}

test('a 48 kHz stereo file of 6 minutes is separated in the memory of a 1-minute one, with progress through every pass', async () => {
  const short = await stereoFile('one.wav', 1);
  const long = await stereoFile('six.wav', 6);
  // A first run grows the heap whatever the file's length: 15 s are enough for it.
  const warm = await separatePeak(await stereoFile('warm.wav', 0.25), join(dir, 'out0'));
  const one = await separatePeak(short, join(dir, 'out1'));
  const six = await separatePeak(long, join(dir, 'out6'));
  // Decoded whole, the 6-minute input alone would be 6 * 60 * 48000 * 2 * 4 bytes = 138 MB, and each stem as much.
  const decoded = 6 * 60 * RATE * 2 * 4;
  assert.ok(six.growth < decoded / 3, `RSS grew by ${(six.growth / 1e6).toFixed(0)} MB for 6 minutes`);
  assert.ok(six.growth < one.growth + 40e6, `flat: ${(six.growth / 1e6).toFixed(0)} MB for 6 minutes vs ${(one.growth / 1e6).toFixed(0)} MB for 1`);
  for (const s of [warm, one, six]) assert.deepEqual(s.stages, [['resampling', 1], ['separating', 1], ['writing', 1]]);
  const env = await openAudio(join(dir, 'out6', 'six.env.wav'));
  assert.deepEqual([env.sampleRate, env.channels, env.frames], [RATE, 2, 6 * 60 * RATE]);
  await env.close();
  assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('tilt-')), [], 'scratch files are gone');
});
