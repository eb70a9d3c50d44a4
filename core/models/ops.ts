// Sudo rm -rf's layers written so that the forward pass and every gradient run on the kernels the
// wasm backend has and is fast at (docs/tfjs-wasm-notes.md): matMuls without transpose flags (XNNPACK),
// the native depthwise forward kernel, and cheap reshapes/pads; on wasm the memory-bound ops (depthwise
// conv, layer norm, the gradients, the mask/band ops) run as WebAssembly SIMD kernels on the wasm
// heap (below). Layout is [batch, time, channels] throughout, so 1x1 convolutions are plain matMuls
// on [batch*time, channels].
import { tf } from '../tf';
import type { Tensor, Tensor2D, Tensor3D, Tensor4D } from '../tf';
import { run, useHeapKernels } from './kernels/registry';
import { COLUMN_SUM } from './kernels/columnSum';
import { DEPTHWISE } from './kernels/depthwise';
import { DEPTHWISE_INPUT_GRAD } from './kernels/depthwiseInputGrad';
import { DEPTHWISE_FILTER_GRAD } from './kernels/depthwiseFilterGrad';
import { GLOBAL_LAYER_NORM } from './kernels/globalLayerNorm';
import { GLOBAL_LAYER_NORM_BACKPROP } from './kernels/globalLayerNormBackprop';
import { PRELU_BACKPROP } from './kernels/preluBackprop';
import { ADD_UPSAMPLED } from './kernels/addUpsampled';
import { PAIR_SUM } from './kernels/pairSum';
import { MASKED_SOFTMAX } from './kernels/maskedSoftmax';
import { MASKED_SOFTMAX_BACKPROP } from './kernels/maskedSoftmaxBackprop';
import { BAND_MATRIX } from './kernels/bandMatrix';
import { BAND_MATRIX_BACKPROP } from './kernels/bandMatrixBackprop';

type Grad = (dy: Tensor, saved: Tensor[]) => Tensor[];
type Save = (tensors: Tensor[]) => void;

/** tf.customGrad with the argument plumbing typed: `f(inputs, save)` returns value and gradient. */
function custom<T extends Tensor>(f: (inputs: Tensor[], save: Save) => { value: Tensor; gradFunc: Grad }) {
  const g = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as Save;
    return f(args as Tensor[], save);
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (...inputs: Tensor[]): T => g(...inputs) as T;
}

/**
 * x [n, cIn] @ w [cIn, cOut] + b [cOut]. The stock matMul gradient multiplies with transposeA/B,
 * which is ~10x slower on wasm than transposing explicitly and multiplying untransposed.
 */
export const linear = custom<Tensor2D>(([x, w, b], save) => {
  save([x!, w!]);
  const heap = useHeapKernels();
  const value = tf.fused.matMul({ a: x as Tensor2D, b: w as Tensor2D, bias: b });
  return {
    value,
    gradFunc: (dy, [xs, ws]) => [
      tf.matMul(dy as Tensor2D, tf.transpose(ws!) as Tensor2D),
      tf.matMul(tf.transpose(xs!) as Tensor2D, dy as Tensor2D),
      heap ? run(COLUMN_SUM, { x: dy })[0]! : tf.sum(dy, 0),
    ],
  };
});

/** a [n, k] @ b [k, m] with the same untransposed-multiply gradient as `linear`. */
export const matMul = custom<Tensor2D>(([a, b], save) => {
  save([a!, b!]);
  return {
    value: tf.matMul(a as Tensor2D, b as Tensor2D),
    gradFunc: (dy, [as, bs]) => [
      tf.matMul(dy as Tensor2D, tf.transpose(bs!) as Tensor2D),
      tf.matMul(tf.transpose(as!) as Tensor2D, dy as Tensor2D),
    ],
  };
});

/** 1x1 convolution on [batch, time, cIn] with w [cIn, cOut]. */
export function pointwise(x: Tensor3D, w: Tensor2D, b: Tensor): Tensor3D {
  const [batch, time, cIn] = x.shape;
  return linear(x.reshape([batch * time, cIn]), w, b).reshape([batch, time, w.shape[1]]);
}

/** GroupNorm(1, C)'s epsilon in the original code. */
export const GLN_EPS = 1e-8;

/**
 * Global layer norm, GroupNorm(1, C): statistics over (time, channels) per example, then a
 * per-channel affine. Fused gradient: a handful of full-size passes instead of autodiff's dozen.
 */
