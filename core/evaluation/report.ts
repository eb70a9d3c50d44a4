// The held-out report: each system's scores summarised overall, per class, mixture type, SNR band and
// source package, with its stem swaps, and all systems side by side in one table (plain rows for the
// terminal, markdown for model cards).
import { PERCENTILES, pairedDifference, summarize } from '../train/metrics';
import type { PairedDiff, Summary } from '../train/metrics';
import { MIXTURE_TYPES, SOUND_CLASSES } from '../types';
import type { MixtureType, SoundClass } from '../types';
import type { MixtureScore, WindowSwaps } from './score';

export interface SnrBand {
  /** Inclusive. */
  lo: number;
  /** Exclusive, except for the last band, which holds its upper end. */
  hi: number;
  label: string;
}

/** Where the SNR range is cut: speech well below, near, and well above the env source's level. */
export const SNR_CUTS = [-2, 2] as const;

/** The SNR range cut at `cuts` (those strictly inside it): [-5, 5] gives [-5, -2), [-2, 2), [2, 5]. */
export function snrBands(range: readonly [number, number], cuts: readonly number[] = SNR_CUTS): SnrBand[] {
  const [lo, hi] = range;
  const edges = [lo, ...cuts.filter((c) => c > lo && c < hi), hi];
  if (edges.length === 2 && lo === hi) return [{ lo, hi, label: `[${lo}, ${hi}]` }];
  return edges.slice(1).map((e, i) => {
    const last = i === edges.length - 2;
    return { lo: edges[i]!, hi: e, label: `[${edges[i]}, ${e}${last ? ']' : ')'}` };
  });
}

function inBand(snr: number, band: SnrBand, last: boolean): boolean {
  return snr >= band.lo && (snr < band.hi || (last && snr === band.hi));
}

export interface SystemReport {
  system: string;
  /** Per mixture: the mean SI-SDRi (dB) of its sources, each scored against the stem of its name. */
  overall: Summary;
  /** Per reference source of that class. */
  byClass: Record<SoundClass, Summary>;
  /** Per mixture of that type; only the types present. */
  byMixtureType: Partial<Record<MixtureType, Summary>>;
  /** Per mixture whose SNR (source 0 over source 1; speech over env) lies in the band, by label. */
  bySnr: Record<string, Summary>;
  /** Per reference source from that package. */
  byPackage: Record<string, Summary>;
  /** Mixtures of two classes whose stems fit the references better with the names swapped. */
  swaps: { count: number; of: number };
  /** Long mixtures scored window by window: the windows swapped, over all mixtures. */
  windowSwaps?: WindowSwaps;
  /** The same under the best permutation per mixture, as training validation scores. */
  pit: { overall: Summary; byClass: Record<SoundClass, Summary> };
  /** This system minus another scored on the same mixtures (`pairedWith`), mixture by mixture and stem by stem. */
  paired?: PairedReport;
}

export interface PairedReport {
  against: string;
  overall: PairedDiff;
  byClass: Record<SoundClass, PairedDiff>;
}

/** `scores` minus `base`, both scored on the same mixtures in the same order. */
export function pairedReport(against: string, scores: readonly MixtureScore[], base: readonly MixtureScore[]): PairedReport {
  if (scores.length !== base.length) throw new RangeError(`paired report: ${scores.length} mixtures against ${base.length}`);
  const classValues = (ss: readonly MixtureScore[], c: SoundClass) => perSource(ss, (s) => s.siSdri, (s, i) => s.classes[i] === c);
  return {
    against,
    overall: pairedDifference(scores.map((s) => meanOf(s.siSdri)), base.map((s) => meanOf(s.siSdri))),
    byClass: Object.fromEntries(SOUND_CLASSES.map((c) => [c, pairedDifference(classValues(scores, c), classValues(base, c))])) as Record<SoundClass, PairedDiff>,
  };
}

/** "+0.42 ± 0.08" (mean ± standard error, dB). */
export function formatPaired(d: PairedDiff): string {
  return `${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(2)} ± ${d.se.toFixed(2)}`;
}

const meanOf = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function perSource(scores: readonly MixtureScore[], values: (s: MixtureScore) => number[], keep: (s: MixtureScore, i: number) => boolean): number[] {
  return scores.flatMap((s) => values(s).filter((_, i) => keep(s, i)));
}

function byClassOf(scores: readonly MixtureScore[], values: (s: MixtureScore) => number[]): Record<SoundClass, Summary> {
  return Object.fromEntries(SOUND_CLASSES.map((c) => [c, summarize(perSource(scores, values, (s, i) => s.classes[i] === c))])) as Record<SoundClass, Summary>;
}

