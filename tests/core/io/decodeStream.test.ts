// Compressed audio opened in bounded memory: openAudio decodes FLAC, Ogg Vorbis and MP3 a block at a
// time into float scratch files, with readAudioFile's samples and readAudioFile's refusals, and
// leaves nothing behind on close, on an error or on a cancel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AudioFileError, readAudioFile, writeAudioFile } from '../../../core/io/audio';
import { createAudioWriter, openAudio, type FrameReader } from '../../../core/io/stream';
import { Rng } from '../../../core/data/random';
import { ensureTestAudio, pkgFile } from '../../fixtures/test-audio';

const OGG = () => pkgFile('minetest-data', 'usr/share/games/minetest/games/minetest_game/mods/fire/sounds/fire_large.ogg');
const SOUNDS = 'usr/share/scratch/Media/Sounds';
const MP3 = () => pkgFile('scratch', `${SOUNDS}/Effects/Typing.mp3`);
const MP3_44K = () => pkgFile('scratch', `${SOUNDS}/Effects/WaterRunning.mp3`);
const MP3_STEREO = () => pkgFile('scratch', `${SOUNDS}/Music Loops/Eggs.mp3`);

let dir: string;
before(async () => {
  await ensureTestAudio();
  dir = await mkdtemp(join(tmpdir(), 'tilt-decode-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function noise(n: number, seed: string, amp = 0.5): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-amp, amp));
}

/** All of a reader, read in blocks of `block` frames. */
async function readAll(r: FrameReader, block: number): Promise<Float32Array[]> {
  const out = Array.from({ length: r.channels }, () => new Float32Array(r.frames));
  for (let at = 0; at < r.frames; at += block) (await r.read(at, block)).forEach((c, i) => out[i]!.set(c, at));
  return out;
}

/** An ID3v2 tag of `size` bytes after its header (cover art, say). */
function id3Tag(size: number): Uint8Array {
  const b = new Uint8Array(10 + size);
  b.set([0x49, 0x44, 0x33, 3, 0, 0, (size >> 21) & 0x7f, (size >> 14) & 0x7f, (size >> 7) & 0x7f, size & 0x7f]);
  return b;
}

let folders = 0;
/** An empty folder to hold one openAudio's scratch files, to watch them come and go. */
async function scratchParent(): Promise<string> {
  const p = join(dir, `scratch-${folders++}`);
  await mkdir(p);
  return p;
}

/** 8 s of 44.1 kHz stereo noise as FLAC (2 MB: two blocks of reading), and the same samples as 24-bit WAV. */
async function noiseFlac(): Promise<{ flac: string; wav: string }> {
  const [flac, wav] = [join(dir, 'noise.flac'), join(dir, 'noise.wav')];
  const chans = [noise(8 * 44100, 'l'), noise(8 * 44100, 'r')];
  await writeAudioFile(flac, chans, 44100, 'flac', { overwrite: true });
  await writeAudioFile(wav, chans, 44100, 'wav24', { overwrite: true });
  return { flac, wav };
}

test('FLAC, Ogg Vorbis and MP3 read through openAudio in blocks give the samples readAudioFile gives; close removes the scratch files', async () => {
  const { flac, wav } = await noiseFlac();
  // Behind an ID3 tag longer than openAudio's first read of a file.
  const tagged = join(dir, 'tagged.flac');
  await writeFile(tagged, Buffer.concat([id3Tag(100_000), await readFile(flac)]));
  const lossless = (await readAudioFile(wav)).channels;
  for (const [path, rate, channels] of [[flac, 44100, 2], [tagged, 44100, 2], [OGG(), 44100, 1], [MP3(), 22050, 1], [MP3_STEREO(), 22050, 2]] as const) {
    const whole = await readAudioFile(path);
    const parent = await scratchParent();
    const fractions: number[] = [];
    const r = await openAudio(path, (f) => fractions.push(f), { scratchParent: parent });
    try {
      assert.deepEqual([r.sampleRate, r.channels, r.frames], [rate, channels, whole.channels[0]!.length], path);
      assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), `${path}: progress only grows`);
      assert.equal(fractions.at(-1), 1, path);
      const [folder, ...others] = await readdir(parent);
      assert.deepEqual(others, [], 'one scratch folder');
      assert.deepEqual((await readdir(join(parent, folder!))).sort(), Array.from({ length: channels }, (_, c) => `channel${c}.f32`));
      for (const block of [1000, 44_101]) assert.deepEqual(await readAll(r, block), whole.channels, `${path} in blocks of ${block}`);
      if (path === flac || path === tagged) assert.deepEqual(await readAll(r, 4096), lossless, 'FLAC is lossless: the WAV of the same samples');
      const tail = await r.read(r.frames - 10, 100);
      assert.equal(tail[0]!.length, 10, 'a read past the end is cut short');
    } finally {
      await r.close();
    }
    await r.close();
    assert.deepEqual(await readdir(parent), [], `${path}: close removes the scratch files`);
  }
});

test('openAudio refuses a damaged, cut, empty or changing compressed file with readAudioFile\'s error, and leaves no scratch files', async () => {
  const { flac: flacPath } = await noiseFlac();
  const flac = new Uint8Array(await readFile(flacPath));
  const ogg = new Uint8Array(await readFile(OGG()));
  const mp3 = new Uint8Array(await readFile(MP3()));
  const damaged = (b: Uint8Array, at: number) => {
    const c = b.slice();
    for (let i = 0; i < 64; i++) c[Math.floor(b.length * at) + i] = (i * 31 + 7) & 0xff;
    return c;
  };
  const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff);
  garbage.set([0x66, 0x4c, 0x61, 0x43]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['cut.flac', flac.subarray(0, flac.length - 5000), /^truncated: \d+ of 352800 samples present$/],
    ['header-only.flac', flac.subarray(0, 42), /^truncated: 0 of 352800 samples present$/],
    ['garbage.flac', garbage, /^(corrupt|truncated)/],
    ['empty.flac', new Uint8Array(0), /^empty file$/],
    ['cut.ogg', ogg.subarray(0, ogg.length - 500), /^truncated: the Ogg page at byte \d+ is incomplete/],
    ['hit.ogg', damaged(ogg, 0.3), /^corrupt Ogg page at byte \d+ \(checksum mismatch; audio after \d+\.\d+ s is damaged\)$/],
    ['hit.mp3', damaged(mp3, 0.3), /^corrupt MP3 data: \d+ bytes unreadable at byte \d+ \(audio after \d+\.\d+ s damaged\)$/],
    ['cut.mp3', mp3.subarray(0, mp3.length - 300), /^truncated: the MPEG frame at byte \d+ is incomplete/],
    ['tag-only.mp3', id3Tag(100_000), /^truncated: ID3 tag but no audio$/],
    // Two MP3s end to end, 22,050 Hz then 44,100 Hz: the decoder's streaming API gives one rate per call.
    ['switch.mp3', new Uint8Array(Buffer.concat([mp3, await readFile(MP3_44K())])),
      /^unsupported: the sample rate changes from 22050 Hz to 44100 Hz after \d+\.\d{3} s \(Tilt reads streams of one rate and channel count\)$/],
  ];
  for (const [name, bytes, reason] of cases) {
    const path = join(dir, name);
    await writeFile(path, bytes);
    const expected = await readAudioFile(path).then(() => null, (e: unknown) => e);
    assert.ok(expected instanceof AudioFileError, `${name}: readAudioFile refuses it`);
    assert.match(expected.reason, reason, name);
    const parent = await scratchParent();
    await assert.rejects(openAudio(path, undefined, { scratchParent: parent }), (e: unknown) => {
      assert.ok(e instanceof AudioFileError, `${name}: ${String(e)}`);
      assert.equal(e.message, expected.message);
      return true;
    });
    assert.deepEqual(await readdir(parent), [], `${name}: no scratch files left`);
  }
});