export function globalLayerNorm(x: Tensor3D, gamma: Tensor, beta: Tensor): Tensor3D {
  return useHeapKernels() ? globalLayerNormHeap(x, gamma, beta) : globalLayerNormTfOps(x, gamma, beta);
}

/** One SIMD pass for the statistics and one for the affine; the backward reuses the statistics. */
const globalLayerNormHeap = custom<Tensor3D>(([x, gamma, beta], save) => {
  const [value, stats] = run(GLOBAL_LAYER_NORM, { x: x!, gamma: gamma!, beta: beta! }, { eps: GLN_EPS });
  save([x!, gamma!, stats!]);
  return {
    value: value!,
    gradFunc: (dy, [xs, g, st]) => run(GLOBAL_LAYER_NORM_BACKPROP, { dy, x: xs!, gamma: g!, stats: st! }),
  };
});

/** y = (x - mu) * rstd * gamma + beta with mu and rstd [batch, 1, 1] over (time, channels). */
function glnForward(x: Tensor3D, gamma: Tensor, beta: Tensor): { value: Tensor3D; mu: Tensor; rstd: Tensor } {
  const [batch, time, ch] = x.shape;
  const flat = x.reshape([batch, time * ch]);
  const mean = tf.mean(flat, 1, true); // [batch, 1]
  const variance = tf.mean(tf.squaredDifference(flat, mean), 1, true);
  const rstd = tf.rsqrt(tf.add(variance, GLN_EPS)).reshape([batch, 1, 1]);
  const mu = mean.reshape([batch, 1, 1]);
  const scale = tf.mul(rstd, gamma); // [batch, 1, ch]
  const shift = tf.sub(beta, tf.mul(mu, scale));
  return { value: tf.add(tf.mul(x, scale), shift), mu, rstd };
}

const globalLayerNormTfOps = custom<Tensor3D>(([x, gamma, beta], save) => {
  const [, time, ch] = (x as Tensor3D).shape;
  const { value, mu, rstd } = glnForward(x as Tensor3D, gamma!, beta!);
  save([x!, gamma!, mu, rstd]);
  return {
    value,
    gradFunc: (dy, [xs, g, m, r]) => {
      const n = time * ch;
      const s1 = tf.sum(dy, 1, true); // [batch, 1, ch]: sum_t dy
      const s2 = tf.sum(tf.mul(dy, xs!), 1, true); // sum_t dy * x
      const dyXhat = tf.mul(r!, tf.sub(s2, tf.mul(m!, s1))); // sum_t dy * xhat
      const m1 = tf.div(tf.sum(tf.mul(s1, g!), 2, true), n); // mean(dy * gamma)   [batch, 1, 1]
      const m2 = tf.div(tf.sum(tf.mul(dyXhat, g!), 2, true), n); // mean(dy * gamma * xhat)
      const rr2 = tf.mul(tf.square(r!), m2);
      const a = tf.mul(g!, r!); // [batch, 1, ch]
      const c = tf.sub(tf.mul(m!, rr2), tf.mul(r!, m1));
      const dx = tf.add(tf.add(tf.mul(dy, a), tf.mul(xs!, tf.neg(rr2))), c);
      return [dx, tf.sum(dyXhat, [0, 1]), tf.sum(s1, [0, 1])];
    },
  };
});

/** PReLU with one slope per channel (last axis). */
export function prelu(x: Tensor3D, alpha: Tensor): Tensor3D {
  return useHeapKernels() ? preluHeap(x, alpha) : (tf.prelu(x, alpha) as Tensor3D);
}

/** The native forward kernel; the stock gradient is a where/mul/transpose/sum chain. */
const preluHeap = custom<Tensor3D>(([x, alpha], save) => {
  save([x!, alpha!]);
  return {
    value: tf.prelu(x!, alpha!),
    gradFunc: (dy, [xs, a]) => run(PRELU_BACKPROP, { dy, x: xs!, alpha: a! }),
  };
});

/** Zero-pads the time axis of [batch, time, ch]. */
function padTime(x: Tensor3D, before: number, after: number): Tensor3D {
  return tf.pad(x, [[0, 0], [before, after], [0, 0]]);
}

/** Native depthwise forward kernel on [batch, time, ch] viewed as [batch, time, 1, ch]. */
function depthwiseRaw(x: Tensor3D, w: Tensor2D, stride: number, padBefore: number, padAfter: number): Tensor3D {
  const [batch, time, ch] = x.shape;
  const k = w.shape[0];
  const y = tf.depthwiseConv2d(
    x.reshape([batch, time, 1, ch]) as Tensor4D,
    w.reshape([k, 1, ch, 1]) as Tensor4D,
    [stride, 1],
    [[0, 0], [padBefore, padAfter], [0, 0], [0, 0]],
  );
  return y.reshape([y.shape[0], y.shape[1], ch]);
}

