// Separation of a whole recording at its own quality, in bounded memory: three passes over the
// input, with the model's 8 kHz signals in scratch files between them.
//   decoding:   input -> mono -> model rate, into a scratch file (and a check for silence)
//   separating: the model, chunk by chunk, into one scratch file per output slot
//   writing:    input channels + the model's stems back at the output rate -> full-band masks
//               (fullband.ts) -> one block sink per stem
// Memory is a few blocks and a few model chunks whatever the length and format (openModelInput
// has decoded a FLAC, Ogg Vorbis or MP3 input into float scratch files of its own); the scratch
// files here hold 4 bytes per sample at 8 kHz (115 MB per hour per signal).
import type { ModelInput } from '../io/input';
import { resampledReader, ScratchSignal, scratchDir } from '../io/stream';
import type { Separator } from '../models/types';
import { MODEL_RATE } from '../types';
import { FullBandSplitter } from './fullband';
import { separateStream, SeparationAbortedError, type SeparateOptions } from './separate';

/** 'reading' is the first pass when the input is at the model's rate already, 'resampling' otherwise. */
export type SeparationStage = 'reading' | 'resampling' | 'adapting' | 'separating' | 'writing';

/** Where a stem's blocks go (a file writer, a meter, a test's array). */
export interface BlockSink {
  write(block: readonly Float32Array[]): Promise<void>;
}

/** Rate of the stems: the input's own (full band) or the model's. */
export type StemRate = 'input' | 'model';

/** The stem that is the input minus the others: environmental sound when the model names it, else the last. */
export function residualStem(stemNames: readonly string[]): number {
  const env = stemNames.indexOf('env');
  return env >= 0 ? env : stemNames.length - 1;
}

/** Sample rate and length of the stems of `input` at `rate`. */
export function stemFormat(input: { sampleRate: number; frames: number }, rate: StemRate): { sampleRate: number; frames: number } {
  const sampleRate = rate === 'input' ? input.sampleRate : MODEL_RATE;
  return { sampleRate, frames: Math.round((input.frames * sampleRate) / input.sampleRate) };
}

export interface SeparateAudioOptions extends Omit<SeparateOptions, 'sampleRate' | 'onProgress'> {
  /** The stem that takes whatever the others leave; default the last. */
  residual?: number;
  /** Default 'input'. */
  rate?: StemRate;
  /** Folder for the scratch files; default the system's temporary folder. */
  scratchParent?: string;
  /** Fraction done of each stage, in order: reading or resampling, adapting (with `adapt`), separating, writing. */
  onProgress?: (stage: SeparationStage, fraction: number) => void;
  /** Sees the input at the stems' rate block by block, in step with the stems (the app's mixture track). */
  mixture?: BlockSink;
}

// Blocks of the passes at the input's side: seconds of audio per read.
const BLOCK_SECONDS = 10;
const nextTask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function fitTo(x: Float32Array, n: number): Float32Array {
  if (x.length === n) return x;
  const out = new Float32Array(n);
  out.set(x.subarray(0, n));
  return out;
}

/**
 * Separates a recording (openModelInput's, core/io/input.ts) into `model.nSources` stems written to
 * `sinks` (one per stem, in the model's stem order) at the input's channel count and at `rate`. The
 * stems add up to the input, at that rate, in every channel.
 */
export async function separateAudio(model: Separator, source: ModelInput, sinks: readonly BlockSink[], opts: SeparateAudioOptions): Promise<void> {
  const nStems = model.nSources;
  if (sinks.length !== nStems) throw new RangeError(`separateAudio: ${sinks.length} sinks for ${nStems} stems`);
  if (source.mono.sampleRate !== MODEL_RATE) throw new RangeError(`separateAudio: the model hears ${MODEL_RATE} Hz, not ${source.mono.sampleRate} Hz`);
  const { input, mono: atModelRate } = source;
  const residual = opts.residual ?? nStems - 1;
  const { signal, onProgress } = opts;
  const checkAbort = (stage: SeparationStage) => {
    if (signal?.aborted) throw new SeparationAbortedError(`while ${stage}`, { cause: signal.reason });
  };
  const scratch = await scratchDir(opts.scratchParent);
  const files: ScratchSignal[] = [];
  const scratchFile = async (name: string): Promise<ScratchSignal> => {
    const f = await ScratchSignal.create(scratch.dir, name, MODEL_RATE);
    files.push(f);
    return f;
  };
  try {
    // The model hears the channels' mean at its own rate.
    const first: SeparationStage = input.sampleRate === MODEL_RATE ? 'reading' : 'resampling';
    const mixture = await scratchFile('mixture.f32');
    const step = BLOCK_SECONDS * MODEL_RATE;
    onProgress?.(first, 0);
    for (let at = 0; at < atModelRate.frames; at += step) {
      await nextTask();
      checkAbort(first);
      await mixture.append((await atModelRate.read(at, step))[0]!);
      onProgress?.(first, Math.min(1, (at + step) / atModelRate.frames));
    }
    source.rejectSilence();

    // Separating: slot files in the model's output order; the final order comes at the end.
    const slots: ScratchSignal[] = [];
    for (let j = 0; j < nStems; j++) slots.push(await scratchFile(`slot${j}.f32`));
    const order = await separateStream(
      model,
      { length: mixture.frames, read: async (start, count) => (await mixture.read(start, count))[0]! },
      async (_start, out) => {
        for (let j = 0; j < nStems; j++) await slots[j]!.append(out[j]!);
      },
      {
        ...opts, sampleRate: MODEL_RATE, onProgress: (f) => onProgress?.('separating', f),
        adapt: opts.adapt && { ...opts.adapt, onStep: (done, total) => (opts.adapt!.onStep?.(done, total), onProgress?.('adapting', done / total)) },
      },
    );

    // Writing: masks from the stems, applied to every channel at the output rate.
    const out = stemFormat(input, opts.rate ?? 'input');
    const channels = resampledReader(input, out.sampleRate);
    const splitter = new FullBandSplitter({ rate: out.sampleRate, channels: input.channels, nStems, residual });
    const guides = splitter.masked.map((j) => resampledReader(slots[order[j]!]!, out.sampleRate));
    const emit = async (stems: Float32Array[][]): Promise<void> => {
      for (let j = 0; j < nStems; j++) await sinks[j]!.write(stems[j]!);
    };
    const block = BLOCK_SECONDS * out.sampleRate;
    onProgress?.('writing', 0);
    for (let at = 0; at < out.frames; at += block) {
      await nextTask();
      checkAbort('writing');
      const x = await channels.read(at, block);
      // Down to 8 kHz and back up may round the length by a sample or two: the guides follow the input.
      const g = await Promise.all(guides.map(async (r) => fitTo((await r.read(at, block))[0]!, x[0]!.length)));
      await opts.mixture?.write(x);
      await emit(splitter.push(x, g));
      onProgress?.('writing', Math.min(1, (at + block) / out.frames));
    }
    await emit(splitter.flush());
  } finally {
    await Promise.all(files.map((f) => f.close().catch(() => undefined)));
    await scratch.remove();
  }
}
