// Audio that does not have to fit in memory: random access to a file's frames (WAV straight from
// disk; FLAC, Ogg Vorbis and MP3 decoded block by block into float scratch files), downmixed and
// resampled views of it, and writers that take a file block by block and put it in place whole or
// not at all.
import { randomBytes } from 'node:crypto';
import { link, mkdtemp, open, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import {
  AUDIO_FORMATS, AudioFileError, HEAD_PEEK, MAX_RATE, decodeCompressed, decodeToMemory, detectFormatOf, downmix, id3Length, readAudioFile, resample,
  type AudioData, type AudioFormat, type CompressedFormat, type DecodeProgress, type FileHead, type ResampleQuality,
} from './audio';
import { decodeWavFrames, encodeWavFrames, parseWavLayout, wavHeader, WavFormatError, type WavEncoding, type WavLayout } from './wav';
import { createFlacEncoder } from './flac';

/** Random access to planar audio frames. */
export interface FrameReader {
  readonly sampleRate: number;
  readonly channels: number;
  readonly frames: number;
  /** Frames [start, start + count), cut short at the end of the signal. */
  read(start: number, count: number): Promise<Float32Array[]>;
}

/** A reader on an open file: close it when done. */
export interface AudioInput extends FrameReader {
  close(): Promise<void>;
}

function clamp(reader: { frames: number }, start: number, count: number): [number, number] {
  const from = Math.max(0, Math.min(reader.frames, start));
  return [from, Math.max(from, Math.min(reader.frames, start + count))];
}

/** A reader over decoded audio in memory. */
export function memoryReader(audio: AudioData): FrameReader {
  const frames = audio.channels[0]?.length ?? 0;
  return {
    sampleRate: audio.sampleRate,
    channels: audio.channels.length,
    frames,
    read: async (start, count) => {
      const [from, to] = clamp({ frames }, start, count);
      return audio.channels.map((c) => c.subarray(from, to));
    },
  };
}

// Enough for the chunks that come before the samples in any WAV a recorder writes (LIST, bext, iXML).
const HEAD_BYTES = 1 << 16;
const MAX_HEAD_BYTES = 1 << 26;

export interface OpenAudioOptions {
  /** Where a compressed file's decoded samples go (in a folder of their own); default the system's temporary folder. */
  scratchParent?: string;
  /**
   * Keep a compressed file's decoded samples in memory instead: for readers that load the whole
   * file anyway (the training corpus's short clips), which the scratch files would only slow down.
   */
  inMemory?: boolean;
}

/**
 * Opens an audio file for reading, in memory that does not grow with the file's length. WAV is read
 * from disk as frames are asked for. FLAC, Ogg Vorbis and MP3 are decoded once, a block at a time,
 * into float scratch files (4 bytes per sample: 1.4 GB for an hour of 48 kHz stereo) that the reader
 * reads and `close` removes (or into memory, with `inMemory`); `onDecode` hears the fraction of the
 * file decoded. Problems, found while opening (or, for a WAV's samples, while reading), are the
 * AudioFileErrors readAudioFile gives.
 */
export async function openAudio(path: string, onDecode?: DecodeProgress, opts: OpenAudioOptions = {}): Promise<AudioInput> {
  let fh: FileHandle | undefined;
  let size: number;
  try {
    fh = await open(path, 'r');
    const info = await fh.stat();
    if (!info.isFile()) throw new Error('not a file');
    size = info.size;
  } catch {
    await fh?.close();
    // readAudioFile turns the same failure (a folder opens, but does not read) into the message users see everywhere else.
    return withClose(memoryReader(await readAudioFile(path, onDecode)));
  }
  let reading = false;
  try {
    let head = await readAt(fh, 0, Math.min(size, HEAD_BYTES));
    const id3 = id3Length(head);
    const start = head.subarray(0, HEAD_PEEK);
    const afterId3 = id3 === 0 ? start : await readAt(fh, id3, Math.max(0, Math.min(HEAD_PEEK, size - id3)));
    const fileHead: FileHead = { size, start, id3, afterId3 };
    const format = detectFormatOf(fileHead, path);
    if (format !== 'wav' && opts.inMemory) {
      const source = { size, read: (at: number, n: number) => readAt(fh!, at, n) };
      return withClose(memoryReader(await decodeToMemory(source, fileHead, format, path, onDecode)));
    }
    if (format !== 'wav') return await decodeToScratch(fh, fileHead, format, path, onDecode, opts.scratchParent);
    let layout: WavLayout;
    for (;;) {
      try {
        layout = parseWavLayout(head, size);
        break;
      } catch (e) {
        if (!(e instanceof RangeError) || head.length >= Math.min(size, MAX_HEAD_BYTES)) throw e;
        head = await readAt(fh, 0, Math.min(size, head.length * 4));
      }
    }
    validateLayout(layout, path);
    reading = true;
    return wavReader(fh, layout, path);
  } catch (e) {
    if (e instanceof WavFormatError) throw new AudioFileError(path, e.message);
    throw e;
  } finally {
    if (!reading) await fh.close();
  }
}

/**
 * Decodes a compressed file into scratch files, one per channel, in a folder of their own: the
 * returned reader reads them, and its `close` removes them. Nothing is left when decoding fails.
 */
async function decodeToScratch(
  fh: FileHandle, head: FileHead, format: CompressedFormat, file: string, onDecode: DecodeProgress | undefined, scratchParent: string | undefined,
): Promise<AudioInput> {
  const scratch = await scratchDir(scratchParent);
  let audio: ScratchAudio | undefined;
  try {
    const source = { size: head.size, read: (at: number, n: number) => readAt(fh, at, n) };
    const shape = await decodeCompressed(source, head, format, file, async (block, sampleRate) => {
      audio ??= await ScratchAudio.create(scratch.dir, block.length, sampleRate);
      await audio.append(block);
    }, onDecode);
    const decoded = audio!;
    let closed: Promise<void> | undefined;
    return {
      ...shape,
      read: (start, count) => decoded.read(start, count),
      close: () => (closed ??= decoded.close().finally(() => scratch.remove())),
    };
  } catch (e) {
    await audio?.close().catch(() => undefined);
    await scratch.remove();
    throw e;
  }
}

function withClose(reader: FrameReader): AudioInput {
  return { ...reader, read: reader.read.bind(reader), close: async () => undefined };
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

function validateLayout(l: WavLayout, file: string): void {
  if (!Number.isInteger(l.sampleRate) || l.sampleRate > MAX_RATE) throw new AudioFileError(file, `unsupported sample rate ${l.sampleRate} Hz (Tilt reads 1 Hz to ${MAX_RATE / 1000} kHz)`);
  if (l.frames === 0) throw new AudioFileError(file, 'empty: no audio samples');
}

function wavReader(fh: FileHandle, layout: WavLayout, file: string): AudioInput {
  const frameBytes = (layout.bitsPerSample / 8) * layout.channels;
  return {
    sampleRate: layout.sampleRate,
    channels: layout.channels,
    frames: layout.frames,
    async read(start, count) {
      const [from, to] = clamp(layout, start, count);
      const bytes = await readAt(fh, layout.dataStart + from * frameBytes, (to - from) * frameBytes);
      const channels = decodeWavFrames(bytes, layout);
      if ((channels[0]?.length ?? 0) < to - from) throw new AudioFileError(file, `truncated: the file ends before frame ${to}`);
      for (const ch of channels) {
        for (let i = 0; i < ch.length; i++) {
          if (!Number.isFinite(ch[i]!)) throw new AudioFileError(file, `NaN/Inf samples (first at ${((from + i) / layout.sampleRate).toFixed(3)} s)`);
        }
      }
      return channels;
    },
    close: () => fh.close(),
  };
}

/** The mean of a reader's channels, as a one-channel reader. */
export function downmixReader(reader: FrameReader): FrameReader {
  if (reader.channels === 1) return reader;
  return {
    sampleRate: reader.sampleRate,
    channels: 1,
    frames: reader.frames,
    read: async (start, count) => [downmix({ sampleRate: reader.sampleRate, channels: await reader.read(start, count) })],
  };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * A reader at another rate. Each read resamples the stretch it needs plus a margin on both sides
 * that covers the converter's kernel, starting where the two rates' sample grids meet, so reading
 * in blocks gives the same samples as resampling the whole signal at once.
 */
export function resampledReader(reader: FrameReader, rate: number, quality: ResampleQuality = 'fast'): FrameReader {
  const from = reader.sampleRate;
  if (rate === from) return reader;
  const g = gcd(from, rate);
  const [q, p] = [from / g, rate / g];
  const ratio = rate / from;
  // Input samples the kernel reaches on each side: 'fast' spans ±27 output periods, libsamplerate's
  // sinc converters a few thousand input samples.
  const pad = Math.ceil((quality === 'fast' ? 64 : 8192) / Math.min(1, ratio));
  const frames = Math.round(reader.frames * ratio);
  return {
    sampleRate: rate,
    channels: reader.channels,
    frames,
    async read(start, count) {
      const [s, e] = clamp({ frames }, start, count);
      if (e === s) return Array.from({ length: reader.channels }, () => new Float32Array(0));
      const grid = Math.max(0, Math.floor((s / ratio - pad) / q));
      const a = grid * q;
      const anchor = grid * p;
      const b = Math.min(reader.frames, Math.ceil(e / ratio + pad));
      const x = await reader.read(a, b - a);
      return Promise.all(x.map(async (ch) => (await resample(ch, from, rate, quality)).slice(s - anchor, e - anchor)));
    },
  };
}

/** A growing mono float signal in a temporary file: appended in order, read anywhere. */
export class ScratchSignal implements FrameReader {
  readonly channels = 1;
  frames = 0;
  private constructor(readonly sampleRate: number, private readonly fh: FileHandle) {}

  static async create(dir: string, name: string, sampleRate: number): Promise<ScratchSignal> {
    return new ScratchSignal(sampleRate, await open(join(dir, name), 'w+'));
  }

  async append(x: Float32Array): Promise<void> {
    const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    let done = 0;
    while (done < bytes.length) done += (await this.fh.write(bytes, done, bytes.length - done, this.frames * 4 + done)).bytesWritten;
    this.frames += x.length;
  }

  async read(start: number, count: number): Promise<Float32Array[]> {
    const [from, to] = clamp(this, start, count);
    const out = new Float32Array(to - from);
    const bytes = new Uint8Array(out.buffer);
    let got = 0;
    while (got < bytes.length) {
      const { bytesRead } = await this.fh.read(bytes, got, bytes.length - got, from * 4 + got);
      if (bytesRead === 0) throw new Error(`scratch file ended at byte ${from * 4 + got}`);
      got += bytesRead;
    }
    return [out];
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Planar float audio in temporary files, one per channel: appended in order, read anywhere. */
export class ScratchAudio implements FrameReader {
  private constructor(readonly sampleRate: number, private readonly signals: readonly ScratchSignal[]) {}

  /** Files `<name><channel>.f32` in `dir`. */
  static async create(dir: string, channels: number, sampleRate: number, name = 'channel'): Promise<ScratchAudio> {
    const signals: ScratchSignal[] = [];
    try {
      for (let c = 0; c < channels; c++) signals.push(await ScratchSignal.create(dir, `${name}${c}.f32`, sampleRate));
    } catch (e) {
      await Promise.all(signals.map((s) => s.close().catch(() => undefined)));
      throw e;
    }
    return new ScratchAudio(sampleRate, signals);
  }

  get channels(): number {
    return this.signals.length;
  }

  get frames(): number {
    return this.signals[0]?.frames ?? 0;
  }

  async append(block: readonly Float32Array[]): Promise<void> {
    if (block.length !== this.signals.length) throw new RangeError(`${block.length} channels given for ${this.signals.length}`);
    if (block.some((c) => c.length !== block[0]!.length)) throw new RangeError('channels have different lengths');
    await Promise.all(this.signals.map((s, c) => s.append(block[c]!)));
  }

  async read(start: number, count: number): Promise<Float32Array[]> {
    return Promise.all(this.signals.map(async (s) => (await s.read(start, count))[0]!));
  }

  async close(): Promise<void> {
    await Promise.all(this.signals.map((s) => s.close()));
  }
}

/** A fresh private folder for scratch files; `remove` deletes it and everything in it. */
export async function scratchDir(parent = tmpdir()): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(parent, 'tilt-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Takes a file block by block; `close` puts it in place whole, `abort` leaves nothing behind. */
export interface AudioWriter {
  write(block: readonly Float32Array[]): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

const WAV_ENCODINGS: Record<Exclude<AudioFormat, 'flac'>, WavEncoding> = {
  wav16: { bits: 16, float: false },
  wav24: { bits: 24, float: false },
  wav32f: { bits: 32, float: true },
};

/**
 * Writes `path` in `format` from blocks of planar channels. The blocks go to a hidden file beside
 * the target, which replaces the target at `close` (or, without `overwrite`, appears only if no file
 * has taken the name meanwhile). Either format streams to disk; FLAC's header carries `frames` when
 * given. PCM clips to [-1, 1]; non-finite samples are refused.
 */
export async function createAudioWriter(
  path: string, channels: number, sampleRate: number, format: AudioFormat, opts: { overwrite?: boolean; frames?: number } = {},
): Promise<AudioWriter> {
  if (!AUDIO_FORMATS.includes(format)) throw new RangeError(`unknown format "${String(format)}"; use one of ${AUDIO_FORMATS.join(', ')}`);
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new RangeError(`invalid sample rate ${sampleRate}`);
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`cannot write ${channels} channels`);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  let frames = 0;
  let offset = 0;
  let ended = false;
  const append = async (bytes: Uint8Array): Promise<void> => {
    let done = 0;
    while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done, offset + done)).bytesWritten;
    offset += bytes.length;
  };
  const flac = format === 'flac' ? await createFlacEncoder(channels, sampleRate, opts.frames) : null;
  const enc = format === 'flac' ? null : WAV_ENCODINGS[format];
  if (enc) await append(wavHeader(channels, sampleRate, enc, 0));

  const abort = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    // libflacjs throws when an unfinished encoder is destroyed while another one is open (two stems
    // written at once); the file must still be closed and removed.
    try {
      flac?.destroy();
    } catch {
      // The encoder's memory goes with the module; nothing is left to release here.
    }
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
  };
  return {
    async write(block) {
      if (ended) throw new Error(`${path}: written after close`);
      if (block.length !== channels) throw new RangeError(`${path}: ${block.length} channels given for ${channels}`);
      const n = block[0]!.length;
      for (const ch of block) {
        if (ch.length !== n) throw new RangeError('channels have different lengths');
        for (let i = 0; i < n; i++) if (!Number.isFinite(ch[i]!)) throw new RangeError(`NaN/Inf sample at index ${frames + i}`);
      }
      await append(enc ? encodeWavFrames(block, enc) : flac!.encode(block));
      frames += n;
    },
    async close() {
      if (ended) throw new Error(`${path}: closed twice`);
      try {
        if (enc) {
          if (offset & 1) await append(new Uint8Array(1));
          await fh.write(wavHeader(channels, sampleRate, enc, frames), 0, undefined, 0);
        } else {
          await append(flac!.finish());
        }
        await fh.close();
        ended = true;
        if (opts.overwrite) await rename(tmp, path);
        else {
          await link(tmp, path).catch((e: NodeJS.ErrnoException) => {
            throw e.code === 'EEXIST' ? new AudioFileError(path, 'already exists; pass overwrite to replace it') : e;
          });
          await unlink(tmp);
        }
      } catch (e) {
        ended = false;
        await abort();
        throw e;
      }
    },
    abort,
  };
}
