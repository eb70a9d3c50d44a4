// A recording as the model hears it: the one way a file becomes the model's input. Separation in the
// app and in `tilt separate` reads it block by block (a recording of hours never sits in memory: WAV
// is read from disk, other formats are decoded into scratch files first), the training and
// evaluation corpora load it whole (loadMono); either way the same files are refused with the same
// reasons: openAudio's (unreadable, empty, unsupported or corrupt) and silence.
import { MODEL_RATE } from '../types';
import { AudioFileError, isSilent, resampleFile, type DecodeProgress, type ResampleQuality } from './audio';
import { downmixReader, openAudio, resampledReader, type FrameReader, type OpenAudioOptions } from './stream';

/** Why a recording with nothing above SILENCE_PEAK (-80 dBFS) is refused. */
export const SILENCE_ONLY = 'silence only';

export interface ModelInput {
  /** Names the recording in errors. */
  readonly file: string;
  /** The recording as decoded, at its own rate and channels: full-band stems are made from it. */
  readonly input: FrameReader;
  /** The mean of its channels at the model's rate, read block by block. */
  readonly mono: FrameReader;
  /** Throws AudioFileError `<file>: silence only` unless something read from `mono` so far was above SILENCE_PEAK. */
  rejectSilence(): void;
  /** All of `mono` at once; `onProgress` hears the fraction of the resampling done (long files take minutes). */
  load(opts?: { rejectSilence?: boolean; onProgress?: (fraction: number) => void }): Promise<Float32Array>;
}

export interface ModelInputOptions {
  /** Default the model's rate. */
  rate?: number;
  /** Default 'fast'. */
  quality?: ResampleQuality;
}

/** `input` (audio already decoded: openAudio's, or a test's) as the model hears it. */
export function modelInput(input: FrameReader, file: string, opts: ModelInputOptions = {}): ModelInput {
  const rate = opts.rate ?? MODEL_RATE;
  const quality = opts.quality ?? 'fast';
  let heard = false;
  const mixed = downmixReader(input);
  const listened: FrameReader = {
    ...mixed,
    read: async (start, count) => {
      const block = await mixed.read(start, count);
      heard ||= !isSilent(block[0]!);
      return block;
    },
  };
  const rejectSilence = (): void => {
    if (!heard) throw new AudioFileError(file, SILENCE_ONLY);
  };
  return {
    file,
    input,
    mono: resampledReader(listened, rate, quality),
    rejectSilence,
    async load(o = {}) {
      const [x] = await listened.read(0, listened.frames);
      if (o.rejectSilence ?? true) rejectSilence();
      return resampleFile(file, x!, listened.sampleRate, rate, quality, o.onProgress);
    },
  };
}

/**
 * Opens a recording (openAudio: WAV read from disk as asked, other formats decoded into scratch
 * files first, which `onDecode` follows) as the model hears it. Close it when done: that removes
 * the scratch files.
 */
export async function openModelInput(
  path: string, opts: ModelInputOptions & OpenAudioOptions & { onDecode?: DecodeProgress } = {},
): Promise<ModelInput & { close(): Promise<void> }> {
  const input = await openAudio(path, opts.onDecode, opts);
  return { ...modelInput(input, path, opts), close: () => input.close() };
}

export interface LoadMonoOptions {
  /** Refuse silence-only files with AudioFileError 'silence only' (default true: separation inputs). */
  rejectSilence?: boolean;
  /** Default 'best'. */
  quality?: ResampleQuality;
  /** Fraction of the resampling done. */
  onProgress?: (fraction: number) => void;
}

/** A whole recording as the model hears it: decoded, checked, downmixed and resampled to `rate` (the model's by default). */
export async function loadMono(path: string, rate = MODEL_RATE, opts: LoadMonoOptions = {}): Promise<Float32Array> {
  // All of it ends up in memory: a compressed file is decoded there too (corpus clips are short).
  const source = await openModelInput(path, { rate, quality: opts.quality ?? 'best', inMemory: true });
  try {
    return await source.load(opts);
  } finally {
    await source.close();
  }
}