/** The native forward kernel, "same" padding, plus bias. */
function depthwiseForward(x: Tensor3D, w: Tensor2D, b: Tensor, stride: number): Tensor3D {
  const pad = (w.shape[0] - 1) / 2;
  return tf.add(depthwiseRaw(x, w, stride, pad, pad), b);
}

/** Makes the [batch, time, ch] of `x` (time even) from its even and odd phases. */
function evenOdd(x: Tensor3D): [Tensor3D, Tensor3D] {
  const [batch, time, ch] = x.shape;
  const phases = x.reshape([batch, time / 2, 2, ch]);
  return [
    phases.slice([0, 0, 0, 0], [batch, time / 2, 1, ch]).reshape([batch, time / 2, ch]),
    phases.slice([0, 0, 1, 0], [batch, time / 2, 1, ch]).reshape([batch, time / 2, ch]),
  ];
}

/**
 * Depthwise conv over time, kernel k (odd), "same" padding (k-1)/2, stride 1 or 2 (time must be
 * even for stride 2): y[t, c] = b[c] + sum_j w[j, c] * x[stride*t + j - pad, c]. w is [k, ch].
 * The wasm backend has a slow forward kernel and neither gradient kernel: there the forward pass and
 * the gradients are heap kernels (any time length); elsewhere both gradients are built from the
 * forward kernel (input) and shifted products reduced over batch and time.
 */
export function depthwise(x: Tensor3D, w: Tensor2D, b: Tensor, stride: 1 | 2): Tensor3D {
  return useHeapKernels() ? depthwiseHeap[stride](x, w, b) : depthwiseOps[stride](x, w, b);
}

function makeDepthwiseHeap(stride: 1 | 2) {
  return custom<Tensor3D>(([x, w, b], save) => {
    save([x!, w!]);
    return {
      value: run(DEPTHWISE, { x: x!, w: w!, b: b! }, { stride })[0]!,
      gradFunc: (dy, [xs, ws]) => [
        run(DEPTHWISE_INPUT_GRAD, { dy, w: ws! }, { stride, time: xs!.shape[1]! })[0]!,
        ...run(DEPTHWISE_FILTER_GRAD, { dy, x: xs! }, { stride, kernel: ws!.shape[0]! }),
      ],
    };
  });
}

const depthwiseHeap = { 1: makeDepthwiseHeap(1), 2: makeDepthwiseHeap(2) };

function makeDepthwise(stride: 1 | 2) {
  return custom<Tensor3D>(([x, w, b], save) => {
    const ws = w as Tensor2D;
    const pad = (ws.shape[0] - 1) / 2;
    save([x!, ws]);
    const value = depthwiseForward(x as Tensor3D, ws, b!, stride);
    return {
      value,
      gradFunc: (dyT, [xSaved, wSaved]) => {
        const dy = dyT as Tensor3D;
        const [batch, tOut, ch] = dy.shape;
        const k = wSaved!.shape[0]!;
        const wf = tf.reverse(wSaved!, 0) as Tensor2D;
        // dx: correlation of dy (zero-stuffed to full rate for stride 2) with the flipped kernel.
        const up = stride === 1 ? dy : (tf.stack([dy, tf.zerosLike(dy)], 2).reshape([batch, 2 * tOut, ch]) as Tensor3D);
        const dx = depthwiseRaw(up, wf, 1, pad, pad);
        // dw[j, c] = sum_{b,t} dy[b, t, c] * xpad[b, stride*t + j, c]; for stride 2 the even and
        // odd phases of xpad turn the strided taps into plain shifts.
        const xp = padTime(xSaved as Tensor3D, pad, pad);
        const phases = stride === 1 ? [xp] : evenOdd(xp);
        const taps: Tensor[] = [];
        for (let j = 0; j < k; j++) {
          const src = phases[j % stride]!;
          const shift = Math.floor(j / stride);
          taps.push(tf.sum(tf.mul(src.slice([0, shift, 0], [batch, tOut, ch]), dy), [0, 1]));
        }
        return [dx, tf.stack(taps), tf.sum(dy, [0, 1])];
      },
    };
  });
}

const depthwiseOps = { 1: makeDepthwise(1), 2: makeDepthwise(2) };

