// Before/after: at the end of a fine-tune, the base model and the tuned one separate the same fixed
// held-out mixtures of the run's data (its test split, else validation) and are scored as users get
// them (core/evaluation), so the user sees what fine-tuning did for their material, per class.
import { packageOfFile, type CorpusEntry } from '../data/manifest';
import type { Split } from '../data/split';
import type { SystemReport } from '../evaluation/report';
import { evaluateSystems } from '../evaluation/run';
import { modelSystem } from '../evaluation/systems';
import { loadModel } from '../models/io';
import { SOUND_CLASSES } from '../types';
import type { SoundClass } from '../types';
import { clipTable, neededClasses, scoredSplit } from './check';
import type { DataConfig } from './config';
import { fixedBatches, splitMixer } from './data';

/** The held-out mixtures' seed: one set of mixtures for both models, the same for every run on the same data. */
export const BEFORE_AFTER_SEED = 2718;

export interface BeforeAfter {
  split: Split;
  /** Clips of each class in that split: what the mixtures are cut from. */
  clips: Record<SoundClass, number>;
  mixtures: number;
  seed: number;
  segmentSeconds: number;
  /** Reports of the base model ("base") and the tuned one ("fine-tuned"). */
  base: SystemReport;
  tuned: SystemReport;
}

/** Mean SI-SDRi (dB) of one breakdown, before and after. */
export interface BeforeAfterRow {
  label: string;
  /** Mixtures (overall) or sources (per class and folder) the means are over. */
  count: number;
  before: number;
  after: number;
}

/** What the CLI prints and the app shows. */
export interface BeforeAfterSummary {
  split: Split;
  clips: Record<SoundClass, number>;
  mixtures: number;
  rows: BeforeAfterRow[];
}

export interface BeforeAfterOptions {
  data: DataConfig;
  entries: readonly CorpusEntry[];
  cacheDir: string;
  baseDir: string;
  tunedDir: string;
  mixtures: number;
  batchSize: number;
  /** Fraction of the separations done. */
  onProgress?: (fraction: number) => void;
  /** Checked after each separation. */
  signal?: AbortSignal;
}

/** Scores both models; null when no split holds clips of every class the mixtures need. */
export async function scoreBeforeAfter(o: BeforeAfterOptions): Promise<BeforeAfter | null> {
  const table = clipTable(o.entries);
  const split = scoredSplit(table, neededClasses(o.data));
  if (!split) return null;
  const clips = { speech: table.speech[split], env: table.env[split] };
  const entries = [...o.entries];
  const mixer = await splitMixer(o.data, entries, o.cacheDir, split, BEFORE_AFTER_SEED);
  const set = {
    batches: fixedBatches(mixer, o.mixtures, o.batchSize, `before-after-${split}`),
    packageOf: packageOfFile(entries),
  };
  const base = await loadModel(o.baseDir);
  try {
    const tuned = await loadModel(o.tunedDir);
    try {
      const systems = [modelSystem('base', base.model, base.metadata?.stems), modelSystem('fine-tuned', tuned.model, tuned.metadata?.stems)];
      const [before, after] = await evaluateSystems(systems, set, {
        snrRange: o.data.snrDb,
        onProgress: (f) => {
          o.signal?.throwIfAborted();
          o.onProgress?.(f);
        },
      });
      return { split, clips, mixtures: o.mixtures, seed: BEFORE_AFTER_SEED, segmentSeconds: o.data.segmentSeconds, base: before!, tuned: after! };
    } finally {
      tuned.model.dispose();
    }
  } finally {
    base.model.dispose();
  }
}

/** All mixtures, each class's stem, and each folder or package when a class comes from several. */
export function beforeAfterSummary(r: BeforeAfter): BeforeAfterSummary {
  const rows: BeforeAfterRow[] = [{ label: 'all mixtures', count: r.base.overall.count, before: r.base.overall.mean, after: r.tuned.overall.mean }];
  for (const c of SOUND_CLASSES) {
    const b = r.base.byClass[c];
    if (b.count > 0) rows.push({ label: `${c} stem`, count: b.count, before: b.mean, after: r.tuned.byClass[c].mean });
  }
  const packages = Object.keys(r.base.byPackage);
  // Every class has at least one source: only with more sources than classes do the rows add anything.
  if (packages.length > rows.length - 1) {
    for (const p of packages) rows.push({ label: p.replace(/^folder:/, ''), count: r.base.byPackage[p]!.count, before: r.base.byPackage[p]!.mean, after: r.tuned.byPackage[p]!.mean });
  }
  return { split: r.split, clips: r.clips, mixtures: r.mixtures, rows };
}
