// Audio in and out: decoding by content (never by extension), validation with reasons a user can act
// on, downmix, band-limited resampling (libsamplerate) and encoding to WAV or FLAC.
import { sincResample } from '../dsp/sincResample';
import { readFile, link, unlink } from 'node:fs/promises';
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { MPEGDecoder } from 'mpg123-decoder';
import LibSampleRate from '@alexanderolsen/libsamplerate-js';
import { AUDIO_FORMATS, type AudioFormat } from '../types';
import { parseWav, encodeWav, isWav, WavFormatError } from './wav';
import { encodeFlac } from './flac';
import { writeFileAtomic, writeTempFile } from './atomic';
import { mpegDamage, oggDamage } from './integrity';
import { exists } from './fs';

/** Planar float audio, nominally in [-1, 1]. */
export interface AudioData {
  sampleRate: number;
  channels: Float32Array[];
}

/** Any problem with one audio file; the message is `<file>: <reason>`. */
export class AudioFileError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'AudioFileError';
  }
}

export type ContainerFormat = 'wav' | 'flac' | 'ogg-vorbis' | 'mp3';

/** Container/codec from the first bytes; throws AudioFileError for anything unsupported. */
export function detectFormat(bytes: Uint8Array, file: string): ContainerFormat {
  if (bytes.length === 0) throw new AudioFileError(file, 'empty file');
  const head = (at: number, n: number) => String.fromCharCode(...bytes.subarray(at, at + n));
  if (bytes.length < 12) throw new AudioFileError(file, `truncated: only ${bytes.length} bytes`);
  if (isWav(bytes)) return 'wav';
  if (head(0, 4) === 'RIFF' || head(0, 4) === 'RIFX' || head(0, 4) === 'RF64') {
    throw new AudioFileError(file, `unsupported format: ${head(0, 4)} container of type "${head(8, 4)}"`);
  }
  const id3 = id3Length(bytes);
  if (head(id3, 4) === 'fLaC') return 'flac';
  if (head(0, 4) === 'OggS') {
    const first = bytes.subarray(0, Math.min(bytes.length, 512));
    const text = String.fromCharCode(...first);
    if (text.includes('\x01vorbis')) return 'ogg-vorbis';
    if (text.includes('OpusHead')) throw new AudioFileError(file, 'unsupported codec: Ogg Opus');
    if (text.includes('\x7fFLAC')) throw new AudioFileError(file, 'unsupported codec: Ogg FLAC');
    throw new AudioFileError(file, 'unsupported codec: Ogg stream that is not Vorbis');
  }
  if (id3 > 0 || isMpegSync(bytes, 0)) {
    if (id3 >= bytes.length) throw new AudioFileError(file, 'truncated: ID3 tag but no audio');
    return 'mp3';
  }
  const shown = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new AudioFileError(file, `unsupported format: not WAV, FLAC, Ogg Vorbis or MP3 (starts with ${shown})`);
}

