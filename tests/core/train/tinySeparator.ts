// A small learnable separator for training tests: cuts the mixture into frames and maps each
// frame linearly to nSrc output frames. Plain matMuls, so forward and gradients run on wasm.
import { tf } from '../../../core/tf';
import type { Tensor2D, Tensor3D, Variable } from '../../../core/tf';
import type { Separator } from '../../../core/models/types';

let instances = 0;

export class TinySeparator implements Separator {
  readonly variables: Variable[];
  private readonly weight: Variable; // [frame, nSrc * frame]
  private readonly bias: Variable; // [nSrc * frame]

  constructor(readonly nSources = 2, readonly frame = 32, seed = 1) {
    const id = `tiny${instances++}`;
    this.weight = tf.variable(tf.randomNormal([frame, nSources * frame], 0, 1 / Math.sqrt(frame), 'float32', seed), true, `${id}/weight`);
    this.bias = tf.variable(tf.zeros([nSources * frame]), true, `${id}/bias`);
    this.variables = [this.weight, this.bias];
  }

  apply(mixture: Tensor2D): Tensor3D {
    return tf.tidy(() => {
      const [batch, time] = mixture.shape;
      const nFrames = Math.ceil(time / this.frame);
      const padded = tf.pad(mixture, [[0, 0], [0, nFrames * this.frame - time]]);
      const frames = tf.reshape(padded, [batch * nFrames, this.frame]);
      const out = tf.add(tf.matMul(frames, this.weight), this.bias); // [batch * nFrames, nSrc * frame]
      const bySource = tf.transpose(tf.reshape(out, [batch, nFrames, this.nSources, this.frame]), [0, 2, 1, 3]);
      return tf.slice(tf.reshape(bySource, [batch, this.nSources, nFrames * this.frame]), [0, 0, 0], [batch, this.nSources, time]) as Tensor3D;
    });
  }

  /** Current weights, for comparing updates. */
  snapshot(): Float32Array[] {
    return this.variables.map((v) => Float32Array.from(v.dataSync()));
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
