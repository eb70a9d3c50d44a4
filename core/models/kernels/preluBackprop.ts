// PReLU's gradients: dx [.., c] and dalpha [c] (summed over every leading axis).
import { heapKernel, size } from './registry';

export const PRELU_BACKPROP = 'TiltPreluBackprop';

heapKernel(PRELU_BACKPROP, ['dy', 'x', 'alpha'], ([xs, , as]) => [xs!, as!],
  (k, [dx, da], [dy, x, alpha], [xs, , [c]], _, tmp) => k.prelu_backward(dy!, x!, alpha!, dx!, da!, tmp, size(xs) / c!, c!),
  ([, , as]) => as[0]!);
