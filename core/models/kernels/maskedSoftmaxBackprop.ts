// Its gradients: dlogits [r, n, nSrc], dbias [nSrc], denc [r, n].
import { heapKernel, size } from './registry';

export const MASKED_SOFTMAX_BACKPROP = 'TiltMaskedSoftmaxBackprop';

heapKernel(MASKED_SOFTMAX_BACKPROP, ['dy', 'masks', 'enc'], ([ds, , es]) => [ds!, [ds![2]!], es!],
  (k, [dl, db, de], [dy, masks, enc], [ds, , es], _, tmp) => k.masked_softmax_grad(dy!, masks!, enc!, dl!, db!, de!, tmp, size(es), ds[2]!),
  ([ds]) => ds[2]!);
