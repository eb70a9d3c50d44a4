// File-level separation: read a recording, separate it (pipeline.ts), write one file per stem at
// the recording's own rate and channels (or the model's rate when asked).
import { mkdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { AUDIO_FORMATS, FORMAT_EXTENSIONS, type AudioFormat } from '../io/audio';
import { openModelInput } from '../io/input';
import { createAudioWriter, resampledReader, type AudioWriter, type FrameReader } from '../io/stream';
import type { Separator } from '../models/types';
import { MODEL_RATE } from '../types';
import { residualStem, separateAudio, stemFormat, type SeparationStage, type StemRate } from './pipeline';
import type { SeparateOptions } from './separate';
import type { AdaptReport } from '../train/adapt';
import { BlendTally, type BlendReport } from './blendReport';
import { SeparationInputError, defaultStemNames, validateStemNames } from './stems';
import { exists } from '../io/fs';

/** `<dir>/<name>.<stem>.<ext>` for input `.../<name>.<anything>`. */
export function stemPath(outDir: string, inputPath: string, stemName: string, format: AudioFormat): string {
  const base = basename(inputPath, extname(inputPath));
  return join(outDir, `${base}.${stemName}.${FORMAT_EXTENSIONS[format]}`);
}

/** A stem file is already there and overwriting was not asked for. */
export class StemExistsError extends Error {
  readonly code = 'exists';
  constructor(readonly path: string) {
    super(`${path} already exists; pass overwrite (--overwrite) to replace it`);
    this.name = 'StemExistsError';
  }
}

/** Throws StemExistsError for the first target that exists, unless overwriting. */
async function checkTargets(paths: readonly string[], overwrite: boolean): Promise<void> {
  if (overwrite) return;
  for (const p of paths) if (await exists(p)) throw new StemExistsError(p);
}

export interface ExportStemsOptions {
  /** The recording the stems came from; its base name names the files. */
  inputPath: string;
  /** One reader per stem (a separation's tracks). */
  stems: readonly FrameReader[];
  stemNames: readonly string[];
  outDir: string;
  /** Default 'wav16'. */
  format?: AudioFormat;
  /** Keep the stems' rate (the input's; default) or write them at the model's rate. */
  rate?: StemRate;
  /** Replace existing files. Default false. */
  overwrite?: boolean;
}

function checkFormat(format: AudioFormat, rate: StemRate): void {
  if (!AUDIO_FORMATS.includes(format)) throw new SeparationInputError(`unknown format "${format}": use one of ${AUDIO_FORMATS.join(', ')}`);
  if (rate !== 'model' && rate !== 'input') throw new SeparationInputError(`rate must be 'model' or 'input', got "${String(rate)}"`);
}

/** Streams each reader into its writer block by block, then puts every file in place; on failure none is left. */
async function writeAll(readers: readonly FrameReader[], writers: readonly AudioWriter[]): Promise<void> {
  try {
    for (const [i, r] of readers.entries()) {
      const block = 10 * r.sampleRate;
      for (let at = 0; at < r.frames; at += block) await writers[i]!.write(await r.read(at, block));
    }
    for (const w of writers) await w.close();
  } catch (e) {
    await Promise.all(writers.map((w) => w.abort()));
    throw e;
  }
}

/**
 * Writes `<outDir>/<name>.<stem>.<ext>` for every stem and returns the paths. Every target is checked
 * before the first is written, so a refused export leaves no partial set behind.
 */
export async function exportStems(opts: ExportStemsOptions): Promise<string[]> {
  const format = opts.format ?? 'wav16';
  const rate = opts.rate ?? 'input';
  checkFormat(format, rate);
  if (opts.stems.length === 0) throw new SeparationInputError('exportStems: no stems to export');
  validateStemNames(opts.stemNames, opts.stems.length);
  const overwrite = opts.overwrite ?? false;
  const paths = opts.stemNames.map((name) => stemPath(opts.outDir, opts.inputPath, name, format));
  if (paths.some((p) => resolve(p) === resolve(opts.inputPath))) {
    throw new SeparationInputError(`exportStems: a stem would overwrite its own input ${opts.inputPath}`);
  }
  await checkTargets(paths, overwrite);
  await mkdir(opts.outDir, { recursive: true });
  const readers = opts.stems.map((r) => resampledReader(r, rate === 'input' ? r.sampleRate : MODEL_RATE));
  const writers: AudioWriter[] = [];
  try {
    for (const [i, r] of readers.entries()) writers.push(await createAudioWriter(paths[i]!, r.channels, r.sampleRate, format, { overwrite, frames: r.frames }));
  } catch (e) {
    await Promise.all(writers.map((w) => w.abort()));
    throw e;
  }
  await writeAll(readers, writers);
  return paths;
}

export interface SeparateFileOptions extends Omit<SeparateOptions, 'sampleRate' | 'onProgress'> {
  outDir: string;
  /** One per model source, in the model's output order. Default source1, source2, ... */
  stemNames?: readonly string[];
  format?: AudioFormat;
  /** The input's rate and channels, full band (default), or the model's rate. */
  rate?: StemRate;
  overwrite?: boolean;
  /** Folder for the scratch files (a compressed input's decoded samples, the model's 8 kHz signals); default the system's temporary folder. */
  scratchParent?: string;
  /** Fraction done of each stage (hours of audio take minutes per stage). */
  onProgress?: (stage: SeparationStage, fraction: number) => void;
}

export interface SeparatedFile {
  inputPath: string;
  /** Written stem files, in stemNames order. */
  outputs: string[];
  stemNames: string[];
  inputRate: number;
  channels: number;
  /** Rate the stems were written at. */
  outputRate: number;
  /** Seconds of audio separated. */
  duration: number;
  /** With an RNNoise blend: what it did (null where the speech stem is silent). */
  blend?: BlendReport | null;
  /** With adapt: what adapting did. */
  adapt?: AdaptReport;
}

/** Reads, separates and exports one recording; refuses before any work if a stem file exists. */
export async function separateFile(model: Separator, inputPath: string, opts: SeparateFileOptions): Promise<SeparatedFile> {
  const stemNames = [...(opts.stemNames ?? defaultStemNames(model.nSources))];
  validateStemNames(stemNames, model.nSources);
  const format = opts.format ?? 'wav16';
  const rate = opts.rate ?? 'input';
  checkFormat(format, rate);
  const overwrite = opts.overwrite ?? false;
  const outputs = stemNames.map((n) => stemPath(opts.outDir, inputPath, n, format));
  if (outputs.some((p) => resolve(p) === resolve(inputPath))) throw new SeparationInputError(`a stem would overwrite its own input ${inputPath}`);
  await checkTargets(outputs, overwrite);
  const source = await openModelInput(inputPath, { scratchParent: opts.scratchParent });
  const { input } = source;
  const writers: AudioWriter[] = [];
  try {
    const out = stemFormat(input, rate);
    await mkdir(opts.outDir, { recursive: true });
    for (const p of outputs) writers.push(await createAudioWriter(p, input.channels, out.sampleRate, format, { overwrite, frames: out.frames }));
    const { onProgress, ...rest } = opts;
    const tally = opts.denoiserBlend ? new BlendTally() : null;
    let adapted: AdaptReport | undefined;
    await separateAudio(model, source, writers, {
      ...rest, residual: residualStem(stemNames), rate, ...(onProgress ? { onProgress } : {}), ...(tally ? { onWindowBlend: tally.add } : {}),
      onAdapted: (report) => {
        adapted = report;
        opts.onAdapted?.(report);
      },
    });
    for (const w of writers) await w.close();
    return {
      inputPath, outputs, stemNames, inputRate: input.sampleRate, channels: input.channels, outputRate: out.sampleRate, duration: input.frames / input.sampleRate,
      ...(tally ? { blend: tally.report() } : {}), ...(adapted ? { adapt: adapted } : {}),
    };
  } catch (e) {
    await Promise.all(writers.map((w) => w.abort()));
    throw e;
  } finally {
    await source.close();
  }
}

/** Share of a file's work in each stage (separating costs most; writing runs the full-band masks). */
const STAGE_SPAN: Record<SeparationStage, [number, number]> = {
  reading: [0, 0.1], resampling: [0, 0.1], adapting: [0.1, 0.1], separating: [0.1, 0.7], writing: [0.7, 1],
};
/** The same when adapting, which takes a minute or more whatever the file's length. */
const ADAPTING_SPAN: Record<SeparationStage, [number, number]> = {
  reading: [0, 0.05], resampling: [0, 0.05], adapting: [0.05, 0.75], separating: [0.75, 0.9], writing: [0.9, 1],
};

/** Where each stage of a file's separation lies in its overall progress, 0 to 1. */
export function stageSpan(adapting: boolean): Readonly<Record<SeparationStage, [number, number]>> {
  return adapting ? ADAPTING_SPAN : STAGE_SPAN;
}

export interface SeparateFilesOptions extends Omit<SeparateFileOptions, 'onProgress'> {
  /**
   * Progress over the whole batch: the file being worked on, what is being done to it and how far
   * along (`stageFraction`), and the batch's overall fraction.
   */
  onProgress?: (info: { fileIndex: number; path: string; stage: SeparationStage; stageFraction: number; fraction: number }) => void;
}
export interface SeparateFilesResult {
  done: SeparatedFile[];
  /** Files that could not be separated, with the reason; the batch carries on past them. */
  failed: { path: string; error: Error }[];
}

/**
 * Separates several recordings into one folder. A bad file is recorded and the batch moves on;
 * cancellation (an AbortError) ends the whole batch. Inputs whose stems would share file names
 * (same base name) fail up front instead of overwriting each other.
 */
export async function separateFiles(model: Separator, inputPaths: readonly string[], opts: SeparateFilesOptions): Promise<SeparateFilesResult> {
  const result: SeparateFilesResult = { done: [], failed: [] };
  const claimed = new Map<string, string>();
  for (let i = 0; i < inputPaths.length; i++) {
    const path = inputPaths[i]!;
    const key = stemPath(opts.outDir, path, 'x', opts.format ?? 'wav16');
    const earlier = claimed.get(key);
    if (earlier !== undefined) {
      result.failed.push({ path, error: new SeparationInputError(`${path} has the same base name as ${earlier}; their stems would overwrite each other in ${opts.outDir}`) });
      continue;
    }
    claimed.set(key, path);
    try {
      const { onProgress, ...rest } = opts;
      const file = await separateFile(model, path, {
        ...rest,
        onProgress: (stage, f) => {
          const [lo, hi] = stageSpan(opts.adapt != null)[stage];
          onProgress?.({ fileIndex: i, path, stage, stageFraction: f, fraction: (i + lo + (hi - lo) * f) / inputPaths.length });
        },
      });
      result.done.push(file);
    } catch (e) {
      if (e instanceof Error && e.name === 'AbortError') throw e;
      result.failed.push({ path, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }
  return result;
}
