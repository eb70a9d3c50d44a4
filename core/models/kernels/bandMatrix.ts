// Band matrix of the mask conv (see `bandMatrix`): w [nSrc, kernel] -> [nBasis, nBasis * nSrc].
import { heapKernel } from './registry';

export const BAND_MATRIX = 'TiltBandMatrix';

heapKernel(BAND_MATRIX, ['w'], ([ws], { nBasis }) => [[nBasis!, nBasis! * ws![0]!]],
  (k, [m], [w], [[nSrc, kernel]], { nBasis }) => k.band_matrix(w!, m!, nSrc!, kernel!, nBasis!));
