import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAudioFile, resample, writeAudioFile } from '../../../core/io/audio';
import { createAudioWriter, downmixReader, memoryReader, openAudio, resampledReader, ScratchSignal, scratchDir, type FrameReader } from '../../../core/io/stream';
import { encodeWav } from '../../../core/io/wav';
import { Rng } from '../../../core/data/random';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tilt-stream-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function noise(n: number, seed: string, amp = 0.5): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-amp, amp));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** All of a reader, read in blocks of `block` frames. */
async function readAll(r: FrameReader, block: number): Promise<Float32Array[]> {
  const out = Array.from({ length: r.channels }, () => new Float32Array(r.frames));
  for (let at = 0; at < r.frames; at += block) (await r.read(at, block)).forEach((c, i) => out[i]!.set(c, at));
  return out;
}

test('a WAV file is read from disk in any stretch, giving the samples readAudioFile gives', async () => {
  const path = join(dir, 'stereo.wav');
  const chans = [noise(30_001, 'l'), noise(30_001, 'r')];
  // A LIST chunk in front of the data, as recorders write.
  const wav = encodeWav(chans, 44100, { bits: 24, float: false });
  const list = new Uint8Array(8 + 100);
  list.set([0x4c, 0x49, 0x53, 0x54, 100, 0, 0, 0]);
  const bytes = new Uint8Array(wav.length + list.length);
  bytes.set(wav.subarray(0, 36));
  bytes.set(list, 36);
  bytes.set(wav.subarray(36), 36 + list.length);
  new DataView(bytes.buffer).setUint32(4, bytes.length - 8, true);
  await writeFile(path, bytes);
  const whole = await readAudioFile(path);
  const r = await openAudio(path);
  try {
    assert.deepEqual([r.sampleRate, r.channels, r.frames], [44100, 2, 30_001]);
    const got = await readAll(r, 4097);
    for (let c = 0; c < 2; c++) assert.equal(maxAbsDiff(got[c]!, whole.channels[c]!), 0);
    const tail = await r.read(29_990, 100);
    assert.equal(tail[0]!.length, 11, 'a read past the end is cut short');
  } finally {
    await r.close();
  }
});

test('openAudio reports bad files as readAudioFile does, naming them', async () => {
  await assert.rejects(openAudio(join(dir, 'nope.wav')), /nope\.wav: file not found/);
  const truncated = join(dir, 'truncated.wav');
  await writeFile(truncated, encodeWav([noise(1000, 't')], 8000, { bits: 16, float: false }).subarray(0, 1000));
  await assert.rejects(openAudio(truncated), /truncated\.wav: truncated: data chunk declares 2000 bytes but only 956 are present/);
  const nan = join(dir, 'nan.wav');
  const x = noise(8000, 'n');
  x[4000] = NaN;
  await writeFile(nan, encodeWav([x], 8000, { bits: 32, float: true }));
  const r = await openAudio(nan);
  await assert.rejects(r.read(0, 8000), /nan\.wav: NaN\/Inf samples \(first at 0\.500 s\)/);
  await r.close();
});

test('a resampled reader read in blocks gives what resampling the whole signal gives', async () => {
  const long = noise(44100 * 3 + 17, 'resample');
  for (const [from, to, quality] of [[44100, 8000, 'fast'], [8000, 44100, 'fast'], [48000, 8000, 'fast'], [22050, 16000, 'medium']] as const) {
    // libsamplerate (medium) starts a converter per read, hundreds of ms each: a shorter signal crosses enough block edges.
    const x = quality === 'medium' ? long.subarray(0, 22050 + 17) : long;
    const src = memoryReader({ sampleRate: from, channels: [x] });
    const whole = await resample(x, from, to, quality);
    const r = resampledReader(src, to, quality);
    assert.equal(r.frames, whole.length);
    for (const block of [1000, 7919]) {
      const got = (await readAll(r, block))[0]!;
      assert.ok(maxAbsDiff(got, whole) < 1e-6, `${from} -> ${to} (${quality}) in blocks of ${block}: ${maxAbsDiff(got, whole)}`);
    }
  }
});

