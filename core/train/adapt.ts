// Adapting the model to one recording before it is separated. The sounds Tilt separates worst are
// the ones it never trained on, and a recording's pauses hold exactly those: where RNNoise hears no
// voice, the recording is its own environmental sound. A copy of the model is fine-tuned for a few
// dozen steps on mixtures of that sound with clean speech (the shipped speech bank), then separates
// the recording (docs/separation.md, "Adapting to the recording").
import { tf } from '../tf';
import { audible } from '../dsp/energy';
import { RnnoiseReader, rnnoiseGain, type VoicelessRule } from '../dsp/rnnoise';
import { Mixer, type Clip } from '../data/mixer';
import { createSudoRmRf, SudoRmRf } from '../models/sudormrf';
import type { Separator } from '../models/types';
import { MODEL_RATE } from '../types';
import { trainStep } from './step';

export interface AdaptSettings {
  /** Fine-tuning steps. */
  steps: number;
  learningRate: number;
  /** Mixtures per step, and their length. */
  batchSize: number;
  segmentSeconds: number;
  /** Speech-to-sound ratio of the mixtures, drawn uniformly. */
  snrDb: [number, number];
  /** Where the recording counts as sound without voice: stricter than the blend's gate, so that little speech gets in. */
  voiceless: VoicelessRule;
  /** Less sound without voice than this, and the model is left as it is. */
  minSoundSeconds: number;
}

/**
 * Chosen on the validation split's long recordings: 20 steps at 3e-4 gained as much as the first recipe
 * tried (40 at 1e-4) in half its time (docs/separation.md, "Adapting to the recording").
 */
export const ADAPT_DEFAULTS: Readonly<AdaptSettings> = Object.freeze({
  steps: 20,
  learningRate: 3e-4,
  batchSize: 4,
  segmentSeconds: 2,
  snrDb: [-5, 5] as [number, number],
  voiceless: Object.freeze({ below: 0.2, reachFrames: 10 }),
  minSoundSeconds: 2,
});

export interface AdaptOptions extends Partial<AdaptSettings> {
  /** Clean speech to mix with the recording's sound (loadSpeechBank()). */
  speech: readonly Clip[];
  /** Seeds the mixtures: the same recording and seed adapt the same way. */
  seed?: number | string;
  signal?: AbortSignal;
  /** Steps done of the total, after each step. */
  onStep?: (done: number, total: number) => void;
}

/** What adaptation did, for the user. */
export interface AdaptReport {
  /** Seconds of the recording's sound without voice that the model was tuned on. */
  soundSeconds: number;
  /** Steps taken (0: not adapted). */
  steps: number;
  /** Why the model was left as it is, when it was. */
  skipped: string | null;
}

export class AdaptAbortedError extends Error {}

/**
 * The samples of a recording where RNNoise hears no voice (see VoicelessRule), joined in order. `rms`
 * is the recording's (separation has it from its level pass); `signal` is checked between 10 s blocks.
 */
export async function soundWithoutVoice(
  length: number, read: (start: number, count: number) => Float32Array | Promise<Float32Array>, rms: number, rule: VoicelessRule, signal?: AbortSignal,
): Promise<Float32Array> {
  if (rms === 0) return new Float32Array(0);
  const block = 10 * MODEL_RATE;
  const reader = await RnnoiseReader.open(length, rnnoiseGain(rms), read);
  const kept: Float32Array[] = [];
  let total = 0;
  try {
    for (let at = 0; at < length; at += block) {
      if (signal?.aborted) throw new AdaptAbortedError('while looking for the sound without voice to adapt to', { cause: signal.reason });
      const count = Math.min(block, length - at);
      const [quiet, x] = [await reader.voiceless(at, count, rule), await read(at, count)];
      const part = x.filter((_, t) => quiet[t] === 1);
      kept.push(part);
      total += part.length;
    }
  } finally {
    reader.dispose();
  }
  const out = new Float32Array(total);
  kept.reduce((o, p) => (out.set(p, o), o + p.length), 0);
  return out;
}

/** A copy of the model with its own weights (the caller disposes it). */
export function copyModel(model: SudoRmRf): SudoRmRf {
  const copy = createSudoRmRf(model.config, 0, `${model.scope}-adapted`);
  copy.setWeights(model.namedWeights());
  if (model.inputStd !== undefined) copy.inputStd = model.inputStd;
  if (model.fixedSlots !== undefined) copy.fixedSlots = model.fixedSlots;
  return copy;
}

/**
 * A copy of `model` fine-tuned on mixtures of `sound` (a recording's sound without voice, at
 * MODEL_RATE) with the given speech, or null when there is too little audible sound to tune on
 * (the report says why). Speech goes to slot 0, as in the default model's training.
 */
export async function adaptModel(model: Separator, sound: Float32Array, opts: AdaptOptions): Promise<{ model: SudoRmRf | null; report: AdaptReport }> {
  if (!(model instanceof SudoRmRf)) throw new TypeError('adaptModel: only Sudo rm -rf models can be adapted');
  const { speech, seed, signal, onStep, ...given } = opts;
  const s: AdaptSettings = { ...ADAPT_DEFAULTS, ...given };
  const soundSeconds = sound.length / MODEL_RATE;
  const none = (skipped: string) => ({ model: null, report: { soundSeconds, steps: 0, skipped } });
  if (soundSeconds < s.minSoundSeconds || !audible(sound)) {
    return none(`it has ${soundSeconds < s.minSoundSeconds ? `${soundSeconds.toFixed(1)} s` : 'no audible'} sound without voice (adapting needs ${s.minSoundSeconds} s)`);
  }
  if (speech.length === 0) throw new RangeError('adaptModel: no speech clips to mix with');
  const clips: Clip[] = [...speech, { id: 'recording', class: 'env', label: 'recording', split: 'train', audio: sound }];
  const mixer = new Mixer(clips, { segmentSeconds: s.segmentSeconds, snrRange: s.snrDb, seed: seed ?? 'adapt' });
  const adapted = copyModel(model);
  const optimizer = tf.train.adam(s.learningRate);
  try {
    for (let step = 0; step < s.steps; step++) {
      // Let timers and messages (a cancel button) run between steps.
      await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw new AdaptAbortedError(`after ${step} of ${s.steps} adapting steps`, { cause: signal.reason });
      trainStep(adapted, optimizer, mixer.batch(s.batchSize), {
        progress: { step, epoch: 0, totalSteps: s.steps },
        slots: adapted.fixedSlots ? 'fixed' : 'pit',
        mixtureConsistency: true,
      });
      onStep?.(step + 1, s.steps);
    }
  } catch (e) {
    adapted.dispose();
    throw e;
  } finally {
    optimizer.dispose();
  }
  return { model: adapted, report: { soundSeconds, steps: s.steps, skipped: null } };
}