test('a decoding stopped by its progress callback (a cancel) ends with that error and leaves nothing behind', async () => {
  const { flac } = await noiseFlac();
  const parent = await scratchParent();
  const cancel = new Error('cancelled');
  let calls = 0;
  await assert.rejects(openAudio(flac, () => {
    calls++;
    throw cancel;
  }, { scratchParent: parent }), (e: unknown) => e === cancel);
  assert.equal(calls, 1, 'stopped after the first block');
  assert.deepEqual(await readdir(parent), []);
});

test('a long FLAC opened and read block by block does not hold its decoded samples in memory', async () => {
  // 3 minutes of 48 kHz stereo (a tone and a little noise): 69 MB as floats, which decoding it
  // whole would hold. Written block by block, so the test itself holds 10 s at a time.
  const rate = 48_000;
  const frames = 3 * 60 * rate;
  const block = 10 * rate;
  const signal = (c: number, i: number) => 0.3 * Math.sin((2 * Math.PI * (220 + 110 * c) * i) / rate) + 0.01 * Math.sin(i * i * 1e-3);
  const path = join(dir, 'long.flac');
  const w = await createAudioWriter(path, 2, rate, 'flac', { frames });
  for (let at = 0; at < frames; at += block) await w.write([0, 1].map((c) => Float32Array.from({ length: block }, (_, i) => signal(c, at + i))));
  await w.close();

  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const live = (): number => {
    gc();
    const m = process.memoryUsage();
    return m.arrayBuffers + m.heapUsed;
  };
  const MB = 2 ** 20;
  const base = live();
  let peak = 0;
  const r = await openAudio(path, () => {
    peak = Math.max(peak, live() - base);
  }, { scratchParent: await scratchParent() });
  try {
    const held = live() - base;
    assert.deepEqual([r.sampleRate, r.channels, r.frames], [rate, 2, frames]);
    const decoded = r.frames * r.channels * 4;
    assert.ok(held < 4 * MB, `after opening, ${(held / MB).toFixed(1)} MB held (the decoded signal: ${decoded / MB} MB)`);
    for (let at = 0; at < frames; at += block) {
      const x = await r.read(at, block);
      for (const c of [0, 1]) for (let i = 0; i < block; i += 4999) assert.ok(Math.abs(x[c]![i]! - signal(c, at + i)) <= 2 ** -23, `sample ${at + i}`);
      peak = Math.max(peak, live() - base);
    }
    // What is held while decoding is a block of the file and the decoder's own heap (about 10 MB),
    // whatever the file's length.
    assert.ok(peak < 24 * MB, `at most ${(peak / MB).toFixed(1)} MB while decoding and reading (whole: ${decoded / MB} MB)`);
  } finally {
    await r.close();
  }
});
