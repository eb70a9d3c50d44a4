// Train/validation/test assignment that never lets a voice or a source recording cross splits.
//
// Rule (deterministic for a given seed):
// - speech: when there are at least `minSpeakers` speakers, whole speakers are assigned (test and
//   validation voices are never heard in training). Speakers are taken largest first and each goes to
//   the split furthest below its target share of the duration. With fewer speakers, the unit is the
//   clip (the file), taken in seeded-hash order.
// - env: the unit is the source group (a file and its numbered variants, e.g. dig.1.ogg, dig.2.ogg),
//   taken in seeded-hash order, each to the split furthest below its target share.
import type { SoundClass } from '../types';
import { hashUnit } from './random';

export type Split = 'train' | 'validation' | 'test';
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

export interface SplitOptions {
  seed?: number | string;
  fractions?: Record<Split, number>;
  minSpeakers?: number;
}

export const DEFAULT_FRACTIONS: Record<Split, number> = { train: 0.8, validation: 0.1, test: 0.1 };

export interface Splittable {
  class: SoundClass;
  /** Speaker for speech, source group for env. */
  group: string;
  /** Unique per file. */
  file: string;
  duration: number;
}

interface Unit { key: string; duration: number; members: number[] }

function greedy(units: Unit[], fractions: Record<Split, number>, out: Split[]): void {
  const total = units.reduce((s, u) => s + u.duration, 0);
  const assigned: Record<Split, number> = { train: 0, validation: 0, test: 0 };
  for (const u of units) {
    let best: Split = 'train';
    let bestDeficit = -Infinity;
    for (const s of SPLITS) {
      if (fractions[s] <= 0) continue;
      const deficit = (fractions[s] * total - assigned[s]) / fractions[s];
      if (deficit > bestDeficit) { bestDeficit = deficit; best = s; }
    }
    assigned[best] += u.duration;
    for (const i of u.members) out[i] = best;
  }
}

function units(items: Splittable[], idx: number[], key: (it: Splittable) => string): Unit[] {
  const map = new Map<string, Unit>();
  for (const i of idx) {
    const k = key(items[i]!);
    const u = map.get(k) ?? { key: k, duration: 0, members: [] };
    u.duration += items[i]!.duration;
    u.members.push(i);
    map.set(k, u);
  }
  return [...map.values()];
}

/** The split of each item, in item order. */
export function assignSplits(items: Splittable[], opts: SplitOptions = {}): Split[] {
  const seed = opts.seed ?? 0;
  const fractions = opts.fractions ?? DEFAULT_FRACTIONS;
  const minSpeakers = opts.minSpeakers ?? 8;
  const out: Split[] = new Array(items.length).fill('train');
  const byHash = (a: Unit, b: Unit) => hashUnit(seed, a.key) - hashUnit(seed, b.key);

  const speech = items.flatMap((it, i) => (it.class === 'speech' ? [i] : []));
  const speakers = units(items, speech, (it) => it.group);
  if (speakers.length >= minSpeakers) {
    greedy(speakers.sort((a, b) => b.duration - a.duration || byHash(a, b)), fractions, out);
  } else {
    greedy(units(items, speech, (it) => it.file).sort(byHash), fractions, out);
  }
  const env = items.flatMap((it, i) => (it.class === 'env' ? [i] : []));
  greedy(units(items, env, (it) => it.group).sort(byHash), fractions, out);
  return out;
}
