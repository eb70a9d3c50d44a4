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
import { mpegCheck, oggCheck } from './integrity';
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
  return detectFormatOf(fileHead(bytes), file);
}

/**
 * What decoding needs to know of a file before its audio: its length, its first bytes and those
 * after any ID3v2 tag (which may be megabytes of cover art).
 */
export interface FileHead {
  size: number;
  /** The first HEAD_PEEK bytes (all of them in a shorter file). */
  start: Uint8Array;
  /** Length of the ID3v2 tag at the start (0: none). */
  id3: number;
  /** HEAD_PEEK bytes from offset `id3` on (fewer where the file ends). */
  afterId3: Uint8Array;
}

/** Bytes of a file's start (and of what follows an ID3v2 tag) that FileHead holds. */
export const HEAD_PEEK = 4096;

/** A whole file's FileHead. */
export function fileHead(bytes: Uint8Array): FileHead {
  const id3 = id3Length(bytes);
  return { size: bytes.length, start: bytes.subarray(0, HEAD_PEEK), id3, afterId3: bytes.subarray(id3, id3 + HEAD_PEEK) };
}

/** detectFormat from a file's head: what a reader that does not hold the whole file knows. */
export function detectFormatOf(h: FileHead, file: string): ContainerFormat {
  const bytes = h.start;
  if (h.size === 0) throw new AudioFileError(file, 'empty file');
  const head = (at: number, n: number) => String.fromCharCode(...bytes.subarray(at, at + n));
  if (h.size < 12) throw new AudioFileError(file, `truncated: only ${h.size} bytes`);
  if (isWav(bytes)) return 'wav';
  if (head(0, 4) === 'RIFF' || head(0, 4) === 'RIFX' || head(0, 4) === 'RF64') {
    throw new AudioFileError(file, `unsupported format: ${head(0, 4)} container of type "${head(8, 4)}"`);
  }
  if (String.fromCharCode(...h.afterId3.subarray(0, 4)) === 'fLaC') return 'flac';
  if (head(0, 4) === 'OggS') {
    const first = bytes.subarray(0, Math.min(bytes.length, 512));
    const text = String.fromCharCode(...first);
    if (text.includes('\x01vorbis')) return 'ogg-vorbis';
    if (text.includes('OpusHead')) throw new AudioFileError(file, 'unsupported codec: Ogg Opus');
    if (text.includes('\x7fFLAC')) throw new AudioFileError(file, 'unsupported codec: Ogg FLAC');
    throw new AudioFileError(file, 'unsupported codec: Ogg stream that is not Vorbis');
  }
  if (h.id3 > 0 || isMpegSync(bytes, 0)) {
    if (h.id3 >= h.size) throw new AudioFileError(file, 'truncated: ID3 tag but no audio');
    return 'mp3';
  }
  const shown = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new AudioFileError(file, `unsupported format: not WAV, FLAC, Ogg Vorbis or MP3 (starts with ${shown})`);
}

/** Length of the ID3v2 tag at the start of `b` (0: none). */
export function id3Length(b: Uint8Array): number {
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
  const head = fileHead(bytes);
  const format = detectFormatOf(head, file);
  if (format === 'wav') {
    let audio: AudioData;
    try {
      audio = parseWav(bytes);
    } catch (e) {
      if (e instanceof AudioFileError) throw e;
      if (e instanceof WavFormatError) throw new AudioFileError(file, e.message);
      throw new AudioFileError(file, `corrupt ${format} data (${(e as Error).message})`);
    }
    validate(audio, file);
    return audio;
  }
  const source = { size: bytes.length, read: async (at: number, n: number) => bytes.subarray(at, at + n) };
  return decodeToMemory(source, head, format, file, onProgress);
}

/** decodeCompressed into memory, as one AudioData. */
export async function decodeToMemory(
  source: ByteSource, head: FileHead, format: CompressedFormat, file: string, onProgress?: DecodeProgress,
): Promise<AudioData> {
  const pieces: Float32Array[][] = [];
  const { sampleRate, channels, frames } = await decodeCompressed(source, head, format, file, async (block) => {
    pieces.push(block);
  }, onProgress);
  const joined = Array.from({ length: channels }, (_, c) => {
    const out = new Float32Array(frames);
    let at = 0;
    for (const p of pieces) {
      out.set(p[c]!, at);
      at += p[c]!.length;
    }
    return out;
  });
  return { sampleRate, channels: joined };
}

/** Sample rates Tilt reads and writes (what `resample` converts between). */
export const MIN_RATE = 1;
export const MAX_RATE = 768_000;

function validate(a: AudioData, file: string): void {
  const n = a.channels[0]?.length ?? 0;
  checkShape(file, a.channels.length, a.sampleRate, n);
  for (const ch of a.channels) {
    if (ch.length !== n) throw new AudioFileError(file, 'corrupt: channels of different lengths');
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(ch[i]!)) throw nonFinite(file, i, a.sampleRate);
    }
  }
}

