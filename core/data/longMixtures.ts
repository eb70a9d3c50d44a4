// Long speech+env mixtures, the shape of a recording a user drops in: a conversation (voice lines of
// random speakers with pauses between turns) over a run of sounds from one package, as long as
// several separation windows. Separation cuts such a file into windows and must keep each stem's
// name from window to window; the crops of the Mixer fit in one window and cannot show that.
import { MODEL_RATE } from '../types';
import { levelAtSnr } from './mixer';
import type { Clip, MixerBatch } from './mixer';
import { Rng } from './random';
import { audibleClip, placeRun, SOUNDS, TURNS } from './runs';

/** The evaluations' length: several 8 s separation windows. */
export const LONG_SECONDS = 30;

export interface LongMixtureOptions {
  seconds: number;
  /** 10 log10(E_speech / E_env) over the whole file, drawn uniformly. */
  snrRange: readonly [number, number];
  seed: number | string;
  rate?: number;
}

/**
 * `count` long mixtures (batches of one), the same for a seed whatever else was drawn. Each file's
 * sounds come from one package (the packages in turn, so every package gets files); the batch's
 * clipIds name the first clip of each source, which carries its package.
 */
export function longMixtures(clips: readonly Clip[], packageOf: ReadonlyMap<string, string>, count: number, opts: LongMixtureOptions): MixerBatch[] {
  const rate = opts.rate ?? MODEL_RATE;
  const T = Math.round(opts.seconds * rate);
  if (!(T > 0)) throw new RangeError(`long mixtures: ${opts.seconds} s is no length`);
  const speech = clips.filter((c) => c.class === 'speech' && audibleClip(c));
  const soundsByPackage = new Map<string, Clip[]>();
  for (const c of clips) {
    if (c.class !== 'env' || !audibleClip(c)) continue;
    const p = packageOf.get(c.id) ?? 'unknown';
    soundsByPackage.set(p, [...(soundsByPackage.get(p) ?? []), c]);
  }
  if (speech.length === 0 || soundsByPackage.size === 0) throw new RangeError('long mixtures need speech clips and env clips');
  const packages = [...soundsByPackage.keys()].sort();
  const out: MixerBatch[] = [];
  for (let k = 0; k < count; k++) {
    const rng = new Rng(`${opts.seed}:long:${k}`);
    const sources = new Float32Array(2 * T);
    const s0 = sources.subarray(0, T);
    const s1 = sources.subarray(T);
    const firstTurn = placeRun(s0, speech, rng, rate, TURNS);
    const firstSound = placeRun(s1, soundsByPackage.get(packages[k % packages.length]!)!, rng, rate, { ...SOUNDS, startSeconds: [0, 0] });
    const snr = rng.uniform(opts.snrRange[0], opts.snrRange[1]);
    levelAtSnr(s0, s1, snr, T / rate);
    const mixture = new Float32Array(T);
    for (let i = 0; i < T; i++) mixture[i] = s0[i]! + s1[i]!;
    out.push({
      batch: 1, nSrc: 2, time: T, mixture, sources,
      classes: [['speech', 'env']], labels: [[firstTurn.label, firstSound.label]], mixtureTypes: ['speech+env'],
      snrDb: [snr], clipIds: [[firstTurn.id, firstSound.id]],
    });
  }
  return out;
}
