/** The two sound classes Tilt separates. */
export type SoundClass = 'speech' | 'env';
export const SOUND_CLASSES: readonly SoundClass[] = ['speech', 'env'];

export type MixtureType = 'speech+env' | 'speech+speech' | 'env+env';
export const MIXTURE_TYPES: readonly MixtureType[] = ['speech+env', 'speech+speech', 'env+env'];

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
