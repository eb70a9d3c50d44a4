/** The two sound classes Tilt separates. */
export type SoundClass = 'speech' | 'env';
export const SOUND_CLASSES: readonly SoundClass[] = ['speech', 'env'];

export type MixtureType = 'speech+env' | 'speech+speech' | 'env+env';
export const MIXTURE_TYPES: readonly MixtureType[] = ['speech+env', 'speech+speech', 'env+env'];

/** What a stem or a converted file is written as (FLAC is 24-bit). */
export type AudioFormat = 'wav16' | 'wav24' | 'wav32f' | 'flac';
export const AUDIO_FORMATS: readonly AudioFormat[] = ['wav16', 'wav24', 'wav32f', 'flac'];

/**
 * The limits every way into training checks alike: the app's requests (IPC and HTTP), `tilt train`'s
 * config and the Train view's inputs. Inclusive.
 */
export const TRAIN_LIMITS = {
  /** Seconds per training segment. */
  segmentSeconds: { min: 0.25, max: 60 },
  /** Mixtures per step (the memory check in train/config.ts may lower it for a given model). */
  batchSize: { min: 1, max: 256 },
} as const;

/** The model's sample rate. */
export const MODEL_RATE = 8000;

/** A batch of two-source mixtures in plain arrays (what data/ produces and train/ consumes). */
export interface MixtureBatch {
  batch: number;
  nSrc: number;
  time: number;
  /** [batch, time], row-major. */
  mixture: Float32Array;
  /** [batch, nSrc, time], row-major; the mixture is their sum. */
  sources: Float32Array;
  /** [batch][nSrc]: class of each source. */
  classes: SoundClass[][];
  /** [batch][nSrc]: speaker or sound type of each source. */
  labels: string[][];
  /** [batch]. */
  mixtureTypes: MixtureType[];
}