function id3Length(b: Uint8Array): number {
  if (b.length < 10 || b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return 0;
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
  return 10 + size + (b[5]! & 0x10 ? 10 : 0);
}

function isMpegSync(b: Uint8Array, at: number): boolean {
  // 11 sync bits, a valid MPEG version and layer III.
  return b[at] === 0xff && (b[at + 1]! & 0xe0) === 0xe0 && (b[at + 1]! & 0x18) !== 0x08 && (b[at + 1]! & 0x06) === 0x02;
}

/** Reports the fraction of a compressed file decoded so far (a long MP3 or FLAC takes a minute). */
export type DecodeProgress = (fraction: number) => void;

/**
 * Decodes WAV, FLAC, Ogg Vorbis or MP3 bytes and validates the samples. `onProgress` hears how far
 * the decoding of a compressed file is (WAV needs none).
 */
export async function decodeAudio(bytes: Uint8Array, file: string, onProgress?: DecodeProgress): Promise<AudioData> {
  const format = detectFormat(bytes, file);
  let audio: AudioData;
  try {
    switch (format) {
      case 'wav': audio = parseWav(bytes); break;
      case 'flac': audio = await decodeFlac(bytes, file, onProgress); break;
      case 'ogg-vorbis': audio = await decodeVorbis(bytes, file, onProgress); break;
      case 'mp3': audio = await decodeMp3(bytes, file, onProgress); break;
    }
  } catch (e) {
    if (e instanceof AudioFileError) throw e;
    if (e instanceof WavFormatError) throw new AudioFileError(file, e.message);
    throw new AudioFileError(file, `corrupt ${format} data (${(e as Error).message})`);
  }
  validate(audio, file);
  return audio;
}

/** Sample rates Tilt reads and writes (what `resample` converts between). */
export const MIN_RATE = 1;
export const MAX_RATE = 768_000;

function validate(a: AudioData, file: string): void {
  if (a.channels.length === 0) throw new AudioFileError(file, 'zero channels');
  if (!(a.sampleRate > 0)) throw new AudioFileError(file, `invalid sample rate ${a.sampleRate}`);
  if (!Number.isInteger(a.sampleRate) || a.sampleRate > MAX_RATE) {
    throw new AudioFileError(file, `unsupported sample rate ${a.sampleRate} Hz (Tilt reads ${MIN_RATE} Hz to ${MAX_RATE / 1000} kHz)`);
  }
  const n = a.channels[0]!.length;
  if (n === 0) throw new AudioFileError(file, 'empty: no audio samples');
  for (const ch of a.channels) {
    if (ch.length !== n) throw new AudioFileError(file, 'corrupt: channels of different lengths');
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(ch[i]!)) {
        throw new AudioFileError(file, `NaN/Inf samples (first at ${(i / a.sampleRate).toFixed(3)} s)`);
      }
    }
  }
}

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

/** Bytes handed to a decoder at a time: progress to report about once per MB. */
const DECODE_CHUNK = 1 << 20;

/**
 * Feeds `bytes` to a streaming decoder a chunk at a time, telling `onProgress` the fraction fed, and
 * joins what comes out: the same samples as decoding the whole at once, since the decoders keep
 * their state from chunk to chunk. The last piece with audio gives the rate (and bit depth).
 */
async function decodeInChunks<D extends Decoded>(
  bytes: Uint8Array, decode: (chunk: Uint8Array) => D | Promise<D>, flush: (() => Promise<D>) | null, onProgress?: DecodeProgress,
): Promise<D> {
  const pieces: D[] = [];
  for (let at = 0; at < bytes.length; at += DECODE_CHUNK) {
    pieces.push(await decode(bytes.subarray(at, at + DECODE_CHUNK)));
    onProgress?.(Math.min(1, (at + DECODE_CHUNK) / bytes.length));
  }
  if (flush) pieces.push(await flush());
  const withAudio = pieces.filter((p) => p.samplesDecoded > 0);
  const shape = withAudio.at(-1) ?? pieces.at(-1)!;
  const samples = withAudio.reduce((n, p) => n + p.samplesDecoded, 0);
  const channelData = shape.channelData.map((_, c) => {
    const out = new Float32Array(samples);
    let at = 0;
    for (const p of withAudio) {
      out.set((p.channelData[c] ?? new Float32Array(p.samplesDecoded)).subarray(0, p.samplesDecoded), at);
      at += p.samplesDecoded;
    }
    return out;
  });
  return { ...shape, channelData, samplesDecoded: samples, errors: pieces.flatMap((p) => p.errors) };
}

async function decodeFlac(bytes: Uint8Array, file: string, onProgress?: DecodeProgress): Promise<AudioData> {
  const declared = flacTotalSamples(bytes);
  const dec = new FLACDecoder();
  await dec.ready;
  try {
    const r = await decodeInChunks(bytes, (c) => dec.decode(c), () => dec.flush(), onProgress);
    if (r.errors.length > 0) throw new AudioFileError(file, `corrupt FLAC data: ${r.errors[0]!.message}`);
    if (declared > 0 && r.samplesDecoded < declared) {
      throw new AudioFileError(file, `truncated: ${r.samplesDecoded} of ${declared} samples present`);
    }
    if (r.samplesDecoded === 0) throw new AudioFileError(file, 'corrupt or empty FLAC stream: no frames decoded');
    // The decoder divides by 2^(bits-1) - 1; use 2^(bits-1) like every PCM WAV so that the same
    // integers decode to the same floats whatever the container.
    const g = (2 ** (r.bitDepth - 1) - 1) / 2 ** (r.bitDepth - 1);
    for (const ch of r.channelData) for (let i = 0; i < ch.length; i++) ch[i]! *= g;
    return { sampleRate: r.sampleRate, channels: r.channelData };
  } finally {
    dec.free();
  }
}

