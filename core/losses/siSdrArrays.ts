// SI-SDR on plain arrays with Float64 accumulation, for evaluation code. Same definition and eps
// as the tensor losses in ./siSdr, so the two agree to float32 precision.
import { SI_SDR_EPS } from './siSdr';
import { permutations } from './permutations';

type Signal = ArrayLike<number>;

function mean(x: Signal): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return x.length > 0 ? s / x.length : 0;
}

/** SI-SDR in dB of one estimate against one reference of the same length. */
export function siSdr(est: Signal, ref: Signal, eps = SI_SDR_EPS): number {
  if (est.length !== ref.length) throw new Error(`siSdr: estimate has ${est.length} samples, reference ${ref.length}`);
  const me = mean(est);
  const mr = mean(ref);
  let dot = 0;
  let refEnergy = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]! - mr;
    dot += (est[i]! - me) * r;
    refEnergy += r * r;
  }
  const a = dot / (refEnergy + eps);
  let targetEnergy = 0;
  let noiseEnergy = 0;
  for (let i = 0; i < ref.length; i++) {
    const t = a * (ref[i]! - mr);
    const n = t - (est[i]! - me);
    targetEnergy += t * t;
    noiseEnergy += n * n;
  }
  return 10 * Math.log10((targetEnergy + eps) / (noiseEnergy + eps));
}

export interface PitResult {
  /** SI-SDR in dB of each reference source against its assigned estimate. */
  siSdr: number[];
  /** perm[s]: the estimate assigned to reference s (maximises the mean SI-SDR). */
  perm: number[];
}

/** Permutation-invariant SI-SDR of one example: estimates and references as lists of sources. */
export function pitSiSdr(est: readonly Signal[], ref: readonly Signal[], eps = SI_SDR_EPS): PitResult {
  if (est.length !== ref.length || ref.length === 0) {
    throw new Error(`pitSiSdr: need as many estimates as references (got ${est.length} and ${ref.length})`);
  }
  const pair = est.map((e) => ref.map((r) => siSdr(e, r, eps))); // [estimate][reference]
  let best: PitResult | null = null;
  let bestMean = -Infinity;
  for (const perm of permutations(ref.length)) {
    const values = perm.map((j, s) => pair[j]![s]!);
    const m = mean(values);
    if (best === null || m > bestMean) {
      best = { siSdr: values, perm };
      bestMean = m;
    }
  }
  return best!;
}

/** SI-SDR improvement of each reference source over using the mixture as its estimate. */
export function siSdri(
  est: readonly Signal[], ref: readonly Signal[], mixture: Signal, eps = SI_SDR_EPS,
): { siSdri: number[]; perm: number[] } {
  const pit = pitSiSdr(est, ref, eps);
  return { perm: pit.perm, siSdri: pit.siSdr.map((v, s) => v - siSdr(mixture, ref[s]!, eps)) };
}
