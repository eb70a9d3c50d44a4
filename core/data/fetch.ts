// Download and unpack Debian packages without root: `apt-get download` into the cache, then
// `dpkg-deb -x`. A marker file per package makes the fetch idempotent and resumable.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, readdir, readFile, writeFile, rm, rename, access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { summariseLicence } from './licence';

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
}

export interface FetchedPackage {
  name: string;
  root: string;
  licence: string;
  debBytes: number;
}

interface Marker { name: string; version: string; debBytes: number; licence: string }

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

async function aptDownload(pkg: string, dir: string): Promise<void> {
  try {
    await run('apt-get', ['download', pkg], { cwd: dir, maxBuffer: 1 << 24 });
  } catch (e) {
    const msg = `${(e as { stderr?: string }).stderr ?? ''}${(e as Error).message}`;
    if (!/Unable to locate package|No packages found|Can't select/.test(msg)) throw e;
    // No package lists yet on this machine: fetch them once and try again.
    await run('apt-get', ['update'], { maxBuffer: 1 << 24 });
    await run('apt-get', ['download', pkg], { cwd: dir, maxBuffer: 1 << 24 });
  }
}

/**
 * Fetches the packages into `<cacheDir>/packages/<pkg>/` (skipping those already done) and returns
 * where each is, with its licence summarised from its Debian copyright file.
 */
export async function fetchPackages(
  names: string[], opts: { cacheDir?: string; onProgress?: (p: FetchProgress) => void } = {},
): Promise<FetchedPackage[]> {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const debDir = join(cacheDir, 'debs');
  await mkdir(debDir, { recursive: true });
  const out: FetchedPackage[] = [];
  for (const [index, name] of names.entries()) {
    const progress = (stage: FetchProgress['stage']) => opts.onProgress?.({ pkg: name, index, total: names.length, stage });
    const root = packageRoot(cacheDir, name);
    const markerPath = join(root, '.tilt-extracted.json');
    if (await exists(markerPath)) {
      const m = JSON.parse(await readFile(markerPath, 'utf8')) as Marker;
      out.push({ name, root, licence: m.licence, debBytes: m.debBytes });
      progress('cached');
      continue;
    }
    let deb = (await readdir(debDir)).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
    if (!deb) {
      progress('download');
      await aptDownload(name, debDir);
      deb = (await readdir(debDir)).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${name} produced no .deb in ${debDir}`);
    }
    progress('extract');
    // Extract beside the target and rename, so an interrupted extraction is never taken for a done one.
    const partial = `${root}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const debPath = join(debDir, deb);
    await run('dpkg-deb', ['-x', debPath, partial], { maxBuffer: 1 << 24 });
    const copyright = await readFile(join(partial, 'usr/share/doc', name, 'copyright'), 'utf8').catch(() => '');
    const licence = summariseLicence(copyright);
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(debPath));
    const version = deb.slice(name.length + 1).replace(/_[^_]+\.deb$/, '');
    await writeFile(join(partial, '.tilt-extracted.json'), JSON.stringify({ name, version, debBytes: size, licence } satisfies Marker));
    await rm(root, { recursive: true, force: true });
    await mkdir(join(cacheDir, 'packages'), { recursive: true });
    await rename(partial, root);
    out.push({ name, root, licence, debBytes: size });
    progress('done');
  }
  return out;
}
