// The corpus manifest: every usable clip with its class, label, source package, licence, duration
// and split, plus the clip's audio cached at the model's rate (mono float32) so that training loads
// it in one read instead of decoding and resampling again.
import { writeFileAtomic } from '../io/atomic';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { AudioFileError, readAudioBytes } from '../io/audio';
import { loadMono } from '../io/input';
import { MODEL_RATE, type SoundClass } from '../types';
import { PACKAGES, PACKAGE_SETS, type PackageSet } from './packages';
import { fetchPackages, defaultCacheDir, missingPackages, type FetchProgress } from './fetch';
import { parseDep5, licenceForPath } from './licence';
import { assignSplits, type Split, type SplitOptions } from './split';
import { exists, filesUnder } from '../io/fs';

export interface CorpusEntry {
  /** Absolute path of the original file (stored relative to the cache folder in manifest.json). */
  file: string;
  class: SoundClass;
  label: string;
  /** Split unit: speaker (speech) or source group (env). */
  group: string;
  package: string;
  licence: string;
  /** Seconds. */
  duration: number;
  split: Split;
  /** Mono float32 little-endian at MODEL_RATE, relative to the cache folder. */
  pcm?: string;
}

export interface Manifest {
  version: 1;
  rate: number;
  seed: number | string;
  packages: { name: string; licence: string; debBytes: number }[];
  entries: CorpusEntry[];
  /** Files left out, with why (undecodable, silence only, duplicate of another file). */
  skipped: { file: string; reason: string }[];
}

export const MANIFEST_FILE = 'manifest.json';

export type PrepareProgress =
  /** `fraction`: of the megabytes the fetch downloads, by the packages' listed sizes. */
  | ({ phase: 'fetch'; fraction: number } & FetchProgress)
  | { phase: 'decode'; done: number; total: number; file: string };

