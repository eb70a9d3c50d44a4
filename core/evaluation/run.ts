// Every system separates every mixture of a held-out set; each result is scored by stem name.
import type { HeldOutSet } from '../train/heldout';
import { scoreMixture, windowSwaps } from './score';
import type { MixtureScore } from './score';
import { pairedReport, summarizeSystem, snrBands } from './report';
import type { SystemReport } from './report';
import type { SeparationSystem } from './systems';

export interface EvaluateOptions {
  /** The SNR range the mixtures were drawn from, cut into the report's bands. */
  snrRange: readonly [number, number];
  /** Called with the fraction of separations done. */
  onProgress?: (fraction: number) => void;
  /** Give every other system paired differences against the system at this index. */
  pairedWith?: number;
  /** Also count stem swaps window by window, in windows of this many samples (long mixtures). */
  swapWindow?: number;
}

/** Scores per system, in the order of `systems`, mixtures in the order of the set. */
export async function scoreSystems(systems: readonly SeparationSystem[], set: HeldOutSet, onProgress?: (fraction: number) => void, swapWindow?: number): Promise<MixtureScore[][]> {
  const scores: MixtureScore[][] = systems.map(() => []);
  const total = set.batches.reduce((n, b) => n + b.batch, 0) * systems.length;
  let done = 0;
  for (const b of set.batches) {
    if (b.nSrc !== 2) throw new Error(`scoring by stem name needs 2-source mixtures, got ${b.nSrc}`);
    for (let i = 0; i < b.batch; i++) {
      const mixture = b.mixture.subarray(i * b.time, (i + 1) * b.time);
      const references = [0, 1].map((s) => b.sources.subarray((i * 2 + s) * b.time, (i * 2 + s + 1) * b.time));
      const info = {
        type: b.mixtureTypes[i]!,
        snrDb: b.snrDb[i]!,
        classes: b.classes[i]!,
        packages: b.clipIds[i]!.map((id) => set.packageOf.get(id) ?? 'unknown'),
      };
      for (const [k, system] of systems.entries()) {
        const stems = await system.separate(mixture);
        const score = scoreMixture(stems, references, mixture, info);
        if (swapWindow !== undefined) score.windows = windowSwaps(stems, references, mixture, info.classes, swapWindow);
        scores[k]!.push(score);
        onProgress?.(++done / total);
      }
    }
  }
  return scores;
}

/** One report per system, in the order of `systems`. */
export async function evaluateSystems(systems: readonly SeparationSystem[], set: HeldOutSet, opts: EvaluateOptions): Promise<SystemReport[]> {
  const bands = snrBands(opts.snrRange);
  const scores = await scoreSystems(systems, set, opts.onProgress, opts.swapWindow);
  const base = opts.pairedWith;
  return systems.map((s, k) => {
    const report = summarizeSystem(s.name, scores[k]!, bands);
    if (base === undefined || base === k) return report;
    return { ...report, paired: pairedReport(systems[base]!.name, scores[k]!, scores[base]!) };
  });
}
