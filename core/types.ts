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
 * config (both check them with schema.ts's TRAIN_FIELDS, built from these) and the Train view's
 * inputs. Inclusive. Plain data, so the UI can read it without the schemas.
 */
export const TRAIN_LIMITS = {
  /** Seconds per training segment. */
  segmentSeconds: { min: 0.25, max: 60 },
  /** Mixtures per step (the memory check in train/config.ts may lower it for a given model). */
  batchSize: { min: 1, max: 256 },
  /** Adam's learning rate. */
  lr: { min: 1e-7, max: 1 },
  seed: { min: 0, max: Number.MAX_SAFE_INTEGER },
  /** A run's steps (the app's), its epochs and the steps of each (the config's). */
  steps: { min: 1, max: 10_000_000 },
  epochs: { min: 1, max: 100_000 },
  /** The app validates (and checkpoints) once an epoch: its "validate every" is this. */
  stepsPerEpoch: { min: 1, max: 1_000_000 },
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
