// fine [b, 2t', c] + nearest-x2(coarse [b, t', c]); fine's time may be odd only if coarse covers it.
import { heapKernel } from './registry';

export const ADD_UPSAMPLED = 'TiltAddUpsampled';

heapKernel(ADD_UPSAMPLED, ['fine', 'coarse'], ([fs]) => [fs!],
  (k, [out], [fine, coarse], [[batch, time, c], [, tc]]) => k.add_upsampled(fine!, coarse!, out!, batch!, time!, tc!, c!));
