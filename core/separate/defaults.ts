// Separation's defaults and limits: plain constants (no tensors), shared with the app's contract.
/**
 * windowSec: 8 s chunks are twice the 4 s training crops (so gLN sees plenty of context) and were the
 * fastest of 4 / 8 / 16 s on wasm here; one 8 s forward peaks near 300 MB of tensors for 0.25x and 1.0x.
 * maxMarginSec: 0.5 s covers the receptive field of the 0.25x and 0.5x models (about ±0.24 s and
 * ±0.47 s: each U-ConvBlock sees about ±47 encoder frames of 10 samples) and the well-trained centre
 * of the 1.0x one (±0.95 s).
 * maxCrossfadeSec: neighbouring windows overlap by no more than their margins and a 1 s cross-fade (8 s
 * windows, 6 s hops). Half-window overlap cost a third more forward passes and bought nothing: +0.01 ±
 * 0.04 dB on 50 held-out and -0.01 ± 0.05 on 30 in-domain long recordings (docs/separation.md).
 */
export const SEPARATE_DEFAULTS = {
  windowSec: 8,
  maxMarginSec: 0.5,
  maxCrossfadeSec: 1,
} as const;

/**
 * RNNoise's share of the speech stem (`--rnnoise`): a fixed share from 0 to 1, or 'auto', a share
 * chosen per window (RNNOISE_AUTO).
 */
export type BlendWeight = number | 'auto';

/** The RNNoise blend of a separation: RNNoise's share and which model output is the speech stem. */
export interface DenoiserBlend {
  weight: BlendWeight;
  speechSlot: number;
}

/**
 * `--rnnoise auto`, the app's *RNNoise where Tilt is unsure*: in each window RNNoise's share of the
 * speech stem is maxShare / (1 + exp((agreement - agreementDb) / widthDb)), where agreement is the
 * energy of the model's speech stem over that of its difference from RNNoise's, in dB. Where the two
 * agree the model keeps its stem (on material like the training data it is the more precise of the
 * two); where they disagree the model is on unfamiliar ground and the average of two estimators with
 * unrelated errors beats either. Besides, the speech stem is RNNoise's wherever RNNoise heard no voice
 * (`voiceless`: activity below 0.4 for 30 ms either side), where the model's stem is mostly what it
 * leaked of the sound. The numbers were chosen on the training packages' validation split
 * (docs/separation.md). The default for models it fits: it costs less than half the model's own time.
 */
export const RNNOISE_AUTO = { maxShare: 0.6, agreementDb: 12, widthDb: 1, voiceless: { below: 0.4, reachFrames: 3 } } as const;

/** RNNoise's share of the speech stem for a window whose stems agree to `agreementDb` (see RNNOISE_AUTO). */
export function autoBlendShare(agreementDb: number): number {
  const { maxShare, agreementDb: centre, widthDb } = RNNOISE_AUTO;
  return maxShare / (1 + Math.exp((agreementDb - centre) / widthDb));
}

/**
 * Window lengths a user may pick (`tilt separate --window`): below 1 s the margins leave little of
 * each chunk; above 30 s one forward call needs over 1 GB of tensors. What the length trades is
 * measured in docs/separation.md.
 */
export const WINDOW_SECONDS_RANGE = [1, 30] as const;
