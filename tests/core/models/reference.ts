// A straightforward Sudo rm -rf built from tfjs's stock conv ops in the original's formulation
// (conv1d, depthwiseConv2d, gather for nearest upsampling, conv2d mask, conv2dTranspose decoder), used as
// the numerical reference for the fast matMul formulation. Meant for the cpu backend, which has
// every gradient kernel.
import { tf } from '../../../core/tf';
import type { Tensor, Tensor3D, Tensor4D } from '../../../core/tf';
import { encoderStride, lengthMultiple, type SudoRmRfConfig } from '../../../core/models/sudormrf';

export type Weights = Record<string, Tensor>;

function gln(x: Tensor3D, w: Weights, prefix: string): Tensor3D {
  const { mean, variance } = tf.moments(x, [1, 2], true);
  return tf.add<Tensor3D>(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-8))), w[`${prefix}/gamma`]!), w[`${prefix}/beta`]!);
}

function conv1x1(x: Tensor3D, w: Weights, prefix: string): Tensor3D {
  const k = w[`${prefix}/weight`]!;
  return tf.add(tf.conv1d(x, k.reshape([1, k.shape[0]!, k.shape[1]!]) as Tensor3D, 1, 'valid'), w[`${prefix}/bias`]!);
}

function dwConv(x: Tensor3D, w: Weights, prefix: string, stride: number): Tensor3D {
  const [b, t, c] = x.shape;
  const k = w[`${prefix}/weight`]!;
  const pad = (k.shape[0]! - 1) / 2;
  const y = tf.depthwiseConv2d(x.reshape([b, t, 1, c]) as Tensor4D, k.reshape([k.shape[0]!, 1, c, 1]) as Tensor4D, [stride, 1], [[0, 0], [pad, pad], [0, 0], [0, 0]]);
  return tf.add(y.reshape([b, y.shape[1], c]), w[`${prefix}/bias`]!);
}

function block(x: Tensor3D, w: Weights, p: string, depth: number): Tensor3D {
  const h = tf.prelu(gln(conv1x1(x, w, `${p}/proj`), w, `${p}/proj/norm`), w[`${p}/proj/prelu`]!) as Tensor3D;
  const levels: Tensor3D[] = [];
  for (let k = 0; k < depth; k++) levels.push(gln(dwConv(k === 0 ? h : levels[k - 1]!, w, `${p}/dw${k}`, k === 0 ? 1 : 2), w, `${p}/dw${k}/norm`));
  let merged = levels[depth - 1]!;
  for (let k = depth - 2; k >= 0; k--) {
    // Nearest x2 as a gather of frame floor(i / 2). (tf.image.resizeNearestNeighbor would do the
    // same forward, but the cpu backend's gradient of it is wrong for these [b, t, 1, c] shapes.)
    const t = merged.shape[1];
    const up = tf.gather(merged, tf.tensor1d(Array.from({ length: 2 * t }, (_, i) => i >> 1), 'int32'), 1);
    merged = tf.add<Tensor3D>(levels[k]!, up);
  }
  const act = tf.prelu(gln(merged, w, `${p}/final/norm`), w[`${p}/final/prelu`]!) as Tensor3D;
  const expanded = gln(conv1x1(act, w, `${p}/exp`), w, `${p}/exp/norm`);
  return tf.prelu(gln(tf.add(expanded, x), w, `${p}/act/norm`), w[`${p}/act/prelu`]!) as Tensor3D;
}

/** mixture [batch, time] -> [batch, nSrc, time], weights keyed by the model's stable names. */
export function referenceForward(c: SudoRmRfConfig, w: Weights, mixture: Tensor): Tensor3D {
  const [batch, length] = mixture.shape as [number, number];
  const multiple = lengthMultiple(c);
  const padded = Math.ceil(length / multiple) * multiple;
  const stride = encoderStride(c);
  const kernel = c.encKernel;
  const x = tf.pad(mixture, [[0, 0], [0, padded - length]]).reshape([batch, 1, padded, 1]) as Tensor4D;
  const encW = w['encoder/weight']!.reshape([1, kernel, 1, c.encBasis]) as Tensor4D;
  const enc = tf.conv2d(x, encW, [1, stride], [[0, 0], [0, 0], [stride, stride], [0, 0]]);
  const nFrames = enc.shape[2];
  const s = tf.relu(tf.add(enc.reshape([batch, nFrames, c.encBasis]), w['encoder/bias']!)) as Tensor3D; // [b, T, bases]
  let h = conv1x1(gln(s, w, 'ln'), w, 'l1');
  for (let i = 0; i < c.nBlocks; i++) h = block(h, w, `blocks/${i}`, c.upsamplingDepth);
  const pre = conv1x1(h, w, 'masks/reshape'); // [b, T, bases]
  // Conv2d(1, nSrc, (bases+1, 1), padding (bases/2, 0)) on the [bases, T] plane, NHWC.
  const plane = pre.transpose([0, 2, 1]).reshape([batch, c.encBasis, nFrames, 1]) as Tensor4D;
  const mw = w['masks/weight']!.transpose([1, 0]).reshape([c.encBasis + 1, 1, 1, c.nSources]) as Tensor4D;
  const logits = tf.add(tf.conv2d(plane, mw, 1, [[0, 0], [c.encBasis / 2, c.encBasis / 2], [0, 0], [0, 0]]), w['masks/bias']!);
  const masks = c.nSources === 1 ? tf.sigmoid(logits) : tf.softmax(logits); // [b, bases, T, nSrc]
  const sPlane = s.transpose([0, 2, 1]).reshape([batch, c.encBasis, nFrames, 1]);
  const masked = tf.mul(masks, sPlane);
  const outs: Tensor[] = [];
  const full = (nFrames - 1) * stride + kernel;
  for (let src = 0; src < c.nSources; src++) {
    const inp = masked.slice([0, 0, 0, src], [batch, c.encBasis, nFrames, 1]).reshape([batch, c.encBasis, nFrames]).transpose([0, 2, 1]).reshape([batch, 1, nFrames, c.encBasis]) as Tensor4D;
    const filt = w['decoder/weight']!.slice([src, 0, 0], [1, c.encBasis, kernel]).reshape([c.encBasis, kernel]).transpose([1, 0]).reshape([1, kernel, 1, c.encBasis]) as Tensor4D;
    const y = tf.conv2dTranspose(inp, filt, [batch, 1, full, 1], [1, stride], 'valid');
    // ConvTranspose1d padding `stride` and output_padding `stride - 1`: keep [stride, stride + padded).
    outs.push(y.reshape([batch, full]).slice([0, stride], [batch, padded]));
  }
  const wave = tf.add(tf.stack(outs, 1), w['decoder/bias']!.reshape([1, c.nSources, 1]));
  return wave.slice([0, 0, 0], [batch, c.nSources, length]) as Tensor3D;
}