/** Total samples from STREAMINFO (0 when unknown). */
function flacTotalSamples(b: Uint8Array): number {
  const at = id3Length(b) + 8; // 'fLaC' + metadata block header
  if (b.length < at + 18) return 0;
  const hi = b[at + 13]! & 0x0f;
  const lo = ((b[at + 14]! << 24) >>> 0) + (b[at + 15]! << 16) + (b[at + 16]! << 8) + b[at + 17]!;
  return hi * 2 ** 32 + lo;
}

async function decodeVorbis(bytes: Uint8Array, file: string, onProgress?: DecodeProgress): Promise<AudioData> {
  const damage = oggDamage(bytes, vorbisRate(bytes));
  if (damage) throw new AudioFileError(file, damage);
  const dec = new OggVorbisDecoder();
  await dec.ready;
  try {
    const r = await decodeInChunks(bytes, (c) => dec.decode(c), () => dec.flush(), onProgress);
    if (r.errors.length > 0) throw new AudioFileError(file, `corrupt Ogg Vorbis data: ${r.errors[0]!.message}`);
    if (r.samplesDecoded === 0) throw new AudioFileError(file, 'corrupt or empty Ogg Vorbis stream: no audio decoded');
    return { sampleRate: r.sampleRate, channels: r.channelData };
  } finally {
    dec.free();
  }
}

/** The rate in the Vorbis identification header (for the times in damage reports; 1 when unreadable). */
function vorbisRate(b: Uint8Array): number {
  const head = String.fromCharCode(...b.subarray(0, Math.min(b.length, 512)));
  const at = head.indexOf('\x01vorbis');
  if (at < 0 || at + 16 > b.length) return 1;
  return new DataView(b.buffer, b.byteOffset + at + 12, 4).getUint32(0, true) || 1;
}

async function decodeMp3(bytes: Uint8Array, file: string, onProgress?: DecodeProgress): Promise<AudioData> {
  // mpg123 skips what it cannot read and says nothing: check that the frames form an unbroken chain.
  const damage = mpegDamage(bytes, id3Length(bytes));
  if (damage) throw new AudioFileError(file, damage);
  const dec = new MPEGDecoder();
  await dec.ready;
  try {
    const r = await decodeInChunks(bytes, (c) => dec.decode(c), null, onProgress);
    if (r.errors.length > 0) throw new AudioFileError(file, `corrupt MP3 data: ${r.errors[0]!.message}`);
    if (r.samplesDecoded === 0) throw new AudioFileError(file, 'corrupt MP3 data: no frames decoded');
    // mpg123 always hands out two channels; a mono stream's are copies of one another.
    const mono = mpegIsMono(bytes);
    return { sampleRate: r.sampleRate, channels: mono ? r.channelData.slice(0, 1) : r.channelData };
  } finally {
    dec.free();
  }
}

/** Channel mode of the first frame header (after any ID3 tag) is 3 = single channel. */
function mpegIsMono(b: Uint8Array): boolean {
  const at = id3Length(b);
  return isMpegSync(b, at) && (b[at + 3]! >> 6) === 3;
}

/** A file's bytes; I/O problems are AudioFileErrors that say what went wrong. */
export async function readAudioBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory'
      : code === 'EACCES' ? 'permission denied' : `cannot read (${(e as Error).message})`;
    throw new AudioFileError(path, reason);
  }
}

/** Reads and decodes a file; I/O problems become AudioFileErrors too. */
export async function readAudioFile(path: string, onProgress?: DecodeProgress): Promise<AudioData> {
  return decodeAudio(await readAudioBytes(path), path, onProgress);
}

/** Mean of the channels. */
export function downmix(a: AudioData): Float32Array {
  const n = a.channels[0]?.length ?? 0;
  if (a.channels.length === 1) return a.channels[0]!;
  const out = new Float32Array(n);
  for (const ch of a.channels) for (let i = 0; i < n; i++) out[i]! += ch[i]!;
  const k = 1 / a.channels.length;
  for (let i = 0; i < n; i++) out[i]! *= k;
  return out;
}

