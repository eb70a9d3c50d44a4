// x [n, c] -> [c]: sums over the rows.
import { heapKernel } from './registry';

export const COLUMN_SUM = 'TiltColumnSum';

heapKernel(COLUMN_SUM, ['x'], ([xs]) => [[xs![1]!]], (k, [out], [x], [[n, c]], _, tmp) => k.column_sum(x!, out!, tmp, n!, c!), ([xs]) => xs[1]!);