/** What every decoded file must be: some channels, a rate Tilt reads, some frames. */
export function checkShape(file: string, channels: number, sampleRate: number, frames: number): void {
  if (channels === 0) throw new AudioFileError(file, 'zero channels');
  if (!(sampleRate > 0)) throw new AudioFileError(file, `invalid sample rate ${sampleRate}`);
  if (!Number.isInteger(sampleRate) || sampleRate > MAX_RATE) {
    throw new AudioFileError(file, `unsupported sample rate ${sampleRate} Hz (Tilt reads ${MIN_RATE} Hz to ${MAX_RATE / 1000} kHz)`);
  }
  if (frames === 0) throw new AudioFileError(file, 'empty: no audio samples');
}

/** The error for a file whose samples are not all finite: `frame` is the first bad one. */
export function nonFinite(file: string, frame: number, sampleRate: number): AudioFileError {
  return new AudioFileError(file, `NaN/Inf samples (first at ${(frame / sampleRate).toFixed(3)} s)`);
}

/** Where a compressed stream comes from: a file read block by block, or bytes in memory. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes from `position`: fewer only where the source ends. */
  read(position: number, length: number): Promise<Uint8Array>;
}

/** Takes decoded audio in order, piece by piece: planar channels of one length. */
export type PcmSink = (channels: Float32Array[], sampleRate: number) => Promise<void>;

/** What decoding found, once every piece has gone to the sink. */
export interface DecodedShape {
  sampleRate: number;
  channels: number;
  frames: number;
}

/** Bytes read at a time: progress about once per MB (a long MP3 or FLAC takes a minute). */
const DECODE_CHUNK = 1 << 20;
/**
 * Bytes handed to a decoder at a time, so that what one call gives back stays small whatever the
 * file (a FLAC of silence packs an hour into a megabyte), and so that a change of rate or channels
 * shows between calls: each call reports one rate, that of its last frame. The Ogg parser slows
 * down on pieces much smaller than a page.
 */
const DECODE_PIECE: Record<CompressedFormat, number> = { flac: 1 << 12, 'ogg-vorbis': 1 << 14, mp3: 1 << 12 };

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  bitDepth?: number;
  errors: { message: string }[];
}

interface Decoder {
  decode(piece: Uint8Array): Decoded | Promise<Decoded>;
  flush?(): Promise<Decoded>;
  free(): void;
}

async function createDecoder(format: CompressedFormat): Promise<Decoder> {
  const dec = format === 'flac' ? new FLACDecoder() : format === 'ogg-vorbis' ? new OggVorbisDecoder() : new MPEGDecoder();
  await dec.ready;
  return dec;
}

export type CompressedFormat = Exclude<ContainerFormat, 'wav'>;

const CODEC_NAMES: Record<CompressedFormat, string> = { flac: 'FLAC', 'ogg-vorbis': 'Ogg Vorbis', mp3: 'MP3' };
const NOTHING_DECODED: Record<CompressedFormat, string> = {
  flac: 'corrupt or empty FLAC stream: no frames decoded',
  'ogg-vorbis': 'corrupt or empty Ogg Vorbis stream: no audio decoded',
  mp3: 'corrupt MP3 data: no frames decoded',
};

/**
 * Decodes a FLAC, Ogg Vorbis or MP3 stream as it is read: a megabyte at a time from `source` (which
 * `onProgress` follows), handed to the decoder in small pieces, each piece's audio checked and given
 * to `sink`, so that memory does not grow with the file. The decoders keep their state from piece to
 * piece: the samples are those of decoding the whole at once. Problems are AudioFileErrors, the same
 * whatever the size of the pieces: a damaged Ogg page or MP3 frame (checked as the bytes go by, since
 * those decoders skip damage without a word) before what the decoder reports, before a short FLAC,
 * no audio at all, an unreadable rate, NaN/Inf samples. A stream whose rate or channels change on the
 * way is refused; the decoder is freed on every path.
 */