/** fine [batch, 2t, ch] + nearest-neighbour x2 upsampling of coarse [batch, t, ch] along time. */
export function addUpsampled(fine: Tensor3D, coarse: Tensor3D): Tensor3D {
  return useHeapKernels() ? addUpsampledHeap(fine, coarse) : fine.add(upsample2x(coarse));
}

const addUpsampledHeap = custom<Tensor3D>(([fine, coarse]) => ({
  value: run(ADD_UPSAMPLED, { fine: fine!, coarse: coarse! })[0]!,
  gradFunc: (dy) => [dy.clone(), run(PAIR_SUM, { dy })[0]!],
}));

/** Nearest-neighbour x2 upsampling along time: [batch, t, ch] -> [batch, 2t, ch]. */
const upsample2x = custom<Tensor3D>(([x]) => {
  const [batch, time, ch] = (x as Tensor3D).shape;
  const x4 = x!.reshape([batch, time, 1, ch]);
  const value = tf.concat([x4, x4], 2).reshape([batch, 2 * time, ch]) as Tensor3D;
  return {
    value,
    gradFunc: (dy) => [tf.sum(dy.reshape([batch, time, 2, ch]), 2)],
  };
});

/**
 * Strided framing for the encoder conv (kernel 2*stride+1, padding stride): frame t holds
 * x[stride*t - stride ... stride*t + stride]. x [batch, time], time a multiple of stride.
 * Returns [batch * frames, kernel] with frames = time / stride.
 */
export function frames(x: Tensor2D, stride: number): Tensor2D {
  const [batch, time] = x.shape;
  const nFrames = time / stride;
  const chunks = tf.pad(x, [[0, 0], [stride, 2 * stride]]).reshape([batch, nFrames + 3, stride]);
  const framed = tf.concat(
    [
      chunks.slice([0, 0, 0], [batch, nFrames, stride]),
      chunks.slice([0, 1, 0], [batch, nFrames, stride]),
      chunks.slice([0, 2, 0], [batch, nFrames, 1]),
    ],
    2,
  );
  return framed.reshape([batch * nFrames, 2 * stride + 1]);
}

/**
 * Overlap-add, the inverse of `frames` for the decoder's transposed conv (kernel 2*stride+1,
 * padding stride, output padding stride-1): [batch, nSrc, frames, kernel] -> [batch, nSrc, frames*stride].
 */
export function overlapAdd(fr: Tensor4D, stride: number): Tensor3D {
  const [batch, nSrc, nFrames] = fr.shape;
  // Output chunk u (stride samples) gets the head of frame u+1, the middle of frame u and the
  // last tap of frame u-1.
  const head = fr.slice([0, 0, 1, 0], [batch, nSrc, nFrames - 1, stride]);
  const middle = fr.slice([0, 0, 0, stride], [batch, nSrc, nFrames, stride]);
  const tail = fr.slice([0, 0, 0, 2 * stride], [batch, nSrc, nFrames - 1, 1]);
  const out = tf.add(
    tf.add(tf.pad(head, [[0, 0], [0, 0], [0, 1], [0, 0]]), middle),
    tf.pad(tail, [[0, 0], [0, 0], [1, 0], [0, stride - 1]]),
  );
  return out.reshape([batch, nSrc, nFrames * stride]);
}

/**
 * The mask layer's Conv2d(1, nSrc, (2h+1, 1), padding (h, 0)) over the (basis, time) plane,
 * as one matrix: W[i, o*nSrc + s] = w[s, i - o + h] (zero outside the kernel), so that
 * m[n, o, s] = sum_i x[n, i] * W[i, o*nSrc + s]. w [nSrc, 2h+1] with 2h+1 = nBasis + 1 as in the
 * original (h = nBasis/2). Built from reverse/pad/broadcast/reshape/slice only, so its gradient to
 * w runs on every backend; the band covers the whole matrix but a few corners.
 */
export function bandMatrix(w: Tensor2D, nBasis: number): Tensor2D {
  if (!useHeapKernels()) return bandMatrixTfOps(w, nBasis);
  let op = bandMatrixHeap.get(nBasis);
  if (!op) {
    op = custom<Tensor2D>(([ws], save) => {
      save([ws!]);
      return {
        value: run(BAND_MATRIX, { w: ws! }, { nBasis })[0]!,
        gradFunc: (dm, [saved]) => run(BAND_MATRIX_BACKPROP, { dm, w: saved! }),
      };
    });
    bandMatrixHeap.set(nBasis, op);
  }
  return op(w);
}

