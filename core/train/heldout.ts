// Held-out evaluation sets: fixed, seeded mixtures of one split of the configured data, the same
// for every model scored on them (`tilt evaluate`, the shipped model's card).
import type { MixerBatch } from '../data/mixer';
import type { Split } from '../data/split';
import type { DataConfig } from './config';
import { dataEntries, fixedBatches, splitMixer } from './data';

export interface HeldOutOptions {
  data: DataConfig;
  split: Split;
  mixtures: number;
  seed: number;
  batchSize?: number;
}

export async function heldOutBatches(opts: HeldOutOptions): Promise<MixerBatch[]> {
  const { entries, cacheDir } = await dataEntries(opts.data);
  const mixer = await splitMixer(opts.data, entries, cacheDir, opts.split, opts.seed);
  return fixedBatches(mixer, opts.mixtures, opts.batchSize ?? 8, opts.split);
}
