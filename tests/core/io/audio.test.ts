import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import {
  decodeAudio, readAudioFile, downmix, resample, resampleFile, encodeAudio, writeAudioFile,
  AudioFileError, type AudioData,
} from '../../../core/io/audio';
import { loadMono } from '../../../core/io/input';
import { encodeWav } from '../../../core/io/wav';
import { ensureTestAudio, pkgFile } from '../../fixtures/test-audio';

const { WaveFile } = wavefile;

const ALLISON = 'usr/share/asterisk/sounds/en_US_f_Allison';
const WAV = () => pkgFile('asterisk-core-sounds-en-wav', `${ALLISON}/activated.wav`);
const SILENCE = () => pkgFile('asterisk-core-sounds-en-wav', `${ALLISON}/silence/1.wav`);
const OGG = () => pkgFile('minetest-data', 'usr/share/games/minetest/games/minetest_game/mods/fire/sounds/fire_large.ogg');
const MP3 = () => pkgFile('scratch', 'usr/share/scratch/Media/Sounds/Effects/Typing.mp3');
const MP3_44K = () => pkgFile('scratch', 'usr/share/scratch/Media/Sounds/Effects/WaterRunning.mp3');
const FLAC = () => pkgFile('hydrogen-data', 'usr/share/hydrogen/data/drumkits/TR808EmulationKit/808_Cymbal.flac');

