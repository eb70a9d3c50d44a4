// Its input gradient: dx [b, t, c] from dy [b, tOut, c].
import { heapKernel } from './registry';

export const DEPTHWISE_INPUT_GRAD = 'TiltDepthwiseInputGrad';

heapKernel(DEPTHWISE_INPUT_GRAD, ['dy', 'w'], ([dys, ws], { time }) => [[dys[0]!, time!, ws[1]!]],
  (k, [dx], [dy, w], [[batch, tOut, ch], [kernel]], { stride, time }) =>
    k.depthwise_input_grad(dy!, w!, dx!, batch!, time!, tOut!, ch!, kernel!, stride!));
