// Users' own data in the common layouts, turned into corpus entries (decoded once, cached at 8 kHz).
import { readdir, readFile } from 'node:fs/promises';
import { join, basename, relative } from 'node:path';
import type { SoundClass } from '../types';
import { decodeCandidates, type CorpusEntry, type Manifest, type PrepareProgress } from './manifest';
import { assignSplits, type Split, type SplitOptions } from './split';
import { soundName } from './packages';
import { defaultCacheDir } from './fetch';

const AUDIO = /\.(wav|flac|ogg|mp3)$/i;

export interface LoadResult { entries: CorpusEntry[]; skipped: Manifest['skipped'] }

interface LoaderOptions extends SplitOptions {
  cacheDir?: string;
  onProgress?: (p: PrepareProgress) => void;
  licence?: string;
}

async function audioFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...await audioFiles(p));
    else if (d.isFile() && AUDIO.test(d.name)) out.push(p);
  }
  return out.sort();
}

async function subdirs(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

/** Splits an ESC-50 fold number: folds 1-3 train, 4 validation, 5 test unless told otherwise. */
export type FoldSplits = Record<number, Split>;
export const ESC50_FOLDS: FoldSplits = { 1: 'train', 2: 'train', 3: 'train', 4: 'validation', 5: 'test' };

/**
 * ESC-50 layout: `audio/*.wav` and `meta/esc50.csv` (filename,fold,target,category,esc10,src_file,take).
 * Every category is environmental sound; the split follows the fold, which keeps each source
 * recording (src_file) inside one fold as ESC-50 intends.
 */
export async function loadEsc50(root: string, opts: LoaderOptions & { folds?: FoldSplits } = {}): Promise<LoadResult> {
  const csvPath = join(root, 'meta', 'esc50.csv');
  const lines = (await readFile(csvPath, 'utf8')).split(/\r?\n/).filter((l) => l.trim());
  const header = lines.shift()?.split(',').map((s) => s.trim()) ?? [];
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${csvPath}: no "${name}" column (found ${header.join(', ')})`);
    return i;
  };
  const [fFile, fFold, fCat, fSrc] = [col('filename'), col('fold'), col('category'), col('src_file')];
  const folds = opts.folds ?? ESC50_FOLDS;
  const splitOf = new Map<string, Split>();
  const candidates = lines.map((line, n) => {
    const cells = line.split(',');
    const fold = Number(cells[fFold]);
    const split = folds[fold];
    if (!split) throw new Error(`${csvPath}:${n + 2}: fold "${cells[fFold]}" has no split`);
    const file = join(root, 'audio', cells[fFile]!.trim());
    splitOf.set(file, split);
    return {
      file, class: 'env' as const, label: cells[fCat]!.trim(), group: `esc50:${cells[fSrc]!.trim()}`,
      package: 'esc50', licence: opts.licence ?? 'see ESC-50 LICENSE',
    };
  });
  const { entries, skipped } = await decodeCandidates(candidates, opts.cacheDir ?? defaultCacheDir(), opts.onProgress);
  return { entries: entries.map((e) => ({ ...e, split: splitOf.get(e.file)! })), skipped };
}

async function finish(
  candidates: Omit<CorpusEntry, 'duration' | 'split' | 'pcm'>[], opts: LoaderOptions,
): Promise<LoadResult> {
  const { entries, skipped } = await decodeCandidates(candidates, opts.cacheDir ?? defaultCacheDir(), opts.onProgress);
  const splits = assignSplits(entries, opts);
  return { entries: entries.map((e, i) => ({ ...e, split: splits[i]! })), skipped };
}

/** One folder per speaker, audio files (any depth) inside; splits by speaker when there are enough. */
export async function loadSpeechFolders(root: string, opts: LoaderOptions = {}): Promise<LoadResult> {
  const candidates = [];
  for (const speaker of await subdirs(root)) {
    for (const file of await audioFiles(join(root, speaker))) {
      candidates.push({
        file, class: 'speech' as const, label: speaker, group: `speaker:${speaker}`,
        package: `folder:${basename(root)}`, licence: opts.licence ?? 'user data',
      });
    }
  }
  return finish(candidates, opts);
}

/**
 * One folder per class or label (`dog/`, `rain/`, `speech/`...). `classOf` maps a folder name to
 * speech or env (or null to leave the folder out); by default a folder named "speech" (any case) is
 * speech and every other folder is environmental sound.
 */
export async function loadClassFolders(
  root: string, opts: LoaderOptions & { classOf?: (folder: string) => SoundClass | null } = {},
): Promise<LoadResult> {
  const classOf = opts.classOf ?? ((f: string) => (f.toLowerCase() === 'speech' ? 'speech' : 'env'));
  const candidates = [];
  for (const folder of await subdirs(root)) {
    const cls = classOf(folder);
    if (!cls) continue;
    for (const file of await audioFiles(join(root, folder))) {
      const rel = relative(root, file);
      // Numbered variants of one recording (door.1.wav, door.2.wav) stay together.
      const group = `${rel.split('/').slice(0, -1).join('/')}/${soundName(basename(file).replace(AUDIO, '').toLowerCase())}`;
      candidates.push({
        file, class: cls, label: folder, group: cls === 'speech' ? `file:${rel}` : group,
        package: `folder:${basename(root)}`, licence: opts.licence ?? 'user data',
      });
    }
  }
  return finish(candidates, { minSpeakers: Infinity, ...opts });
}