let dir: string;
before(async () => {
  await ensureTestAudio();
  dir = await mkdtemp(join(tmpdir(), 'tilt-io-'));
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

/** Amplitude of the f Hz component (least-squares fit of a sine and cosine). */
function toneAmplitude(x: Float32Array, f: number, rate: number, skip = 200): number {
  let c = 0, s = 0, n = 0;
  for (let i = skip; i < x.length - skip; i++) {
    c += x[i]! * Math.cos((2 * Math.PI * f * i) / rate);
    s += x[i]! * Math.sin((2 * Math.PI * f * i) / rate);
    n++;
  }
  return (2 * Math.hypot(c, s)) / n;
}

/** Real stereo at 44.1 kHz: a Debian MP3 on the left, a Debian Ogg Vorbis on the right. */
async function realStereo(): Promise<AudioData> {
  const left = (await readAudioFile(MP3_44K())).channels[0]!;
  const right = (await readAudioFile(OGG())).channels[0]!.slice(0, left.length);
  return { sampleRate: 44100, channels: [left, right] };
}

test('decodes a real 16-bit WAV exactly like an independent decoder (wavefile)', async () => {
  const bytes = new Uint8Array(await readFile(WAV()));
  const a = await decodeAudio(bytes, WAV());
  const ref = new WaveFile(bytes);
  const ints = ref.getSamples(false, Float64Array) as unknown as Float64Array;
  assert.equal(a.sampleRate, 8000);
  assert.equal(a.channels.length, 1);
  assert.equal(a.channels[0]!.length, ints.length);
  for (let i = 0; i < ints.length; i++) assert.equal(a.channels[0]![i], ints[i]! / 32768);
  assert.ok(rms(a.channels[0]!) > 0.01, 'real speech is audible');
});

test('decodes real Ogg Vorbis, MP3 and FLAC files from Debian packages', async () => {
  const ogg = await readAudioFile(OGG());
  assert.equal(ogg.sampleRate, 44100);
  assert.ok(ogg.channels[0]!.length > 44100 * 5, 'ogg length');
  const mp3 = await readAudioFile(MP3());
  assert.equal(mp3.sampleRate, 22050);
  assert.equal(mp3.channels.length, 1);
  const mp3b = await readAudioFile(MP3_44K());
  assert.equal(mp3b.sampleRate, 44100);
  assert.equal(mp3b.channels.length, 1); // mpg123's copy of the single channel is dropped
  const flac = await readAudioFile(FLAC());
  assert.equal(flac.sampleRate, 44100);
  assert.equal(flac.channels[0]!.length, 40005); // STREAMINFO total samples (`file` agrees)
  for (const a of [ogg, mp3, mp3b, flac]) {
    assert.ok(rms(a.channels[0]!) > 1e-3, 'audible');
    // MP3 decoders overshoot full scale a little on loud material (Typing.mp3 peaks at 1.2).
    assert.ok(a.channels.every((ch) => ch.every((v) => Math.abs(v) <= 1.5)), 'in range');
  }
  // A 16-bit FLAC decodes onto the same 2^-15 grid as a 16-bit WAV.
  assert.ok(flac.channels[0]!.every((v) => Math.abs(v * 32768 - Math.round(v * 32768)) < 1e-3), '16-bit grid');
});

test('WAV variants made from real audio round-trip: 8/16/24/32-bit PCM, float 32/64, stereo, extensible', async () => {
  const speech = (await readAudioFile(WAV())).channels[0]!;
  const ogg = (await readAudioFile(OGG())).channels[0]!.subarray(0, speech.length);
  const stereo = [speech, Float32Array.from(ogg)];
  for (const [bits, float] of [[8, false], [16, false], [24, false], [32, false], [32, true], [64, true]] as const) {
    for (const extensible of [false, true]) {
      const bytes = encodeWav(stereo, 8000, { bits, float, extensible });
      const back = await decodeAudio(bytes, `variant-${bits}${float ? 'f' : ''}.wav`);
      assert.equal(back.sampleRate, 8000);
      assert.equal(back.channels.length, 2);
      const tol = float ? 0 : 2 ** -(bits - 1);
      for (let c = 0; c < 2; c++) assert.ok(maxAbsDiff(back.channels[c]!, stereo[c]!) <= tol, `${bits}-bit ${float} ch${c}`);
    }
  }
  // Six channels default to WAVE_FORMAT_EXTENSIBLE (tag 0xFFFE) and decode back.
  const six = Array.from({ length: 6 }, (_, k) => Float32Array.from(speech, (v) => v * (k + 1) / 6));
  const bytes6 = encodeWav(six, 8000, { bits: 24, float: false });
  assert.equal(new DataView(bytes6.buffer).getUint16(20, true), 0xfffe);
  const back6 = await decodeAudio(bytes6, 'six.wav');
  assert.equal(back6.channels.length, 6);
  assert.ok(maxAbsDiff(back6.channels[5]!, six[5]!) <= 2 ** -23, 'six-channel round trip');
});

test('our WAV encoder and an independent one (wavefile) agree both ways', async () => {
  const speech = (await readAudioFile(WAV())).channels[0]!;
  const ours = await encodeAudio([speech], 8000, 'wav24');
  const theirs = new WaveFile(ours);
  assert.equal(theirs.bitDepth, '24');
  const ints = theirs.getSamples(false, Float64Array) as unknown as Float64Array;
  for (let i = 0; i < speech.length; i += 97) assert.equal(ints[i], Math.round(speech[i]! * 8388608));
  const w = new WaveFile();
  w.fromScratch(1, 8000, '32', Int32Array.from(speech, (v) => Math.round(v * 2 ** 31)));
  const back = await decodeAudio(w.toBuffer(), 'wavefile-32.wav');
  assert.ok(maxAbsDiff(back.channels[0]!, speech) < 1e-9, 'wavefile 32-bit');
});

test('encodeAudio round-trips real audio in every export format, FLAC included', async () => {
  const a = await realStereo();
  for (const [format, tol] of [['wav16', 2 ** -15], ['wav24', 2 ** -23], ['wav32f', 0], ['flac', 2 ** -23]] as const) {
    const bytes = await encodeAudio(a.channels, a.sampleRate, format);
    const back = await decodeAudio(bytes, `x.${format}`);
    assert.equal(back.sampleRate, a.sampleRate);
    // MP3 decoding overshoots 1 here and there; PCM formats clip those peaks.
    const top = format === 'wav16' ? 32767 / 32768 : format === 'wav32f' ? Infinity : 8388607 / 8388608;
    const clip = (x: Float32Array) => Float32Array.from(x, (v) => Math.max(-1, Math.min(top, v)));
    for (let c = 0; c < 2; c++) assert.ok(maxAbsDiff(back.channels[c]!, clip(a.channels[c]!)) <= tol, format);
  }
  const flac = await encodeAudio(a.channels, a.sampleRate, 'flac');
  assert.equal(String.fromCharCode(...flac.subarray(0, 4)), 'fLaC');
  await assert.rejects(encodeAudio([new Float32Array([0, NaN])], 8000, 'wav16'), /NaN\/Inf/);
  await assert.rejects(encodeAudio([], 8000, 'wav16'), /zero channels/);
});

async function expectError(bytes: Uint8Array, name: string, reason: RegExp): Promise<void> {
  await assert.rejects(decodeAudio(bytes, name), (e: unknown) => {
    assert.ok(e instanceof AudioFileError, `expected AudioFileError, got ${String(e)}`);
    assert.equal(e.file, name);
    assert.match(e.message, new RegExp(`^${name.replace('.', '\\.')}: `));
    assert.match(e.reason, reason);
    return true;
  });
}

test('bad input: empty, truncated, corrupt header, unsupported codec, zero channels, NaN/Inf', async () => {
  const wav = new Uint8Array(await readFile(WAV()));
  const ogg = new Uint8Array(await readFile(OGG()));
  const flac = new Uint8Array(await readFile(FLAC()));
  await expectError(new Uint8Array(0), 'empty.wav', /^empty file$/);
  await expectError(wav.subarray(0, 8), 'tiny.wav', /truncated/);
  await expectError(wav.subarray(0, wav.length - 1000), 'cut.wav', /truncated: data chunk declares/);
  await expectError(ogg.subarray(0, ogg.length - 500), 'cut.ogg', /truncated/);
  await expectError(flac.subarray(0, flac.length - 5000), 'cut.flac', /truncated: \d+ of 40005 samples/);
  const noFmt = wav.slice();
  noFmt.set([0x6a, 0x75, 0x6e, 0x6b], 12); // 'fmt ' -> 'junk'
  await expectError(noFmt, 'nofmt.wav', /corrupt header: no fmt chunk/);
  const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff);
  await expectError(garbage, 'noise.bin', /unsupported format/);
  const flacGarbage = garbage.slice();
  flacGarbage.set([0x66, 0x4c, 0x61, 0x43], 0);
  await expectError(flacGarbage, 'garbage.flac', /corrupt|truncated/);
  const adpcm = wav.slice();
  new DataView(adpcm.buffer).setUint16(20, 0x0011, true);
  await expectError(adpcm, 'adpcm.wav', /unsupported codec: WAV IMA ADPCM/);
  const zero = wav.slice();
  new DataView(zero.buffer).setUint16(22, 0, true);
  await expectError(zero, 'zero.wav', /zero channels/);
  const speech = (await decodeAudio(wav, 'ok.wav')).channels[0]!.slice();
  speech[4000] = NaN;
  await expectError(encodeWav([speech], 8000, { bits: 32, float: true }), 'nan.wav', /NaN\/Inf samples \(first at 0\.500 s\)/);
  speech[4000] = Infinity;
  await expectError(encodeWav([speech], 8000, { bits: 64, float: true }), 'inf.wav', /NaN\/Inf/);
  const opus = ogg.slice(0, 200);
  opus.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64], 28); // first packet 'OpusHead'
  opus.set([0, 0, 0, 0, 0, 0, 0], 36);
  await expectError(opus, 'x.opus', /unsupported codec: Ogg Opus/);
  await assert.rejects(readAudioFile(join(dir, 'missing.wav')), /missing\.wav: file not found/);
});