export function summarizeSystem(system: string, scores: readonly MixtureScore[], bands: readonly SnrBand[]): SystemReport {
  const perMixture = scores.map((s) => meanOf(s.siSdri));
  const byMixtureType: SystemReport['byMixtureType'] = {};
  for (const t of MIXTURE_TYPES) {
    const values = perMixture.filter((_, i) => scores[i]!.type === t);
    if (values.length > 0) byMixtureType[t] = summarize(values);
  }
  const bySnr = Object.fromEntries(bands.map((b, k) => [
    b.label, summarize(perMixture.filter((_, i) => inBand(scores[i]!.snrDb, b, k === bands.length - 1))),
  ]));
  const packages = [...new Set(scores.flatMap((s) => s.packages))].sort();
  const byPackage = Object.fromEntries(packages.map((p) => [p, summarize(perSource(scores, (s) => s.siSdri, (s, i) => s.packages[i] === p))]));
  const twoClass = scores.filter((s) => new Set(s.classes).size === s.classes.length);
  const windowed = scores.filter((s) => s.windows);
  return {
    system,
    overall: summarize(perMixture),
    byClass: byClassOf(scores, (s) => s.siSdri),
    byMixtureType,
    bySnr,
    byPackage,
    swaps: { count: twoClass.filter((s) => s.swapped).length, of: twoClass.length },
    ...(windowed.length ? { windowSwaps: { swapped: windowed.reduce((n, s) => n + s.windows!.swapped, 0), of: windowed.reduce((n, s) => n + s.windows!.of, 0) } } : {}),
    pit: { overall: summarize(scores.map((s) => meanOf(s.pitSiSdri))), byClass: byClassOf(scores, (s) => s.pitSiSdri) },
  };
}

export const TABLE_HEADER = ['SI-SDRi (dB)', 'system', 'n', 'mean', 'std', ...PERCENTILES.map((q) => `p${q}`)];

/**
 * One row per breakdown and system, the systems of a breakdown next to each other. Breakdowns empty
 * for every system (an SNR band no mixture fell in) are left out.
 */
export function comparisonRows(reports: readonly SystemReport[]): (string | number)[][] {
  const first = reports[0];
  if (!first) return [];
  const groups: [string, (r: SystemReport) => Summary | undefined][] = [
    ['all mixtures', (r) => r.overall],
    ['all mixtures, best permutation', (r) => r.pit.overall],
    ...SOUND_CLASSES.map((c): [string, (r: SystemReport) => Summary] => [`${c} stem`, (r) => r.byClass[c]]),
  ];
  const types = Object.keys(first.byMixtureType) as MixtureType[];
  if (types.length > 1) groups.push(...types.map((t): [string, (r: SystemReport) => Summary | undefined] => [t, (r) => r.byMixtureType[t]]));
  groups.push(...Object.keys(first.bySnr).map((b): [string, (r: SystemReport) => Summary | undefined] => [`SNR ${b} dB`, (r) => r.bySnr[b]]));
  groups.push(...Object.keys(first.byPackage).map((p): [string, (r: SystemReport) => Summary | undefined] => [p, (r) => r.byPackage[p]]));
  const rows: (string | number)[][] = [];
  for (const [label, pick] of groups) {
    if (reports.every((r) => (pick(r)?.count ?? 0) === 0)) continue;
    for (const r of reports) {
      const s = pick(r);
      if (s) rows.push([label, r.system, s.count, s.mean, s.std, ...PERCENTILES.map((q) => s.p[q]!)]);
    }
  }
  return rows;
}

/** "tilt 2 of 40, RNNoise 9 of 40, mixture 0 of 40". */
export function swapLine(reports: readonly SystemReport[]): string {
  return reports.map((r) => `${r.system} ${r.swaps.count} of ${r.swaps.of}`).join(', ');
}

/** "tilt 1 of 212, RNNoise 0 of 212", or null when the reports were not scored window by window. */
export function windowSwapLine(reports: readonly SystemReport[]): string | null {
  if (!reports.every((r) => r.windowSwaps)) return null;
  return reports.map((r) => `${r.system} ${r.windowSwaps!.swapped} of ${r.windowSwaps!.of}`).join(', ');
}

/** The comparison table in markdown, with the swap counts under it (for model cards). */
export function comparisonMarkdown(reports: readonly SystemReport[]): string {
  const windows = windowSwapLine(reports);
  const cell = (c: string | number, i: number) => (typeof c === 'string' ? c : !Number.isFinite(c) ? 'n/a' : i === 2 ? String(c) : c.toFixed(i < 5 ? 2 : 1));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(TABLE_HEADER),
    line(TABLE_HEADER.map(() => '---')),
    ...comparisonRows(reports).map((r) => line(r.map(cell))),
    '',
    `Stem swaps (mixtures of two classes whose stems fit better with the names exchanged): ${swapLine(reports)}.`,
    ...(windows ? ['', `Windows swapped (of the windows where both sources are heard): ${windows}.`] : []),
  ].join('\n');
}
