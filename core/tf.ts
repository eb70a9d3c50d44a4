// The single tfjs entry point for core/: the full tfjs bundle registers chained ops and gradients,
// and tfjs-node / the wasm backend register onto this same tfjs-core instance.
import * as tf from '@tensorflow/tfjs';

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable, Rank, NamedTensorMap } from '@tensorflow/tfjs';