/** 'best' and 'medium' run libsamplerate's sinc converters; 'fast' a windowed sinc in TypeScript (-90 dB stop band, 0.9 of Nyquist pass band), about 40x faster. */
export type ResampleQuality = 'best' | 'medium' | 'fast';
const CONVERTERS: Record<ResampleQuality, (typeof LibSampleRate.ConverterType)["SRC_SINC_FASTEST"]> = {
  best: LibSampleRate.ConverterType.SRC_SINC_BEST_QUALITY,
  medium: LibSampleRate.ConverterType.SRC_SINC_MEDIUM_QUALITY,
  fast: LibSampleRate.ConverterType.SRC_SINC_FASTEST,
};

// libsamplerate-js checks that each rate is at most 192 kHz, and libsamplerate converts by ratios
// of 1/256 to 256. Calls of more than SRC_BUFFER samples go through the binding's own chunking,
// which breaks on rates that are not multiples of 10 (11,025 Hz): blocks are cut here instead.
const SRC_MAX_RATE = 192_000;
const SRC_MAX_RATIO = 256;
const SRC_BUFFER = 1_008_000;

/** Conversion steps whose ratios libsamplerate accepts: one, or several through intermediate rates. */
function stages(from: number, to: number): [number, number][] {
  const ratio = to / from;
  if (ratio <= SRC_MAX_RATIO && ratio >= 1 / SRC_MAX_RATIO) return [[from, to]];
  const mid = Math.round(Math.sqrt(from * to));
  return [...stages(from, mid), ...stages(mid, to)];
}

/**
 * The fraction num/den, or its closest continued-fraction convergent with both terms at most `limit`.
 * Only the ratio reaches libsamplerate, so 384 kHz -> 8 kHz runs as 48 -> 1; a pair that reduces to
 * nothing smaller is off by less than 1e-10, well under a sample in an hour.
 */
function boundedRatio(num: number, den: number, limit: number): [number, number] {
  let [h0, h1, k0, k1] = [0, 1, 1, 0];
  let [a, b] = [num, den];
  while (b !== 0) {
    const q = Math.floor(a / b);
    const [h2, k2] = [q * h1 + h0, q * k1 + k0];
    if (h2 > limit || k2 > limit) break;
    [h0, h1, k0, k1] = [h1, h2, k1, k2];
    [a, b] = [b, a - q * b];
  }
  return [h1, k1];
}

async function convert(
  x: Float32Array, from: number, to: number, quality: ResampleQuality, onProgress?: (fraction: number) => void,
): Promise<Float32Array> {
  const outLen = Math.round((x.length * to) / from);
  const [t, f] = boundedRatio(to, from, SRC_MAX_RATE);
  const ratio = t / f;
  const block = Math.max(1, Math.floor(Math.min(SRC_BUFFER, SRC_BUFFER / ratio) / 2));
  // Zeros past the end flush the converter's filter so that the tail comes out; its delay is a few
  // thousand input samples, longer when downsampling.
  const maxFlush = 2 * Math.ceil(4096 / Math.min(1, ratio)) + block;
  const zeros = new Float32Array(block);
  const src = await LibSampleRate.create(1, f, t, { converterType: CONVERTERS[quality] });
  try {
    const out = new Float32Array(outLen);
    let filled = 0;
    for (let i = 0; filled < outLen; i += block) {
      if (i >= x.length + maxFlush) throw new Error(`libsamplerate stopped after ${filled} of ${outLen} samples`);
      const y = src.full(i < x.length ? x.subarray(i, Math.min(x.length, i + block)) : zeros);
      out.set(y.subarray(0, Math.min(y.length, outLen - filled)), filled);
      filled += y.length;
      if (i < x.length) onProgress?.(Math.min(1, (i + block) / x.length));
    }
    return out;
  } finally {
    src.destroy();
  }
}

/**
 * Band-limited sample-rate conversion with libsamplerate's sinc converters, between any integer
 * rates from MIN_RATE to MAX_RATE. The output has exactly round(n * toRate / fromRate) samples,
 * time-aligned with the input. Returns the input itself when the rates are equal. 'best' (the
 * default) is transparent; 'medium' (97 dB SNR, 90% bandwidth) is about 3x faster and what the
 * corpus cache uses. `onProgress` hears the fraction done after each block (long files take minutes).
 */
