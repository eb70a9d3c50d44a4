// Masks applied to the encoding: m = softmax over sources (sigmoid for one source) of logits + bias,
// out [r, n, nSrc] = m * enc [r, n]; also returns m for the backward pass.
import { heapKernel, size } from './registry';

export const MASKED_SOFTMAX = 'TiltMaskedSoftmax';

heapKernel(MASKED_SOFTMAX, ['logits', 'bias', 'enc'], ([ls]) => [ls!, ls!],
  (k, [out, masks], [logits, bias, enc], [ls, , es]) => k.masked_softmax(logits!, bias!, enc!, out!, masks!, size(es), ls[2]!));
