// Turns a training config's data section into a MixtureSource: the corpus and/or the user's
// folders, held in memory at 8 kHz, mixed online for training and fixed by seed for validation.
import { join } from 'node:path';
import { defaultCacheDir } from '../data/fetch';
import { prepareCorpus, readManifest } from '../data/manifest';
import type { CorpusEntry, Manifest, PrepareProgress } from '../data/manifest';
import { PACKAGE_SETS } from '../data/packages';
import { loadClassFolders, loadEsc50, loadSpeechFolders } from '../data/loaders';
import type { LoadResult } from '../data/loaders';
import { folderFiles } from '../data/folders';
import { loadClips, Mixer } from '../data/mixer';
import type { Clip, MixerBatch } from '../data/mixer';
import type { Split } from '../data/split';
import type { DataConfig, TrainConfig } from './config';
import type { MixtureSource } from './trainer';

export interface DataOptions {
  /** Fetching and decoding, as the loaders report it (folders' decoding as one pass over all of them). */
  onProgress?: (p: PrepareProgress) => void;
  /** Checked between packages and files: an aborted load rejects with the signal's reason. */
  signal?: AbortSignal;
}

export type FolderKind = 'speech' | 'env' | 'esc50';

/** The user's folders a data section names, in the order they are loaded. */
function userFolders(data: DataConfig): { kind: FolderKind; path: string }[] {
  return [
    ...data.speechDirs.map((path) => ({ kind: 'speech' as const, path })),
    ...data.envDirs.map((path) => ({ kind: 'env' as const, path })),
    ...(data.esc50 ? [{ kind: 'esc50' as const, path: data.esc50 }] : []),
  ];
}

async function audioCount(kind: FolderKind, path: string): Promise<number> {
  return (await folderFiles(kind === 'esc50' ? join(path, 'audio') : path).catch(() => ({ audio: [] }))).audio.length;
}

/**
 * Loads each user folder (decoding on first use), calling `each` with its result or, for a folder
 * that cannot be read, the reason. Decoding progress covers all the folders as one pass.
 */
export async function loadFolders(
  data: DataConfig, cacheDir: string, opts: DataOptions,
  each: (folder: { kind: FolderKind; path: string }, result: LoadResult | { error: string }) => void,
): Promise<void> {
  const folders = userFolders(data);
  const counts = opts.onProgress ? await Promise.all(folders.map((f) => audioCount(f.kind, f.path))) : [];
  const total = counts.reduce((a, b) => a + b, 0);
  let before = 0;
  for (const [i, folder] of folders.entries()) {
    const onProgress = opts.onProgress && ((p: PrepareProgress) => {
      if (p.phase === 'decode') opts.onProgress!({ ...p, done: Math.min(total, before + p.done), total });
    });
    const common = { cacheDir, ...(onProgress ? { onProgress } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
    let result: LoadResult;
    try {
      if (folder.kind === 'speech') result = await loadSpeechFolders(folder.path, common);
      else if (folder.kind === 'env') result = await loadClassFolders(folder.path, { ...common, classOf: () => 'env' });
      else result = await loadEsc50(folder.path, common);
    } catch (e) {
      opts.signal?.throwIfAborted();
      const code = (e as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : code === 'EACCES' ? 'not allowed to read it' : (e as Error).message;
      each(folder, { error: reason });
      continue;
    } finally {
      before += counts[i] ?? 0;
    }
    each(folder, result);
  }
}

/** Every clip the data section names (fetching and decoding the corpus on first use), and the files left out. */
export async function dataEntries(data: DataConfig, opts: DataOptions = {}): Promise<{ entries: CorpusEntry[]; cacheDir: string; skipped: Manifest['skipped'] }> {
  const cacheDir = data.cacheDir ?? defaultCacheDir();
  const entries: CorpusEntry[] = [];
  const skipped: Manifest['skipped'] = [];
  if (data.corpus) {
    const wanted = PACKAGE_SETS[data.corpus];
    const manifest = await readManifest(cacheDir).catch(() => null);
    const has = new Set(manifest?.packages.map((p) => p.name) ?? []);
    const complete = manifest && wanted.every((p) => has.has(p));
    const m = complete ? manifest : await prepareCorpus(data.corpus, { cacheDir, ...opts });
    entries.push(...m.entries.filter((e) => wanted.includes(e.package)));
  }
  await loadFolders(data, cacheDir, opts, (folder, result) => {
    if ('error' in result) throw new Error(`${folder.kind === 'esc50' ? 'ESC-50' : folder.kind} folder ${folder.path}: ${result.error}`);
    entries.push(...result.entries);
    skipped.push(...result.skipped);
  });
  return { entries, cacheDir, skipped };
}

/** The clips of one split, in memory; refused when the split has none. */
export async function splitClips(entries: CorpusEntry[], cacheDir: string, split: Split): Promise<Clip[]> {
  const clips = await loadClips(entries, { cacheDir, splits: [split] });
  if (clips.length === 0) throw new Error(`the data has no ${split} clips`);
  return clips;
}

export async function splitMixer(data: DataConfig, entries: CorpusEntry[], cacheDir: string, split: Split, seed: number): Promise<Mixer> {
  const clips = await splitClips(entries, cacheDir, split);
  return new Mixer(clips, { segmentSeconds: data.segmentSeconds, snrRange: data.snrDb, priors: data.mixtureTypes, seed, augment: split === 'train' ? data.augment : null });
}

/** `count` fixed mixtures of a split in batches of `batchSize`. */
export function fixedBatches(mixer: Mixer, count: number, batchSize: number, name: string): MixerBatch[] {
  const batches: MixerBatch[] = [];
  for (let i = 0; i * batchSize < count; i++) batches.push(mixer.fixed(Math.min(batchSize, count - i * batchSize), `${name}-${i}`));
  return batches;
}

/** The clips of the data section and the mixtures made of them: what a training job trains and scores on. */
export interface TrainingData {
  source: MixtureSource;
  entries: CorpusEntry[];
  cacheDir: string;
}

export async function trainingData(config: TrainConfig, opts: DataOptions = {}): Promise<TrainingData> {
  if (config.data.corpus === 'heldout') throw new Error('data.corpus "heldout" is evaluation material: it is never trained or validated on');
  const { entries, cacheDir } = await dataEntries(config.data, opts);
  const train = await splitMixer(config.data, entries, cacheDir, 'train', config.seed);
  const validationMixer = await splitMixer(config.data, entries, cacheDir, 'validation', config.validation.seed);
  const validation = fixedBatches(validationMixer, config.validation.mixtures, config.validation.batchSize, 'validation');
  const source: MixtureSource = {
    // Keyed by step, not drawn from a stream: a resumed run gets exactly the batches it would have.
    trainBatch: (step, batchSize) => train.fixed(batchSize, `train-step-${step}`),
    validation: () => validation,
  };
  return { source, entries, cacheDir };
}

export async function mixtureSourceFor(config: TrainConfig, opts: DataOptions = {}): Promise<MixtureSource> {
  return (await trainingData(config, opts)).source;
}