test('downmix and scratch signals', async () => {
  const [a, b] = [noise(1000, 'a'), noise(1000, 'b')];
  const mono = (await downmixReader(memoryReader({ sampleRate: 8000, channels: [a, b] })).read(10, 5))[0]!;
  assert.ok(maxAbsDiff(mono, a.subarray(10, 15).map((v, i) => (v + b[10 + i]!) / 2)) < 1e-7);
  const s = await scratchDir(dir);
  const sig = await ScratchSignal.create(s.dir, 'x.f32', 8000);
  await sig.append(a.subarray(0, 300));
  await sig.append(a.subarray(300));
  assert.equal(sig.frames, 1000);
  assert.equal(maxAbsDiff((await sig.read(250, 100))[0]!, a.subarray(250, 350)), 0);
  await sig.close();
  await s.remove();
  assert.ok(!(await readdir(dir)).includes(s.dir.split('/').pop()!), 'the scratch folder is gone');
});

test('writers stream WAV and FLAC to disk, refuse to replace a file unless asked, and leave nothing when aborted', async () => {
  const chans = [noise(20_000, 'wl', 0.9), noise(20_000, 'wr', 0.9)];
  for (const format of ['wav16', 'wav24', 'wav32f', 'flac'] as const) {
    const path = join(dir, `w.${format}.${format === 'flac' ? 'flac' : 'wav'}`);
    const w = await createAudioWriter(path, 2, 44100, format, { frames: 20_000 });
    for (let at = 0; at < 20_000; at += 3001) await w.write(chans.map((c) => c.subarray(at, at + 3001)));
    await w.close();
    const back = await readAudioFile(path);
    assert.deepEqual([back.sampleRate, back.channels.length, back.channels[0]!.length], [44100, 2, 20_000]);
    const step = format === 'wav16' ? 2 ** -15 : format === 'wav32f' ? 0 : 2 ** -23;
    for (let c = 0; c < 2; c++) assert.ok(maxAbsDiff(back.channels[c]!, chans[c]!) <= step / 2 + 1e-7, `${format}: ${maxAbsDiff(back.channels[c]!, chans[c]!)}`);
    // Whole-file writing gives the same bytes.
    const ref = join(dir, `ref.${format}`);
    await writeAudioFile(ref, chans, 44100, format);
    assert.equal(maxAbsDiff((await readAudioFile(ref)).channels[1]!, back.channels[1]!), 0);
  }
  const existing = join(dir, 'w.wav16.wav');
  const w = await createAudioWriter(existing, 1, 8000, 'wav16');
  await w.write([new Float32Array(10)]);
  await assert.rejects(w.close(), /already exists; pass overwrite/);
  const replaced = await createAudioWriter(existing, 1, 8000, 'wav16', { overwrite: true });
  await replaced.write([new Float32Array(10)]);
  await replaced.close();
  assert.equal((await readAudioFile(existing)).channels[0]!.length, 10);
  const gone = await createAudioWriter(join(dir, 'aborted.wav'), 1, 8000, 'wav16');
  await gone.write([new Float32Array(10)]);
  await assert.rejects(gone.write([Float32Array.of(NaN)]), /NaN\/Inf sample at index 10/);
  await gone.abort();
  assert.deepEqual((await readdir(dir)).filter((f) => f.includes('aborted') || f.endsWith('.tmp')), []);
  // Two FLAC stems being written when an export is cancelled: both files go.
  const pair = await Promise.all(['a', 'b'].map((n) => createAudioWriter(join(dir, `cancelled-${n}.flac`), 1, 8000, 'flac', { frames: 8000 })));
  for (const w of pair) await w.write([noise(4000, 'c', 0.5)]);
  for (const w of pair) await w.abort();
  assert.deepEqual((await readdir(dir)).filter((f) => f.includes('cancelled') || f.endsWith('.tmp')), []);
});
