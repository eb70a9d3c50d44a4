// Global layer norm: y [b, t, c] and the per-example stats [b, 2] = (mean, rstd) its backward uses.
import { heapKernel } from './registry';

export const GLOBAL_LAYER_NORM = 'TiltGlobalLayerNorm';

heapKernel(GLOBAL_LAYER_NORM, ['x', 'gamma', 'beta'], ([xs]) => [xs!, [xs![0]!, 2]],
  (k, [y, stats], [x, gamma, beta], [[batch, time, ch]], { eps }) => k.gln_forward(x!, gamma!, beta!, y!, stats!, batch!, time!, ch!, eps!));