export async function decodeCompressed(
  source: ByteSource, head: FileHead, format: CompressedFormat, file: string, sink: PcmSink, onProgress?: DecodeProgress,
): Promise<DecodedShape> {
  const check = format === 'ogg-vorbis' ? oggCheck(vorbisRate(head.start)) : format === 'mp3' ? mpegCheck(head.id3) : null;
  // mpg123 always hands out two channels; a mono stream's are copies of one another.
  const mono = format === 'mp3' && mpegIsMono(head.afterId3);
  const declared = format === 'flac' ? flacTotalSamples(head.afterId3) : 0;
  const corrupt = (e: unknown): AudioFileError => new AudioFileError(file, `corrupt ${format} data (${(e as Error).message})`);
  let failure: AudioFileError | undefined;
  let shape: { sampleRate: number; channels: number; bitDepth: number } | undefined;
  let frames = 0;
  // The first NaN/Inf frame in each channel.
  const bad: number[] = [];

  const take = async (r: Decoded): Promise<void> => {
    if (r.errors.length > 0) {
      failure = new AudioFileError(file, `corrupt ${CODEC_NAMES[format]} data: ${r.errors[0]!.message}`);
      return;
    }
    const n = r.samplesDecoded;
    if (n === 0) return;
    const channels = (mono ? r.channelData.slice(0, 1) : r.channelData).map((c) => c.subarray(0, n));
    const bitDepth = r.bitDepth ?? 0;
    shape ??= { sampleRate: r.sampleRate, channels: channels.length, bitDepth };
    const change = r.sampleRate !== shape.sampleRate ? `sample rate changes from ${shape.sampleRate} Hz to ${r.sampleRate} Hz`
      : channels.length !== shape.channels ? `number of channels changes from ${shape.channels} to ${channels.length}`
        : bitDepth !== shape.bitDepth ? `bit depth changes from ${shape.bitDepth} to ${bitDepth}` : null;
    if (change) {
      const after = (frames / shape.sampleRate).toFixed(3);
      failure = new AudioFileError(file, `unsupported: the ${change} after ${after} s (Tilt reads streams of one rate and channel count)`);
      return;
    }
    if (format === 'flac') {
      // The decoder divides by 2^(bits-1) - 1; use 2^(bits-1) like every PCM WAV so that the same
      // integers decode to the same floats whatever the container.
      const g = (2 ** (bitDepth - 1) - 1) / 2 ** (bitDepth - 1);
      for (const ch of channels) for (let i = 0; i < n; i++) ch[i]! *= g;
    }
    channels.forEach((ch, c) => {
      if (bad[c] !== undefined) return;
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(ch[i]!)) {
          bad[c] = frames + i;
          return;
        }
      }
    });
    await sink(channels, shape.sampleRate);
    frames += n;
  };

  let dec: Decoder | undefined;
  try {
    try {
      dec = await createDecoder(format);
    } catch (e) {
      failure = corrupt(e);
    }
    for (let at = 0; at < source.size; at += DECODE_CHUNK) {
      const want = Math.min(DECODE_CHUNK, source.size - at);
      const block = await source.read(at, want);
      const verdict = check?.push(block);
      if (verdict) throw new AudioFileError(file, verdict);
      for (let p = 0; !failure && p < block.length; p += DECODE_PIECE[format]) {
        let r: Decoded;
        try {
          r = await dec!.decode(block.subarray(p, p + DECODE_PIECE[format]));
        } catch (e) {
          failure = corrupt(e);
          break;
        }
        await take(r);
      }
      onProgress?.(Math.min(1, (at + DECODE_CHUNK) / source.size));
      // After a failure the rest is read only to find damage that would explain it.
      if ((failure && !(check && verdict === undefined)) || block.length < want) break;
    }
    const damage = check?.end();
    if (damage) throw new AudioFileError(file, damage);
    if (!failure && dec?.flush) {
      let r: Decoded | undefined;
      try {
        r = await dec.flush();
      } catch (e) {
        failure = corrupt(e);
      }
      if (r) await take(r);
    }
    if (failure) throw failure;
    if (declared > 0 && frames < declared) throw new AudioFileError(file, `truncated: ${frames} of ${declared} samples present`);
    if (frames === 0 || !shape) throw new AudioFileError(file, NOTHING_DECODED[format]);
    checkShape(file, shape.channels, shape.sampleRate, frames);
    for (let c = 0; c < shape.channels; c++) if (bad[c] !== undefined) throw nonFinite(file, bad[c]!, shape.sampleRate);
    return { sampleRate: shape.sampleRate, channels: shape.channels, frames };
  } finally {
    dec?.free();
  }
}

/** Total samples from STREAMINFO (0 when unknown), from the bytes that start with 'fLaC'. */
function flacTotalSamples(b: Uint8Array): number {
  const at = 8; // 'fLaC' + metadata block header
  if (b.length < at + 18) return 0;
  const hi = b[at + 13]! & 0x0f;
  const lo = ((b[at + 14]! << 24) >>> 0) + (b[at + 15]! << 16) + (b[at + 16]! << 8) + b[at + 17]!;
  return hi * 2 ** 32 + lo;
}

/** The rate in the Vorbis identification header (for the times in damage reports; 1 when unreadable). */
function vorbisRate(b: Uint8Array): number {
  const head = String.fromCharCode(...b.subarray(0, Math.min(b.length, 512)));
  const at = head.indexOf('\x01vorbis');
  if (at < 0 || at + 16 > b.length) return 1;
  return new DataView(b.buffer, b.byteOffset + at + 12, 4).getUint32(0, true) || 1;
}

/** Channel mode of the first frame header (the bytes after any ID3 tag) is 3 = single channel. */
function mpegIsMono(b: Uint8Array): boolean {
  return isMpegSync(b, 0) && (b[3]! >> 6) === 3;
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
