// Runs of clips: what a source of a real recording looks like over seconds. A conversation is
// voice lines one after another with pauses between turns; a soundscape is one sound after another.
// Long held-out mixtures are made of runs, and training can draw its sources as runs too.
import type { Clip } from './mixer';
import type { Rng } from './random';
import { audible, AUDIBLE_MEAN_SQUARE, energy } from '../dsp/energy';

export interface RunShape {
  /** Where the first clip starts, seconds from the start. */
  startSeconds: readonly [number, number];
  /** Gap between two clips, seconds (0: back to back). */
  gapSeconds: readonly [number, number];
  /** Each clip's level around the run's own, dB (drawn within ±). */
  gainDb: number;
}

/** Speech: voice lines with 0.3-2 s pauses between turns, each within ±3 dB. */
export const TURNS: RunShape = { startSeconds: [0, 1.5], gapSeconds: [0.3, 2], gainDb: 3 };
/** Env: sounds back to back or up to 1 s apart, each within ±6 dB. */
export const SOUNDS: RunShape = { startSeconds: [0, 0.5], gapSeconds: [0, 1], gainDb: 6 };

/** Fades where a clip is placed or cut, so that no click marks a boundary. */
const FADE_SECONDS = 0.01;
/** Whether a clip can be placed in a run. */
export function audibleClip(c: Clip): boolean {
  return audible(c.audio);
}

/**
 * Overwrites `dst` with random clips of `pool` (all audible), one after another, each at unit RMS
 * times its gain, zeros between them; a clip longer than the room left is cropped at a random offset.
 * Returns the first clip placed.
 */
export function placeRun(dst: Float32Array, pool: readonly Clip[], rng: Rng, rate: number, shape: RunShape): Clip {
  if (pool.length === 0) throw new RangeError('a run needs clips');
  dst.fill(0);
  let first: Clip | undefined;
  let t = Math.min(Math.round(rng.uniform(...shape.startSeconds) * rate), dst.length - 1);
  const fade = Math.round(FADE_SECONDS * rate);
  while (t < dst.length) {
    const clip = rng.pick(pool);
    first ??= clip;
    const room = dst.length - t;
    const length = Math.min(clip.audio.length, room);
    const from = clip.audio.length > room ? rng.int(clip.audio.length - room + 1) : 0;
    const piece = clip.audio.subarray(from, from + length);
    const gain = 10 ** (rng.uniform(-shape.gainDb, shape.gainDb) / 20) / Math.sqrt(energy(piece) / length + AUDIBLE_MEAN_SQUARE);
    const edge = Math.min(fade, Math.floor(length / 2));
    for (let i = 0; i < length; i++) {
      const ramp = Math.min(1, (i + 1) / (edge + 1), (length - i) / (edge + 1));
      dst[t + i] = piece[i]! * gain * ramp;
    }
    t += length + Math.round(rng.uniform(...shape.gapSeconds) * rate);
  }
  return first!;
}
