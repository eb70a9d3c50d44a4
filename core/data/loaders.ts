// Users' own data in the common layouts, turned into corpus entries (decoded once, cached at 8 kHz).
// Sub-folders are optional: when present they name speakers (speech) or labels (env); files directly
// in a folder are taken too.
import { readFile } from 'node:fs/promises';
import { join, basename, relative } from 'node:path';
import type { SoundClass } from '../types';
import { decodeCandidates, type CorpusEntry, type Manifest, type PrepareProgress } from './manifest';
import { assignSplits, type Split, type SplitOptions } from './split';
import { soundName } from './packages';
import { defaultCacheDir } from './fetch';
import { AUDIO_FILE, folderFiles, subfolders } from './folders';

/** How a user folder is laid out. */
export interface FolderLayout {
  /** Sub-folders taken as speakers (speech) or labels (env). */
  subfolders: string[];
  /** Audio files directly in the folder. */
  looseFiles: number;
}

export interface LoadResult {
  entries: CorpusEntry[];
  /** Files left out, with why: not audio, undecodable, silent, duplicate. */
  skipped: Manifest['skipped'];
  /** For folder layouts (not ESC-50). */
  layout?: FolderLayout;
}

interface LoaderOptions extends SplitOptions {
  cacheDir?: string;
  onProgress?: (p: PrepareProgress) => void;
  /** Checked between files: an aborted load rejects with its reason. */
  signal?: AbortSignal;
  licence?: string;
}

type Candidate = Omit<CorpusEntry, 'duration' | 'split' | 'pcm'>;

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
  const { entries, skipped } = await decodeCandidates(candidates, opts.cacheDir ?? defaultCacheDir(), opts.onProgress, opts.signal);
  return { entries: entries.map((e) => ({ ...e, split: splitOf.get(e.file)! })), skipped };
}

async function finish(
  root: string, candidates: Candidate[], notAudio: Manifest['skipped'], layout: FolderLayout, opts: LoaderOptions,
): Promise<LoadResult> {
  const { entries, skipped } = await decodeCandidates(candidates, opts.cacheDir ?? defaultCacheDir(), opts.onProgress, opts.signal);
  // Split by paths inside the folder, so that a moved folder keeps its splits (and its held-out files).
  const splits = assignSplits(entries.map((e) => ({ ...e, file: relative(root, e.file) })), opts);
  return { entries: entries.map((e, i) => ({ ...e, split: splits[i]! })), skipped: [...notAudio, ...skipped], layout };
}

/**
 * Speech: one sub-folder per speaker (audio at any depth inside), and/or files directly in the
 * folder, whose speakers are unknown: each such file is its own split unit. Splits by speaker when
 * there are enough units, else by file in seeded order (always, for a folder without sub-folders).
 */
export async function loadSpeechFolders(root: string, opts: LoaderOptions = {}): Promise<LoadResult> {
  const source = { class: 'speech' as const, package: `folder:${basename(root)}`, licence: opts.licence ?? 'user data' };
  const speakers = await subfolders(root);
  const loose = await folderFiles(root, false);
  const candidates: Candidate[] = [];
  const notAudio = [...loose.other];
  for (const speaker of speakers) {
    const files = await folderFiles(join(root, speaker));
    notAudio.push(...files.other);
    for (const file of files.audio) candidates.push({ ...source, file, label: speaker, group: `speaker:${speaker}` });
  }
  for (const file of loose.audio) candidates.push({ ...source, file, label: basename(root), group: `file:${basename(root)}/${relative(root, file)}` });
  const split = speakers.length === 0 ? { minSpeakers: Infinity, ...opts } : opts;
  return finish(root, candidates, notAudio, { subfolders: speakers, looseFiles: loose.audio.length }, split);
}

/**
 * One folder per class or label (`dog/`, `rain/`, `speech/`...), and/or files directly in the
 * folder, labelled with its own name. `classOf` maps a folder name to speech or env (or null to
 * leave the folder out); by default a folder named "speech" (any case) is speech and every other
 * folder is environmental sound. Env files are split by recording (a file and its numbered variants).
 */
export async function loadClassFolders(
  root: string, opts: LoaderOptions & { classOf?: (folder: string) => SoundClass | null } = {},
): Promise<LoadResult> {
  const classOf = opts.classOf ?? ((f: string) => (f.toLowerCase() === 'speech' ? 'speech' : 'env'));
  const candidates: Candidate[] = [];
  const notAudio: Manifest['skipped'] = [];
  const add = (file: string, cls: SoundClass, label: string) => {
    const rel = relative(root, file);
    // Numbered variants of one recording (door.1.wav, door.2.wav) stay together.
    const group = `${rel.split('/').slice(0, -1).join('/')}/${soundName(basename(file).replace(AUDIO_FILE, '').toLowerCase())}`;
    candidates.push({
      file, class: cls, label, group: cls === 'speech' ? `file:${rel}` : group,
      package: `folder:${basename(root)}`, licence: opts.licence ?? 'user data',
    });
  };
  const folders = (await subfolders(root)).filter((f) => classOf(f) !== null);
  for (const folder of folders) {
    const files = await folderFiles(join(root, folder));
    notAudio.push(...files.other);
    for (const file of files.audio) add(file, classOf(folder)!, folder);
  }
  const loose = await folderFiles(root, false);
  const rootClass = classOf(basename(root));
  notAudio.push(...loose.other);
  if (rootClass) for (const file of loose.audio) add(file, rootClass, basename(root));
  return finish(root, candidates, notAudio, { subfolders: folders, looseFiles: rootClass ? loose.audio.length : 0 }, { minSpeakers: Infinity, ...opts });
}