export async function resample(
  x: Float32Array, fromRate: number, toRate: number, quality: ResampleQuality = 'best', onProgress?: (fraction: number) => void,
): Promise<Float32Array> {
  for (const r of [fromRate, toRate]) {
    if (!Number.isInteger(r) || r < MIN_RATE || r > MAX_RATE) throw new RangeError(`invalid sample rate ${r} (rates from ${MIN_RATE} Hz to ${MAX_RATE / 1000} kHz are supported)`);
  }
  if (fromRate === toRate) return x;
  const outLen = Math.round((x.length * toRate) / fromRate);
  if (x.length === 0) return new Float32Array(0);
  if (quality === 'fast') return sincResample(x, fromRate, toRate);
  const steps = stages(fromRate, toRate);
  let y = x;
  for (const [k, [from, to]] of steps.entries()) {
    y = await convert(y, from, to, quality, onProgress && ((f) => onProgress((k + f) / steps.length)));
  }
  if (y.length === outLen) return y;
  // Each step rounds its own length; the whole conversion's length is the one promised.
  const out = new Float32Array(outLen);
  out.set(y.subarray(0, outLen));
  return out;
}

/** Peak level below which a file counts as silence (-80 dBFS). */
export const SILENCE_PEAK = 1e-4;

export function isSilent(x: Float32Array, peak = SILENCE_PEAK): boolean {
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]!) > peak) return false;
  return true;
}

/** `resample` for a file's audio: a failure names the file. */
export async function resampleFile(
  file: string, x: Float32Array, fromRate: number, toRate: number, quality?: ResampleQuality, onProgress?: (fraction: number) => void,
): Promise<Float32Array> {
  try {
    return await resample(x, fromRate, toRate, quality, onProgress);
  } catch (e) {
    throw new AudioFileError(file, `cannot resample ${fromRate} Hz to ${toRate} Hz: ${(e as Error).message}`);
  }
}

export { AUDIO_FORMATS, type AudioFormat };
export const FORMAT_EXTENSIONS: Record<AudioFormat, string> = { wav16: 'wav', wav24: 'wav', wav32f: 'wav', flac: 'flac' };

/** Encodes planar channels; PCM formats clip to [-1, 1]. FLAC is 24-bit. */
export async function encodeAudio(channels: Float32Array[], sampleRate: number, format: AudioFormat): Promise<Uint8Array> {
  if (channels.length === 0) throw new RangeError('cannot encode zero channels');
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new RangeError(`invalid sample rate ${sampleRate}`);
  const n = channels[0]!.length;
  for (const ch of channels) {
    if (ch.length !== n) throw new RangeError('channels have different lengths');
    for (let i = 0; i < n; i++) if (!Number.isFinite(ch[i]!)) throw new RangeError(`NaN/Inf sample at index ${i}`);
  }
  switch (format) {
    case 'wav16': return encodeWav(channels, sampleRate, { bits: 16, float: false });
    case 'wav24': return encodeWav(channels, sampleRate, { bits: 24, float: false });
    case 'wav32f': return encodeWav(channels, sampleRate, { bits: 32, float: true });
    case 'flac': return encodeFlac(channels, sampleRate);
    default: throw new RangeError(`unknown format "${String(format)}"; use one of ${AUDIO_FORMATS.join(', ')}`);
  }
}

/**
 * Encodes and writes a file. Refuses to replace an existing file unless `overwrite` is set; the file
 * appears whole or not at all (written beside the target, then linked or renamed into place).
 */
export async function writeAudioFile(
  path: string, channels: Float32Array[], sampleRate: number, format: AudioFormat, opts: { overwrite?: boolean } = {},
): Promise<void> {
  if (!opts.overwrite && await exists(path)) {
    throw new AudioFileError(path, 'already exists; pass overwrite to replace it');
  }
  const bytes = await encodeAudio(channels, sampleRate, format);
  if (opts.overwrite) return writeFileAtomic(path, bytes);
  const tmp = await writeTempFile(path, bytes);
  try {
    await link(tmp, path).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'EEXIST' ? new AudioFileError(path, 'already exists; pass overwrite to replace it') : e;
    });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
