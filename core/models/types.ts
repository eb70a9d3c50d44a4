import type { Tensor2D, Tensor3D, Variable } from '../tf';

/** What training and separation need from a separation network. */
export interface Separator {
  readonly nSources: number;
  /** Trainable weights, with unique, stable names (used by save/load and the optimizer). */
  readonly variables: readonly Variable[];
  /** mixture [batch, time] -> estimated sources [batch, nSrc, time]; any time length. */
  apply(mixture: Tensor2D): Tensor3D;
  dispose(): void;
}
