// One-click tilts: what `tilt train --tilt NAME` puts in a training config in place of its
// reweighting, and what the Train view's buttons of the same names set. docs/tilts.md has the
// measurements behind each one. Plain JSON only: the renderer imports this through the contract.
import { SOUND_CLASSES } from '../types';
import type { SoundClass } from '../types';
import type { ReweightConfig } from './config';
import type { TermConfig } from './terms';

export const TILTS = ['none', 'speech', 'env'] as const;
export type TiltName = (typeof TILTS)[number];

export interface TiltPreset {
  label: string;
  /** What it does, in a sentence a user can act on. */
  hint: string;
  reweighting: ReweightConfig;
}

export const TILT_GAMMA = 3;

export const TILT_PRESETS: Readonly<Record<TiltName, TiltPreset>> = {
  none: {
    label: 'No tilt',
    hint: 'Every mixture of a batch weighs the same (the plain mean)',
    reweighting: { granularity: 'mixture', terms: [] },
  },
  speech: {
    label: 'Toward speech',
    hint: `Each speech source's loss weighs e^${TILT_GAMMA} ≈ ${Math.round(Math.exp(TILT_GAMMA))} times an environmental source's`,
    reweighting: { granularity: 'source', terms: [{ class: { speech: TILT_GAMMA, env: 0 } }] },
  },
  env: {
    label: 'Toward environmental sound',
    hint: `Each environmental source's loss weighs e^${TILT_GAMMA} ≈ ${Math.round(Math.exp(TILT_GAMMA))} times a speech source's`,
    reweighting: { granularity: 'source', terms: [{ class: { speech: 0, env: TILT_GAMMA } }] },
  },
};

export function isTiltName(name: string): name is TiltName {
  return (TILTS as readonly string[]).includes(name);
}

/** A training config (plain JSON) with its reweighting replaced by the tilt's; every other field kept. */
export function withTilt(config: unknown, tilt: TiltName): Record<string, unknown> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new TypeError('a training config is a JSON object');
  return { ...(config as Record<string, unknown>), reweighting: structuredClone(TILT_PRESETS[tilt].reweighting) };
}

/** The tilt whose reweighting this is, if any (for model cards and the Train view's pressed button). */
export function tiltOf(reweighting: ReweightConfig): TiltName | null {
  const terms = JSON.stringify(reweighting.terms);
  return TILTS.find((t) => {
    const preset = TILT_PRESETS[t].reweighting;
    return preset.granularity === reweighting.granularity && JSON.stringify(preset.terms) === terms;
  }) ?? null;
}

/**
 * The class a reweighting favours: the one its class terms give the strictly highest logit in total
 * (null without class terms or on a tie). A tilted run keeps as `best` the checkpoint that separates
 * that class best, since that is what the user asked for.
 */
export function favouredClass(terms: readonly TermConfig[]): SoundClass | null {
  const total: Record<SoundClass, number> = { speech: 0, env: 0 };
  let any = false;
  for (const t of terms) {
    if (!('class' in t)) continue;
    any = true;
    for (const c of SOUND_CLASSES) total[c] += t.class[c] ?? 0;
  }
  if (!any || total.speech === total.env) return null;
  return total.speech > total.env ? 'speech' : 'env';
}
