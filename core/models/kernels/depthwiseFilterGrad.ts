// Its weight and bias gradients in one pass: dw [k, c], dbias [c].
import { heapKernel } from './registry';

export const DEPTHWISE_FILTER_GRAD = 'TiltDepthwiseFilterGrad';

heapKernel(DEPTHWISE_FILTER_GRAD, ['dy', 'x'], ([dys], { kernel }) => [[kernel!, dys[2]!], [dys[2]!]],
  (k, [dw, db], [dy, x], [[batch, tOut, ch], [, time]], { stride, kernel }, tmp) =>
    k.depthwise_filter_grad(dy!, x!, dw!, db!, tmp, batch!, time!, tOut!, ch!, kernel!, stride!),
  ([dys], { kernel }) => (kernel! + 1) * dys[2]!);