test('loadMono rejects a real silence-only prompt unless told not to, and resamples to 8 kHz', async () => {
  await assert.rejects(loadMono(SILENCE()), (e: unknown) => e instanceof AudioFileError && e.reason === 'silence only');
  const quiet = await loadMono(SILENCE(), 8000, { rejectSilence: false });
  assert.equal(quiet.length, 8000);
  const ogg = await readAudioFile(OGG());
  const mono = await loadMono(OGG());
  assert.equal(mono.length, Math.round((ogg.channels[0]!.length * 8000) / 44100));
  const stereo = await realStereo();
  const mixed = downmix(stereo);
  assert.equal(mixed[1000], Math.fround((stereo.channels[0]![1000]! + stereo.channels[1]![1000]!) / 2));
});

test('resampling 44.1k -> 8k keeps a 1 kHz tone and removes a 6 kHz one (band-limited)', async () => {
  const n = 44100;
  const tone = (f: number) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * f * i) / 44100));
  const y1 = await resample(tone(1000), 44100, 8000);
  assert.equal(y1.length, 8000);
  assert.ok(Math.abs(toneAmplitude(y1, 1000, 8000) - 0.5) < 1e-3, '1 kHz amplitude kept');
  // Every sample away from the edges is the sine at 8 kHz (time-aligned, same frequency).
  for (let i = 200; i < 7800; i++) assert.ok(Math.abs(y1[i]! - 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 8000)) < 1e-3, `sample ${i}`);
  const y6 = await resample(tone(6000), 44100, 8000);
  // Linear interpolation would alias 6 kHz to 2 kHz at about -6 dB; a proper low-pass leaves < -60 dB.
  assert.ok(rms(y6.subarray(200, 7800)) < 0.5 * 1e-3, '6 kHz removed');
  const up = await resample(y1, 8000, 44100);
  assert.equal(up.length, 44100);
  assert.ok(Math.abs(toneAmplitude(up, 1000, 44100, 2000) - 0.5) < 2e-3, 'upsampled amplitude');
  const same = tone(1000);
  assert.equal(await resample(same, 44100, 44100), same);
  await assert.rejects(resample(same, 0, 8000), /invalid sample rate/);
});

