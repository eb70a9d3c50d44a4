/** Sum of squares of a signal. */
export function energy(x: Float32Array): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) e += x[i]! * x[i]!;
  return e;
}

// Signals quieter than this mean square (about -70 dBFS) are not audio to train or mix on: normalised
// to a level, they would turn silence or a noise floor into a "source".
export const AUDIBLE_MEAN_SQUARE = 1e-7;

/** Whether `x` holds samples and its mean square reaches AUDIBLE_MEAN_SQUARE. */
export function audible(x: Float32Array): boolean {
  return x.length > 0 && energy(x) / x.length >= AUDIBLE_MEAN_SQUARE;
}
