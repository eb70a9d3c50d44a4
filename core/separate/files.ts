// File-level separation: read a recording, separate it at the model's rate, write one file per stem.
import { access, mkdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { AUDIO_FORMATS, AudioFileError, FORMAT_EXTENSIONS, downmix, isSilent, readAudioFile, resample, writeAudioFile, type AudioFormat } from '../io/audio';
import type { Separator } from '../models/types';
import { MODEL_RATE } from '../types';
import { separateSignal, SeparationInputError, type SeparateOptions } from './separate';

/** Names used when the model's metadata gives none: source1, source2, ... */
export function defaultStemNames(nSources: number): string[] {
  return Array.from({ length: nSources }, (_, i) => `source${i + 1}`);
}

// Stem names become part of file names: keep them to one safe path component.
const STEM_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export function validateStemNames(names: readonly string[], nSources: number): void {
  if (names.length !== nSources) throw new SeparationInputError(`${names.length} stem names given for ${nSources} stems`);
  for (const n of names) {
    if (!STEM_NAME.test(n)) throw new SeparationInputError(`stem name "${n}" must be letters, digits, '-' or '_' (it becomes part of a file name)`);
  }
  if (new Set(names).size !== names.length) throw new SeparationInputError(`stem names must be distinct, got ${names.join(', ')}`);
}

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

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Throws StemExistsError for the first target that exists, unless overwriting. */
async function checkTargets(paths: readonly string[], overwrite: boolean): Promise<void> {
  if (overwrite) return;
  for (const p of paths) if (await exists(p)) throw new StemExistsError(p);
}

export interface ExportStemsOptions {
  /** The recording the stems came from; its base name names the files. */
  inputPath: string;
  /** One signal per stem, at `modelRate`. */
  stems: readonly Float32Array[];
  stemNames: readonly string[];
  outDir: string;
  /** Default 'wav16'. */
  format?: AudioFormat;
  /** Write at the model's rate (default) or resampled back to the input's rate. */
  rate?: 'model' | 'input';
  /** The input's rate; required with rate 'input'. */
  inputRate?: number;
  /** The stems' rate. Default MODEL_RATE. */
  modelRate?: number;
  /** Replace existing files. Default false. */
  overwrite?: boolean;
}

/**
 * Writes `<outDir>/<name>.<stem>.<ext>` for every stem and returns the paths. Every target is checked
 * before the first is written, so a refused export leaves no partial set behind.
 */
export async function exportStems(opts: ExportStemsOptions): Promise<string[]> {
  const format = opts.format ?? 'wav16';
  if (!AUDIO_FORMATS.includes(format)) throw new SeparationInputError(`unknown format "${format}": use one of ${AUDIO_FORMATS.join(', ')}`);
  if (opts.stems.length === 0) throw new SeparationInputError('exportStems: no stems to export');
  validateStemNames(opts.stemNames, opts.stems.length);
  const modelRate = opts.modelRate ?? MODEL_RATE;
  const rateChoice = opts.rate ?? 'model';
  if (rateChoice !== 'model' && rateChoice !== 'input') throw new SeparationInputError(`rate must be 'model' or 'input', got "${String(rateChoice)}"`);
  let outRate = modelRate;
  if (rateChoice === 'input') {
    if (opts.inputRate === undefined || !Number.isInteger(opts.inputRate) || opts.inputRate <= 0) {
      throw new SeparationInputError(`exportStems: rate 'input' needs the input's sample rate (a positive integer), got ${opts.inputRate}`);
    }
    outRate = opts.inputRate;
  }
  const overwrite = opts.overwrite ?? false;
  const paths = opts.stemNames.map((name) => stemPath(opts.outDir, opts.inputPath, name, format));
  if (paths.some((p) => resolve(p) === resolve(opts.inputPath))) {
    throw new SeparationInputError(`exportStems: a stem would overwrite its own input ${opts.inputPath}`);
  }
  await checkTargets(paths, overwrite);
  await mkdir(opts.outDir, { recursive: true });
  for (let s = 0; s < opts.stems.length; s++) {
    const stem = opts.stems[s]!;
    const data = outRate === modelRate ? stem : await resample(stem, modelRate, outRate);
    await writeAudioFile(paths[s]!, [data], outRate, format, { overwrite });
  }
  return paths;
}

/** Mono at the model's rate plus the input's own rate (for exporting back at it). */
export async function loadForSeparation(inputPath: string, modelRate: number = MODEL_RATE): Promise<{ mixture: Float32Array; inputRate: number }> {
  const audio = await readAudioFile(inputPath);
  const mono = downmix(audio);
  if (isSilent(mono)) throw new AudioFileError(inputPath, 'silence only: nothing to separate');
  return { mixture: await resample(mono, audio.sampleRate, modelRate), inputRate: audio.sampleRate };
}

export interface SeparateFileOptions extends Omit<SeparateOptions, 'sampleRate'> {
  outDir: string;
  /** One per model source, in the model's output order. Default source1, source2, ... */
  stemNames?: readonly string[];
  format?: AudioFormat;
  rate?: 'model' | 'input';
  overwrite?: boolean;
}

export interface SeparatedFile {
  inputPath: string;
  /** Written stem files, in stemNames order. */
  outputs: string[];
  stemNames: string[];
  inputRate: number;
  /** Seconds of audio separated. */
  duration: number;
}

/** Reads, separates and exports one recording; refuses before any work if a stem file exists. */
export async function separateFile(model: Separator, inputPath: string, opts: SeparateFileOptions): Promise<SeparatedFile> {
  const stemNames = [...(opts.stemNames ?? defaultStemNames(model.nSources))];
  validateStemNames(stemNames, model.nSources);
  const format = opts.format ?? 'wav16';
  await checkTargets(stemNames.map((n) => stemPath(opts.outDir, inputPath, n, format)), opts.overwrite ?? false);
  const { mixture, inputRate } = await loadForSeparation(inputPath);
  const stems = await separateSignal(model, mixture, { ...opts, sampleRate: MODEL_RATE });
  const outputs = await exportStems({
    inputPath,
    stems,
    stemNames,
    outDir: opts.outDir,
    format,
    rate: opts.rate ?? 'model',
    inputRate,
    overwrite: opts.overwrite ?? false,
  });
  return { inputPath, outputs, stemNames, inputRate, duration: mixture.length / MODEL_RATE };
}

export interface SeparateFilesOptions extends Omit<SeparateFileOptions, 'onProgress'> {
  /** Progress over the whole batch: the file being worked on and the batch's overall fraction. */
  onProgress?: (info: { fileIndex: number; path: string; fraction: number }) => void;
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
        onProgress: (f) => onProgress?.({ fileIndex: i, path, fraction: (i + f) / inputPaths.length }),
      });
      result.done.push(file);
    } catch (e) {
      if (e instanceof Error && e.name === 'AbortError') throw e;
      result.failed.push({ path, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }
  return result;
}
