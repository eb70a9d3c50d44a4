// "Same"-padded depthwise conv plus bias: x [b, t, c], w [k, c], bias [c] -> [b, ceil(t / stride), c].
import { heapKernel } from './registry';

export const DEPTHWISE = 'TiltDepthwise';

heapKernel(DEPTHWISE, ['x', 'w', 'b'], ([[batch, time, ch]], { stride }) => [[batch!, Math.ceil(time! / stride!), ch!]],
  (k, [y], [x, w, b], [[batch, time, ch], [kernel]], { stride }) =>
    k.depthwise(x!, w!, b!, y!, batch!, time!, Math.ceil(time! / stride!), ch!, kernel!, stride!));
