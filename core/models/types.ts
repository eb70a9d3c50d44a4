import type { Tensor2D, Tensor3D, Variable } from '../tf';

/** What training and separation need from a separation network. */
export interface Separator {
  readonly nSources: number;
  /** Weights, with unique, stable names (used by save/load); training updates those marked trainable. */
  readonly variables: readonly Variable[];
  /**
   * Standard deviation of the mixtures the network was trained on. It is not scale-invariant, so
   * separation and evaluation bring their input to this level; absent: unit variance.
   */
  inputStd?: number;
  /**
   * True when output s always holds class s (trained with fixed slots for cross-class mixtures):
   * separation keeps the order as it comes instead of aligning chunks by similarity.
   */
  fixedSlots?: boolean;
  /** mixture [batch, time] -> estimated sources [batch, nSrc, time]; any time length. */
  apply(mixture: Tensor2D): Tensor3D;
  dispose(): void;
}
