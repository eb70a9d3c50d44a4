// Download and unpack Debian packages without root: `apt-get download` into the cache, then
// `dpkg-deb -x`. A marker file per package makes the fetch idempotent and resumable.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, readdir, readFile, writeFile, rm, rename, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { summariseLicence } from './licence';
import { exists } from '../io/fs';

const run = promisify(execFile);

/** `$TILT_CACHE`, else `$XDG_CACHE_HOME/tilt`, else `~/.cache/tilt`. */
export function defaultCacheDir(): string {
  if (process.env.TILT_CACHE) return process.env.TILT_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tilt');
}

export function packageRoot(cacheDir: string, pkg: string): string {
  return join(cacheDir, 'packages', pkg);
}

export interface FetchProgress {
  pkg: string;
  index: number;
  total: number;
  stage: 'cached' | 'download' | 'extract' | 'done';
  /** Bytes of the package's .deb downloaded so far (download stage). */
  bytes?: number;
}

export interface FetchedPackage {
  name: string;
  root: string;
  licence: string;
  debBytes: number;
}

interface Marker { name: string; version: string; debBytes: number; licence: string }
const MARKER = '.tilt-extracted.json';

async function debIn(dir: string, pkg: string): Promise<string | undefined> {
  return (await readdir(dir)).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
}

/**
 * `apt-get download` into `<debDir>/partial/<pkg>`, reporting the bytes as they arrive, then moves
 * the .deb into debDir: apt writes the final file name as it goes, so an interrupted download must
 * never sit where a finished one is looked for.
 */
async function aptDownload(pkg: string, debDir: string, signal: AbortSignal | undefined, onBytes: (bytes: number) => void): Promise<string> {
  const dir = join(debDir, 'partial', pkg);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  let polling = true;
  const poll = setInterval(() => {
    void readdir(dir).then(async (names) => {
      let bytes = 0;
      for (const n of names) bytes += await stat(join(dir, n)).then((s) => s.size, () => 0);
      if (polling) onBytes(bytes);
    }, () => undefined);
  }, 500);
  const opts = { cwd: dir, maxBuffer: 1 << 24, ...(signal ? { signal } : {}) };
  try {
    try {
      await run('apt-get', ['download', pkg], opts);
    } catch (e) {
      const msg = `${(e as { stderr?: string }).stderr ?? ''}${(e as Error).message}`;
      if (!/Unable to locate package|No packages found|Can't select/.test(msg)) throw e;
      // No package lists yet on this machine: fetch them once and try again.
      await run('apt-get', ['update'], { maxBuffer: 1 << 24, ...(signal ? { signal } : {}) });
      await run('apt-get', ['download', pkg], opts);
    }
    const deb = await debIn(dir, pkg);
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb in ${dir}`);
    await rename(join(dir, deb), join(debDir, deb));
    return deb;
  } finally {
    polling = false;
    clearInterval(poll);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The packages of `names` that a fetch would download: neither extracted nor downloaded yet. */
export async function missingPackages(names: string[], cacheDir = defaultCacheDir()): Promise<string[]> {
  const debDir = join(cacheDir, 'debs');
  const missing: string[] = [];
  for (const name of names) {
    if (await exists(join(packageRoot(cacheDir, name), MARKER))) continue;
    if (await exists(debDir) && await debIn(debDir, name)) continue;
    missing.push(name);
  }
  return missing;
}

/**
 * Fetches the packages into `<cacheDir>/packages/<pkg>/` (skipping those already done) and returns
 * where each is, with its licence summarised from its Debian copyright file.
 */
export async function fetchPackages(
  names: string[], opts: { cacheDir?: string; onProgress?: (p: FetchProgress) => void; signal?: AbortSignal } = {},
): Promise<FetchedPackage[]> {
  const { signal } = opts;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const debDir = join(cacheDir, 'debs');
  await mkdir(debDir, { recursive: true });
  const out: FetchedPackage[] = [];
  for (const [index, name] of names.entries()) {
    signal?.throwIfAborted();
    const progress = (stage: FetchProgress['stage'], bytes?: number) => opts.onProgress?.({ pkg: name, index, total: names.length, stage, ...(bytes === undefined ? {} : { bytes }) });
    const root = packageRoot(cacheDir, name);
    const markerPath = join(root, MARKER);
    if (await exists(markerPath)) {
      const m = JSON.parse(await readFile(markerPath, 'utf8')) as Marker;
      out.push({ name, root, licence: m.licence, debBytes: m.debBytes });
      progress('cached');
      continue;
    }
    let deb = await debIn(debDir, name);
    if (!deb) {
      progress('download', 0);
      deb = await aptDownload(name, debDir, signal, (bytes) => progress('download', bytes));
    }
    progress('extract');
    // Extract beside the target and rename, so an interrupted extraction is never taken for a done one.
    const partial = `${root}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const debPath = join(debDir, deb);
    await run('dpkg-deb', ['-x', debPath, partial], { maxBuffer: 1 << 24, ...(signal ? { signal } : {}) });
    const copyright = await readFile(join(partial, 'usr/share/doc', name, 'copyright'), 'utf8').catch(() => '');
    const licence = summariseLicence(copyright);
    const { size } = await stat(debPath);
    const version = deb.slice(name.length + 1).replace(/_[^_]+\.deb$/, '');
    await writeFile(join(partial, MARKER), JSON.stringify({ name, version, debBytes: size, licence } satisfies Marker));
    await rm(root, { recursive: true, force: true });
    await mkdir(join(cacheDir, 'packages'), { recursive: true });
    await rename(partial, root);
    out.push({ name, root, licence, debBytes: size });
    progress('done');
  }
  return out;
}