export async function writePcm(path: string, x: Float32Array): Promise<void> {
  await writeFileAtomic(path, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
}

export async function readPcm(path: string): Promise<Float32Array> {
  const b = await readFile(path);
  // Copy into an aligned buffer: Node's pooled Buffers may start at odd offsets.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/**
 * Decodes each candidate once (content-hash keyed, so reruns and duplicates cost a hash), caches the
 * 8 kHz mono audio, and drops undecodable, silent and duplicate files with the reason.
 */
export async function decodeCandidates(
  candidates: Omit<CorpusEntry, 'duration' | 'split' | 'pcm'>[],
  cacheDir: string,
  onProgress?: (p: PrepareProgress) => void,
  signal?: AbortSignal,
): Promise<{ entries: Omit<CorpusEntry, 'split'>[]; skipped: Manifest['skipped'] }> {
  const pcmDir = join(cacheDir, 'pcm8k');
  await mkdir(pcmDir, { recursive: true });
  const seen = new Map<string, string>();
  const entries: Omit<CorpusEntry, 'split'>[] = [];
  const skipped: Manifest['skipped'] = [];
  for (const [i, c] of candidates.entries()) {
    signal?.throwIfAborted();
    onProgress?.({ phase: 'decode', done: i, total: candidates.length, file: c.file });
    let bytes: Uint8Array;
    try {
      bytes = await readAudioBytes(c.file);
    } catch (e) {
      if (!(e instanceof AudioFileError)) throw e;
      skipped.push({ file: c.file, reason: e.reason });
      continue;
    }
    const sha = createHash('sha1').update(bytes).digest('hex');
    const dup = seen.get(sha);
    if (dup) { skipped.push({ file: c.file, reason: `duplicate of ${dup}` }); continue; }
    seen.set(sha, c.file);
    const pcmPath = join(pcmDir, `${sha}.f32`);
    let samples: number;
    if (await exists(pcmPath)) {
      samples = (await readPcm(pcmPath)).length;
    } else {
      try {
        const x = await loadMono(c.file, MODEL_RATE, { rejectSilence: true, quality: 'fast' });
        await writePcm(pcmPath, x);
        samples = x.length;
      } catch (e) {
        skipped.push({ file: c.file, reason: e instanceof AudioFileError ? e.reason : (e as Error).message });
        continue;
      }
    }
    entries.push({ ...c, duration: samples / MODEL_RATE, pcm: relative(cacheDir, pcmPath) });
  }
  onProgress?.({ phase: 'decode', done: candidates.length, total: candidates.length, file: '' });
  return { entries, skipped };
}

export interface PrepareOptions extends SplitOptions {
  cacheDir?: string;
  onProgress?: (p: PrepareProgress) => void;
  /** Checked between packages and files (and ends a running download): an aborted prepare rejects. */
  signal?: AbortSignal;
}

/** What fetching these packages downloads: the packages not on disk yet and their listed size. */
export async function pendingDownload(names: string[], cacheDir = defaultCacheDir()): Promise<{ packages: string[]; mb: number }> {
  const packages = await missingPackages(names, cacheDir);
  return { packages, mb: packages.reduce((sum, n) => sum + (PACKAGES[n]?.sizeMB ?? 0), 0) };
}

/**
 * Fetches a package set (or an explicit list of packages), labels and decodes its clips, assigns
 * splits and writes `<cacheDir>/manifest.json`. Safe to rerun: fetched packages and decoded clips are
 * reused.
 */
export async function prepareCorpus(set: PackageSet | string[], opts: PrepareOptions = {}): Promise<Manifest> {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const requested = Array.isArray(set) ? set : PACKAGE_SETS[set];
  for (const n of requested) if (!PACKAGES[n]) throw new Error(`unknown corpus package "${n}"`);
  // One manifest per cache: a new set adds to the packages already there instead of replacing them.
  const previous = await readManifest(cacheDir).catch(() => null);
  const names = [...new Set([...(previous?.packages.map((p) => p.name).filter((n) => PACKAGES[n]) ?? []), ...requested])];
  const { signal } = opts;
  const download = await pendingDownload(names, cacheDir);
  const sizeOf = (n: string) => (download.packages.includes(n) ? PACKAGES[n]!.sizeMB : 0);
  let doneMB = 0;
  // A package counts whole from its extraction on: the bytes still to come are the other packages'.
  const fraction = (p: FetchProgress) => {
    if (p.stage === 'extract') doneMB += sizeOf(p.pkg);
    const now = p.stage === 'download' ? Math.min((p.bytes ?? 0) / 1e6, sizeOf(p.pkg)) : 0;
    return download.mb > 0 ? Math.min(1, (doneMB + now) / download.mb) : 1;
  };
  const fetched = await fetchPackages(names, {
    cacheDir, ...(signal ? { signal } : {}),
    onProgress: opts.onProgress && ((p) => opts.onProgress!({ phase: 'fetch', fraction: fraction(p), ...p })),
  });
  const candidates: Omit<CorpusEntry, 'duration' | 'split' | 'pcm'>[] = [];
  for (const [index, pkg] of fetched.entries()) {
    signal?.throwIfAborted();
    const { unpack } = PACKAGES[pkg.name]!;
    // Audio inside game archives comes out now: minutes for the big ones, after their download.
    if (unpack && download.packages.includes(pkg.name)) {
      opts.onProgress?.({ phase: 'fetch', fraction: 1, pkg: pkg.name, index, total: fetched.length, stage: 'extract' });
    }
    await unpack?.(pkg.root);
    const copyright = await readFile(join(pkg.root, 'usr/share/doc', pkg.name, 'copyright'), 'utf8').catch(() => '');
    const stanzas = parseDep5(copyright);
    for (const file of await filesUnder(pkg.root)) {
      const rel = relative(pkg.root, file);
      const l = PACKAGES[pkg.name]!.label(rel);
      if (!l) continue;
      candidates.push({ file, ...l, package: pkg.name, licence: licenceForPath(stanzas, rel) ?? pkg.licence });
    }
  }
  const { entries, skipped } = await decodeCandidates(candidates, cacheDir, opts.onProgress, signal);
  // Held-out packages are test material as a whole; the rest is split by paths inside the cache, so
  // that the splits do not depend on where the cache lives.
  const heldOut = new Set(PACKAGE_SETS.heldout);
  const splittable = entries.filter((e) => !heldOut.has(e.package));
  const assigned = assignSplits(splittable.map((e) => ({ ...e, file: relative(cacheDir, e.file) })), opts);
  const splitOf = new Map(splittable.map((e, i) => [e, assigned[i]!]));
  const splits = entries.map((e): Split => splitOf.get(e) ?? 'test');
  const manifest: Manifest = {
    version: 1,
    rate: MODEL_RATE,
    seed: opts.seed ?? 0,
    packages: fetched.map((p) => ({ name: p.name, licence: p.licence, debBytes: p.debBytes })),
    entries: entries.map((e, i) => ({ ...e, split: splits[i]! })),
    skipped,
  };
  const path = join(cacheDir, MANIFEST_FILE);
  const portable = { ...manifest, entries: manifest.entries.map((e) => ({ ...e, file: relative(cacheDir, e.file) })) };
  await writeFileAtomic(path, JSON.stringify(portable, null, 1));
  return manifest;
}

export async function readManifest(cacheDir = defaultCacheDir()): Promise<Manifest> {
  const path = join(cacheDir, MANIFEST_FILE);
  try {
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    // Files are stored relative to the cache, so it can move (manifests from before hold absolute paths).
    return { ...manifest, entries: manifest.entries.map((e) => ({ ...e, file: resolve(cacheDir, e.file) })) };
  } catch (e) {
    throw new Error(`no corpus manifest at ${path} (run the data fetch first): ${(e as Error).message}`, { cause: e });
  }
}

/** Each entry's file (the clips' ids) to the package or user folder it came from. */
export function packageOfFile(entries: readonly CorpusEntry[]): Map<string, string> {
  return new Map(entries.map((e) => [e.file, e.package]));
}

/** Hours of audio per class and split, for model cards and `tilt data list`. */
export function summarise(entries: CorpusEntry[]): Record<SoundClass, Record<Split, number>> {
  const out = { speech: { train: 0, validation: 0, test: 0 }, env: { train: 0, validation: 0, test: 0 } };
  for (const e of entries) out[e.class][e.split] += e.duration / 3600;
  return out;
}
