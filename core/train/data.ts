// Turns a training config's data section into a MixtureSource: the corpus and/or the user's
// folders, held in memory at 8 kHz, mixed online for training and fixed by seed for validation.
import { defaultCacheDir } from '../data/fetch';
import { prepareCorpus, readManifest } from '../data/manifest';
import type { CorpusEntry } from '../data/manifest';
import { PACKAGE_SETS } from '../data/packages';
import { loadClassFolders, loadEsc50, loadSpeechFolders } from '../data/loaders';
import { loadClips, Mixer } from '../data/mixer';
import type { MixerBatch } from '../data/mixer';
import type { Split } from '../data/split';
import type { DataConfig, TrainConfig } from './config';
import type { MixtureSource } from './trainer';

/** Every clip the data section names (fetching and decoding the corpus on first use). */
export async function dataEntries(data: DataConfig): Promise<{ entries: CorpusEntry[]; cacheDir: string }> {
  const cacheDir = data.cacheDir ?? defaultCacheDir();
  const entries: CorpusEntry[] = [];
  if (data.corpus) {
    const wanted = PACKAGE_SETS[data.corpus];
    const manifest = await readManifest(cacheDir).catch(() => null);
    const has = new Set(manifest?.packages.map((p) => p.name) ?? []);
    const complete = manifest && wanted.every((p) => has.has(p));
    const m = complete ? manifest : await prepareCorpus(data.corpus, { cacheDir });
    entries.push(...m.entries.filter((e) => wanted.includes(e.package)));
  }
  for (const dir of data.speechDirs) entries.push(...(await loadSpeechFolders(dir, { cacheDir })).entries);
  for (const dir of data.envDirs) entries.push(...(await loadClassFolders(dir, { cacheDir, classOf: () => 'env' })).entries);
  if (data.esc50) entries.push(...(await loadEsc50(data.esc50, { cacheDir })).entries);
  return { entries, cacheDir };
}

export async function splitMixer(data: DataConfig, entries: CorpusEntry[], cacheDir: string, split: Split, seed: number): Promise<Mixer> {
  const clips = await loadClips(entries, { cacheDir, splits: [split] });
  if (clips.length === 0) throw new Error(`the data has no ${split} clips`);
  return new Mixer(clips, { segmentSeconds: data.segmentSeconds, snrRange: data.snrDb, priors: data.mixtureTypes, seed });
}

/** `count` fixed mixtures of a split in batches of `batchSize`. */
export function fixedBatches(mixer: Mixer, count: number, batchSize: number, name: string): MixerBatch[] {
  const batches: MixerBatch[] = [];
  for (let i = 0; i * batchSize < count; i++) batches.push(mixer.fixed(Math.min(batchSize, count - i * batchSize), `${name}-${i}`));
  return batches;
}

export async function mixtureSourceFor(config: TrainConfig): Promise<MixtureSource> {
  const { entries, cacheDir } = await dataEntries(config.data);
  const train = await splitMixer(config.data, entries, cacheDir, 'train', config.seed);
  const validationMixer = await splitMixer(config.data, entries, cacheDir, 'validation', config.validation.seed);
  const validation = fixedBatches(validationMixer, config.validation.mixtures, config.validation.batchSize, 'validation');
  return {
    // Keyed by step, not drawn from a stream: a resumed run gets exactly the batches it would have.
    trainBatch: (step, batchSize) => train.fixed(batchSize, `train-step-${step}`),
    validation: () => validation,
  };
}
