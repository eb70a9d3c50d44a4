// The data check before a run: what the data section's folders and corpus hold (clips and hours per
// class and split), the files left out and why, what would stop training, and what the built-in
// corpus still has to download. It decodes the user's folders (into the cache the run then reads)
// and never downloads anything.
import { defaultCacheDir } from '../data/fetch';
import { pendingDownload, readManifest } from '../data/manifest';
import type { CorpusEntry } from '../data/manifest';
import { PACKAGE_SETS } from '../data/packages';
import type { PackageSet } from '../data/packages';
import type { Split } from '../data/split';
import { SOUND_CLASSES } from '../types';
import type { MixtureType, SoundClass } from '../types';
import type { DataConfig } from './config';
import { loadFolders } from './data';
import type { DataOptions, FolderKind } from './data';

export interface FolderCheck {
  path: string;
  kind: FolderKind;
  /** 'flat': files only; 'sub-folders': speakers (speech) or labels (env); 'mixed': both; null: unreadable. */
  layout: 'flat' | 'sub-folders' | 'mixed' | 'esc50' | null;
  /** The sub-folders taken as speakers or labels. */
  groups: string[];
  clips: number;
  hours: number;
  /** Why the folder could not be read. */
  error?: string;
}

export type SplitTable = Record<SoundClass, Record<Split, number>>;

export interface CorpusCheck {
  set: PackageSet;
  /** Fetched and decoded: its clips are in the tables. */
  ready: boolean;
  /** What starting the run downloads first; null when every package is on disk. */
  download: { packages: string[]; mb: number } | null;
}

export interface DataCheck {
  folders: FolderCheck[];
  corpus: CorpusCheck | null;
  clips: SplitTable;
  hours: SplitTable;
  /** Files left out, with why. */
  skipped: { file: string; reason: string }[];
  /** Where the before/after scores of a fine-tune come from: test, else validation; null: neither has the clips. */
  heldOutSplit: Split | null;
  /** What stops the run from starting; empty when it can. */
  problems: string[];
  /** Worth knowing, but no reason not to start. */
  notes: string[];
}

const table = (): SplitTable => ({ speech: { train: 0, validation: 0, test: 0 }, env: { train: 0, validation: 0, test: 0 } });

/** The classes a mixture type draws from ('speech+env' -> speech, env). */
const classesOf = (t: MixtureType) => [...new Set(t.split('+'))] as SoundClass[];

/** The classes the data section's mixture types need in every split. */
export function neededClasses(data: DataConfig): SoundClass[] {
  const types = (Object.entries(data.mixtureTypes) as [MixtureType, number][]).filter(([, w]) => w > 0).map(([t]) => t);
  return SOUND_CLASSES.filter((c) => types.some((t) => classesOf(t).includes(c)));
}

/** Whether the data section's corpus is ready, and what it would download; null without a corpus. */
export async function corpusCheck(data: DataConfig): Promise<{ check: CorpusCheck; entries: CorpusEntry[] } | null> {
  if (!data.corpus) return null;
  const cacheDir = data.cacheDir ?? defaultCacheDir();
  const wanted = PACKAGE_SETS[data.corpus];
  const manifest = await readManifest(cacheDir).catch(() => null);
  const has = new Set(manifest?.packages.map((p) => p.name) ?? []);
  if (manifest && wanted.every((p) => has.has(p))) {
    return { check: { set: data.corpus, ready: true, download: null }, entries: manifest.entries.filter((e) => wanted.includes(e.package)) };
  }
  const download = await pendingDownload(wanted, cacheDir);
  return { check: { set: data.corpus, ready: false, download: download.packages.length ? download : null }, entries: [] };
}

/** Clip counts per class and split. */
export function clipTable(entries: readonly CorpusEntry[]): SplitTable {
  const clips = table();
  for (const e of entries) clips[e.class][e.split]++;
  return clips;
}

/** The split before/after scores come from: test when it holds every class needed, else validation, else none. */
export function scoredSplit(clips: SplitTable, needed: readonly SoundClass[]): Split | null {
  const has = (s: Split) => needed.every((c) => clips[c][s] > 0);
  return has('test') ? 'test' : has('validation') ? 'validation' : null;
}

export async function checkData(data: DataConfig, opts: DataOptions = {}): Promise<DataCheck> {
  const cacheDir = data.cacheDir ?? defaultCacheDir();
  const clips = table();
  const hours = table();
  const count = (e: CorpusEntry) => {
    clips[e.class][e.split]++;
    hours[e.class][e.split] += e.duration / 3600;
  };
  const problems: string[] = [];
  const notes: string[] = [];
  const corpus = await corpusCheck(data);
  corpus?.entries.forEach(count);
  if (data.corpus === 'heldout') problems.push('the "heldout" recordings are for evaluation only: choose another corpus to train on');

  const folders: FolderCheck[] = [];
  const skipped: DataCheck['skipped'] = [];
  await loadFolders(data, cacheDir, opts, (folder, result) => {
    if ('error' in result) {
      folders.push({ ...folder, layout: null, groups: [], clips: 0, hours: 0, error: result.error });
      problems.push(`${folder.path}: ${result.error}`);
      return;
    }
    result.entries.forEach(count);
    skipped.push(...result.skipped);
    const l = result.layout;
    const layout = !l ? 'esc50' : l.subfolders.length === 0 ? 'flat' : l.looseFiles === 0 ? 'sub-folders' : 'mixed';
    const seconds = result.entries.reduce((s, e) => s + e.duration, 0);
    folders.push({ ...folder, layout, groups: l?.subfolders ?? [], clips: result.entries.length, hours: seconds / 3600 });
    if (result.entries.length === 0) {
      const left = result.skipped.length;
      problems.push(`${folder.path} has no audio Tilt can use${left ? ` (${left} file${left === 1 ? '' : 's'} left out, listed below)` : ''}`);
    }
    if (folder.kind === 'speech' && l && l.looseFiles > 0) {
      notes.push(`${folder.path}: the speakers of the files directly in it are unknown, so they are split file by file and a voice may be both trained on and scored on (sub-folders per speaker keep voices apart)`);
    }
  });

  // A corpus still to fetch brings every class: what it will hold is not known yet.
  const pending = corpus !== null && !corpus.check.ready;
  const needed = neededClasses(data);
  if (!pending) {
    for (const c of needed) {
      if (clips[c].train === 0) problems.push(`no ${c} clips to train on`);
      if (clips[c].validation === 0) problems.push(`no ${c} clips for validation: add more ${c} files (1 in 10 goes to validation, 1 in 10 to test)`);
    }
  }
  const heldOutSplit = pending ? 'test' : scoredSplit(clips, needed);
  if (heldOutSplit === 'validation') notes.push('no test clips of every class: the before/after scores use the validation split, which also chooses the best checkpoint');
  return {
    folders, corpus: corpus?.check ?? null, clips, hours, skipped, heldOutSplit, problems, notes,
  };
}
