// Scoring one mixture as a user receives it: the stem named after a source's class is that source's
// estimate. The best permutation is still computed (it is four SI-SDRs for two stems), both to keep
// the permutation-invariant figure and to count the mixtures where the names are the wrong way round.
import { pitSiSdr, siSdr } from '../losses';
import { energy } from '../dsp/energy';
import type { MixtureType, SoundClass } from '../types';

/** A separation's stems by name. */
export type NamedStems = Record<SoundClass, Float32Array>;

/** What a mixture is made of, for the report's breakdowns. */
export interface MixtureInfo {
  type: MixtureType;
  /** 10 log10(E_source0 / E_source1) as drawn; in speech+env mixtures source 0 is speech. */
  snrDb: number;
  /** Per reference source. */
  classes: SoundClass[];
  /** Per reference source: the corpus package (or user folder) its clip came from. */
  packages: string[];
}

export interface MixtureScore extends MixtureInfo {
  /**
   * Per reference source, SI-SDRi in dB of the stem named after its class. Mixtures of two sources
   * of one class have no such stem per source; they take the best permutation.
   */
  siSdri: number[];
  /** Per reference source, SI-SDRi in dB under the best permutation of the stems. */
  pitSiSdri: number[];
  /** Whether the best permutation is not the one the names give (mixtures of two classes only). */
  swapped: boolean;
  /** Long mixtures scored window by window too (see windowSwaps). */
  windows?: WindowSwaps;
}

/** Of a long mixture's windows where both sources are heard, those whose stems fit better with the names exchanged. */
export interface WindowSwaps {
  swapped: number;
  of: number;
}

/** Long mixtures are checked for swaps in windows as long as the held-out crops. */
export const SWAP_WINDOW_SECONDS = 4;

/** A source is heard in a window when it holds at least this share of the window's mixture energy (-20 dB). */
export const HEARD_SHARE = 0.01;

export function scoreMixture(stems: NamedStems, references: readonly Float32Array[], mixture: Float32Array, info: MixtureInfo): MixtureScore {
  const { classes } = info;
  if (references.length !== classes.length) throw new Error(`scoreMixture: ${references.length} references for ${classes.length} classes`);
  const base = references.map((r) => siSdr(mixture, r));
  const pit = pitSiSdr([stems.speech, stems.env], references);
  const pitSiSdri = pit.siSdr.map((v, s) => v - base[s]!);
  if (new Set(classes).size !== classes.length) return { ...info, siSdri: pitSiSdri, pitSiSdri, swapped: false };
  const named = classes.map((c, s) => siSdr(stems[c], references[s]!) - base[s]!);
  // The named order is one of those PIT compared, so PIT beats it only when the stems fit the
  // references better the other way round (ties are no swap).
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return { ...info, siSdri: named, pitSiSdri, swapped: sum(pitSiSdri) > sum(named) };
}

/**
 * The stems of a two-class mixture cut into windows of `window` samples (the last, shorter one
 * dropped), each window where both references are heard compared under the names and exchanged.
 * A separation that swaps the stems in part of a file shows here even when the whole-file score
 * hides it under the parts it got right.
 */
export function windowSwaps(stems: NamedStems, references: readonly Float32Array[], mixture: Float32Array, classes: readonly SoundClass[], window: number): WindowSwaps {
  if (new Set(classes).size !== 2 || references.length !== 2) throw new RangeError('window swaps: a mixture of two sources of two classes');
  if (!(window > 0)) throw new RangeError(`window swaps: a window of ${window} samples`);
  let swapped = 0;
  let of = 0;
  for (let start = 0; start + window <= mixture.length; start += window) {
    const cut = (x: Float32Array) => x.subarray(start, start + window);
    const mixEnergy = energy(cut(mixture));
    const refs = references.map(cut);
    if (refs.some((r) => energy(r) < HEARD_SHARE * mixEnergy)) continue;
    const named = classes.map((c) => cut(stems[c]));
    of++;
    const asNamed = siSdr(named[0]!, refs[0]!) + siSdr(named[1]!, refs[1]!);
    const exchanged = siSdr(named[1]!, refs[0]!) + siSdr(named[0]!, refs[1]!);
    if (exchanged > asNamed) swapped++;
  }
  return { swapped, of };
}