/** By nBasis. On wasm the tf-op version's gradient (Tile's: a slice and an add per basis) costs ~1 s a step. */
const bandMatrixHeap = new Map<number, (w: Tensor) => Tensor2D>();

function bandMatrixTfOps(w: Tensor2D, nBasis: number): Tensor2D {
  const [nSrc, kernel] = w.shape;
  const h = (kernel - 1) / 2;
  const period = 2 * nBasis;
  // z[e mod period] = w[h - e] for |e| <= h: row i of a (period-1)-wide view of z repeated is
  // z shifted by i, which gives M[i, o] = z[(o - i) mod period].
  const r = tf.reverse(w, 1);
  const z = tf.concat(
    [r.slice([0, h], [nSrc, kernel - h]), tf.zeros([nSrc, period - kernel]), r.slice([0, 0], [nSrc, h])],
    1,
  );
  const repeated = tf.broadcastTo(z.reshape([nSrc, 1, period]), [nSrc, nBasis, period]);
  const shifted = repeated
    .reshape([nSrc, nBasis * period])
    .slice([0, 0], [nSrc, nBasis * (period - 1)])
    .reshape([nSrc, nBasis, period - 1])
    .slice([0, 0, 0], [nSrc, nBasis, nBasis]); // [s, i, o]
  return tf.transpose(shifted, [1, 2, 0]).reshape([nBasis, nBasis * nSrc]) as Tensor2D;
}

/**
 * enc [rows, nBasis] times the masks from logits [rows, nBasis, nSrc] + bias [nSrc]: softmax across
 * sources, sigmoid for one source. Returns [rows, nBasis, nSrc].
 */
export function applyMasks(logits: Tensor3D, bias: Tensor, enc: Tensor2D): Tensor3D {
  if (useHeapKernels()) return applyMasksHeap(logits, bias, enc);
  const [rows, nBasis, nSrc] = logits.shape;
  const l = tf.add(logits, bias);
  const masks = nSrc === 1 ? tf.sigmoid(l) : tf.softmax(l);
  return tf.mul(masks, enc.reshape([rows, nBasis, 1]));
}

/** On wasm the stock softmax, broadcast bias add and broadcast multiply are each a slow pass. */
const applyMasksHeap = custom<Tensor3D>(([logits, bias, enc], save) => {
  const [out, masks] = run(MASKED_SOFTMAX, { logits: logits!, bias: bias!, enc: enc! });
  save([masks!, enc!]);
  return {
    value: out!,
    gradFunc: (dy, [m, e]) => run(MASKED_SOFTMAX_BACKPROP, { dy, masks: m!, enc: e! }),
  };
});

/**
 * Per-source decoder weights [nSrc, nBasis, kernel] as one block-diagonal matrix
 * [nBasis*nSrc, nSrc*kernel] matching the (basis, source) column order of the masks.
 */
export function blockDiagonal(w: Tensor3D): Tensor2D {
  const [nSrc, nBasis, kernel] = w.shape;
  const eye = tf.eye(nSrc).reshape([1, nSrc, nSrc, 1]);
  const perBasis = tf.transpose(w, [1, 0, 2]).reshape([nBasis, nSrc, 1, kernel]);
  return tf.mul(perBasis, eye).reshape([nBasis * nSrc, nSrc * kernel]) as Tensor2D;
}

/**
 * Gradient checkpointing: runs `f(x, ...params)` without keeping its intermediates and recomputes
 * them in the backward pass, so training memory grows with the number of blocks only by their
 * inputs. The wasm heap (4 GiB) cannot hold a 16-block tape otherwise.
 */
export function checkpoint(f: (x: Tensor3D, params: Tensor[]) => Tensor3D, x: Tensor3D, params: Tensor[]): Tensor3D {
  const op = custom<Tensor3D>((inputs, save) => {
    save(inputs);
    const value = f(inputs[0] as Tensor3D, inputs.slice(1));
    return {
      value,
      gradFunc: (dy, saved) => {
        // tf.grads called inside a backward pass starts a fresh tape and clears it when done,
        // which would drop the outer pass's tape (its saved tensors would then leak): keep it.
        const state = tf.engine().state;
        const outerTape = state.activeTape;
        try {
          return tf.grads((...ins: Tensor[]) => f(ins[0] as Tensor3D, ins.slice(1)))(saved, dy);
        } finally {
          state.activeTape = outerTape;
        }
      },
    };
  });
  return op(x, ...params);
}
