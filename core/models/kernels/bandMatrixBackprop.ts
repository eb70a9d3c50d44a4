// Its gradient: dw[s, tap] = sum over the band's diagonal tap of dm.
import { heapKernel } from './registry';

export const BAND_MATRIX_BACKPROP = 'TiltBandMatrixBackprop';

heapKernel(BAND_MATRIX_BACKPROP, ['dm', 'w'], ([, ws]) => [ws!],
  (k, [dw], [dm], [[n], [nSrc, kernel]]) => k.band_matrix_grad(dm!, dw!, nSrc!, kernel!, n!));