test('resampling works at any rate and length: 95 s at 11,025 Hz, 5 Hz, 384 kHz, up to 768 kHz, with progress', async () => {
  const cases: [from: number, to: number, seconds: number, hz: number][] = [
    [11025, 8000, 95, 440], [5, 8000, 20, 1], [384000, 8000, 1, 440], [352800, 16000, 1, 440], [8000, 768000, 0.5, 440], [44100, 48000, 1, 1000],
  ];
  for (const [from, to, seconds, hz] of cases) {
    const x = Float32Array.from({ length: Math.round(from * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / from));
    const fractions: number[] = [];
    const y = await resample(x, from, to, 'medium', (f) => fractions.push(f));
    const what = `${from} -> ${to} Hz`;
    assert.equal(y.length, Math.round((x.length * to) / from), what);
    assert.ok(Math.abs(toneAmplitude(y, hz, to, Math.floor(y.length / 20)) - 0.5) < 5e-3, `${what}: the tone's amplitude is kept`);
    assert.ok(fractions.length > 0 && fractions.at(-1) === 1, `${what}: progress reaches 1`);
    assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), `${what}: progress only grows`);
  }
  await assert.rejects(resample(new Float32Array(10), 8000, 768001), /invalid sample rate 768001/);
});

test('a long 11,025 Hz file loads; an unreadable rate and a failed resampling name the file', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'tilt-rates-'));
  try {
    const long = join(tmp, 'long-11025.wav');
    const n = 11025 * 95;
    await writeFile(long, encodeWav([Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 300 * i) / 11025))], 11025, { bits: 16, float: false }));
    const fractions: number[] = [];
    const mono = await loadMono(long, 8000, { quality: 'medium', onProgress: (f) => fractions.push(f) });
    assert.equal(mono.length, Math.round((n * 8000) / 11025));
    assert.equal(fractions.at(-1), 1);
    const tooFast = encodeWav([new Float32Array(1000).fill(0.1)], 8000, { bits: 16, float: false });
    new DataView(tooFast.buffer, tooFast.byteOffset).setUint32(24, 1_000_000, true);
    await expectError(tooFast, 'fast.wav', /unsupported sample rate 1000000 Hz/);
    await assert.rejects(resampleFile('x.wav', new Float32Array(10), 8000, 0), (e: unknown) => e instanceof AudioFileError && /^x\.wav: cannot resample 8000 Hz to 0 Hz/.test(e.message));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('a damaged Ogg Vorbis or MP3 stream is an error naming the file and where the audio is lost, not a shorter file', async () => {
  const ogg = new Uint8Array(await readFile(OGG()));
  const mp3 = new Uint8Array(await readFile(MP3()));
  const damaged = (b: Uint8Array, at: number, n: number) => {
    const c = b.slice();
    for (let i = 0; i < n; i++) c[Math.floor(b.length * at) + i] = (i * 31 + 7) & 0xff;
    return c;
  };
  // 64 bytes inside the stream: the decoders skip them and report nothing.
  await expectError(damaged(ogg, 0.3, 64), 'hit.ogg', /^corrupt Ogg page at byte \d+ \(checksum mismatch; audio after \d+\.\d+ s is damaged\)$/);
  await expectError(damaged(mp3, 0.3, 64), 'hit.mp3', /^corrupt MP3 data: \d+ bytes unreadable at byte \d+ \(audio after \d+\.\d+ s damaged\)$/);
  const holed = (b: Uint8Array) => Uint8Array.from([...b.subarray(0, Math.floor(b.length * 0.3)), ...b.subarray(Math.floor(b.length * 0.5))]);
  await expectError(holed(ogg), 'hole.ogg', /corrupt Ogg/);
  await expectError(holed(mp3), 'hole.mp3', /corrupt MP3 data/);
  await expectError(mp3.subarray(0, mp3.length - 300), 'cut.mp3', /truncated: the MPEG frame at byte \d+ is incomplete/);
});

