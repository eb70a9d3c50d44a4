// Gradient of nearest-x2 upsampling: dcoarse[b, t, c] = dy[b, 2t, c] + dy[b, 2t + 1, c].
import { heapKernel, size } from './registry';

export const PAIR_SUM = 'TiltPairSum';

heapKernel(PAIR_SUM, ['dy'], ([s]) => [[s![0]!, s![1]! / 2, s![2]!]],
  (k, [out], [dy], [s]) => k.pair_sum(dy!, out!, size(s) / (2 * s[2]!), s[2]!));
