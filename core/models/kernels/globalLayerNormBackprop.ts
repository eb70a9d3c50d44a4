// Its backward: dx [b, t, c], dgamma [c], dbeta [c].
import { heapKernel } from './registry';

export const GLOBAL_LAYER_NORM_BACKPROP = 'TiltGlobalLayerNormBackprop';

heapKernel(GLOBAL_LAYER_NORM_BACKPROP, ['dy', 'x', 'gamma', 'stats'], ([, xs, gs]) => [xs!, gs!, gs!],
  (k, [dx, dgamma, dbeta], [dy, x, gamma, stats], [, [batch, time, ch]], _, tmp) =>
    k.gln_backward(dy!, x!, gamma!, stats!, dx!, dgamma!, dbeta!, tmp, batch!, time!, ch!),
  ([, xs]) => 2 * xs[2]!);
