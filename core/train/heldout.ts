// Held-out evaluation sets: fixed, seeded mixtures of one split of the configured data, the same
// for every model scored on them (`tilt evaluate`, the shipped model's card).
import { longMixtures } from '../data/longMixtures';
import { packageOfFile } from '../data/manifest';
import type { MixerBatch } from '../data/mixer';
import type { Split } from '../data/split';
import type { DataConfig } from './config';
import { dataEntries, fixedBatches, splitClips, splitMixer } from './data';

export interface HeldOutOptions {
  data: DataConfig;
  split: Split;
  mixtures: number;
  seed: number;
  batchSize?: number;
}

export interface HeldOutSet {
  batches: MixerBatch[];
  /** Clip id (the batches' clipIds: file paths) to the corpus package or user folder it came from. */
  packageOf: ReadonlyMap<string, string>;
}

export async function heldOutSet(opts: HeldOutOptions): Promise<HeldOutSet> {
  const { entries, cacheDir } = await dataEntries(opts.data);
  const mixer = await splitMixer(opts.data, entries, cacheDir, opts.split, opts.seed);
  return {
    batches: fixedBatches(mixer, opts.mixtures, opts.batchSize ?? 8, opts.split),
    packageOf: packageOfFile(entries),
  };
}

/**
 * Long speech+env mixtures of one split (see longMixtures): a conversation over a run of sounds,
 * `seconds` long, at the data's SNR range.
 */
export async function longHeldOutSet(opts: HeldOutOptions & { seconds: number }): Promise<HeldOutSet> {
  const { entries, cacheDir } = await dataEntries(opts.data);
  const clips = await splitClips(entries, cacheDir, opts.split);
  const packageOf = packageOfFile(entries);
  return { batches: longMixtures(clips, packageOf, opts.mixtures, { seconds: opts.seconds, snrRange: opts.data.snrDb, seed: opts.seed }), packageOf };
}