test('a long FLAC or MP3 reports its decoding in steps up to 1, and decodes to the same samples as in one go', async () => {
  // 30 s of 44.1 kHz stereo noise: a FLAC of several MB. FLAC is lossless, so it decodes to the WAV's samples.
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.8;
  const channels = [0, 1].map(() => Float32Array.from({ length: 30 * 44100 }, noise));
  await writeAudioFile(join(dir, 'long.flac'), channels, 44100, 'flac');
  await writeAudioFile(join(dir, 'long.wav'), channels, 44100, 'wav24');
  const fractions: number[] = [];
  const flac = await readAudioFile(join(dir, 'long.flac'), (f) => fractions.push(f));
  assert.ok(fractions.length >= 3, `${fractions.length} reports`);
  assert.deepEqual([...fractions].sort((a, b) => a - b), fractions, 'fractions only grow');
  assert.equal(fractions.at(-1), 1);
  const wav = await readAudioFile(join(dir, 'long.wav'));
  assert.equal(flac.sampleRate, 44100);
  assert.deepEqual(flac.channels, wav.channels);

  // An MP3 stream of 40 times a real MP3's frames (2.4 MB), fed in chunks: mpg123 keeps its state between them.
  const one = await readFile(pkgFile('scratch', 'usr/share/scratch/Media/Sounds/Music Loops/Cave.mp3'));
  const id3 = 10 + (((one[6]! & 0x7f) << 21) | ((one[7]! & 0x7f) << 14) | ((one[8]! & 0x7f) << 7) | (one[9]! & 0x7f));
  const frames = one.subarray(id3, one.length - 128); // without the ID3v2 head and the ID3v1 tail
  const long = new Uint8Array(Buffer.concat([one.subarray(0, id3), ...Array.from({ length: 40 }, () => frames)]));
  const { MPEGDecoder } = await import('mpg123-decoder');
  const dec = new MPEGDecoder();
  await dec.ready;
  const whole = dec.decode(long);
  dec.free();
  const mp3Fractions: number[] = [];
  const mp3 = await decodeAudio(long, 'long.mp3', (f) => mp3Fractions.push(f));
  assert.deepEqual(mp3Fractions.map((f) => f.toFixed(2)), ['0.44', '0.88', '1.00']);
  assert.equal(mp3.channels[0]!.length, whole.samplesDecoded);
  assert.deepEqual(mp3.channels[0], whole.channelData[0], 'a mono MP3: mpg123\'s first channel');
});

test('writeAudioFile never overwrites unless asked', async () => {
  const a: AudioData = await readAudioFile(WAV());
  const out = join(dir, 'stem.wav');
  await writeAudioFile(out, a.channels, a.sampleRate, 'wav16');
  await assert.rejects(writeAudioFile(out, a.channels, a.sampleRate, 'wav24'), /stem\.wav: already exists; pass overwrite/);
  assert.deepEqual((await readAudioFile(out)).channels, a.channels); // untouched
  await writeAudioFile(out, a.channels, a.sampleRate, 'wav32f', { overwrite: true });
  assert.equal(new WaveFile(await readFile(out)).bitDepth, '32f');
  await rm(dir, { recursive: true, force: true });
});
