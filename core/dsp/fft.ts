// Radix-2 FFT shared by augmentation (convolution) and separation's STFT.

/** Per length: twiddles and the index pairs that bit reversal swaps. */
const tables = new Map<number, { cos: Float64Array; sin: Float64Array; swaps: Uint32Array }>();

function tableFor(n: number): { cos: Float64Array; sin: Float64Array; swaps: Uint32Array } {
  let t = tables.get(n);
  if (t) return t;
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = -Math.sin((2 * Math.PI * k) / n);
  }
  const pairs: number[] = [];
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) pairs.push(i, j);
  }
  t = { cos, sin, swaps: Uint32Array.from(pairs) };
  tables.set(n, t);
  return t;
}

/** In-place iterative radix-2 FFT (length a power of two); the inverse is scaled by 1/n. */
export function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  const { cos, sin, swaps } = tableFor(n);
  for (let p = 0; p < swaps.length; p += 2) {
    const i = swaps[p]!; const j = swaps[p + 1]!;
    const tr = re[i]!; re[i] = re[j]!; re[j] = tr;
    const ti = im[i]!; im[i] = im[j]!; im[j] = ti;
  }
  // First stage: butterflies of two with unit twiddles.
  for (let i = 0; i + 1 < n; i += 2) {
    const ar = re[i]!; const ai = im[i]!; const br = re[i + 1]!; const bi = im[i + 1]!;
    re[i] = ar + br; im[i] = ai + bi; re[i + 1] = ar - br; im[i + 1] = ai - bi;
  }
  const sign = inverse ? -1 : 1;
  // Twiddle-outer loops: each twiddle is read once per stage (twice as fast as block-outer here).
  for (let len = 4; len <= n; len *= 2) {
    const half = len >> 1;
    const stride = n / len;
    for (let k = 0; k < half; k++) {
      const wr = cos[k * stride]!;
      const wi = sign * sin[k * stride]!;
      for (let a = k; a < n; a += len) {
        const b = a + half;
        const xr = re[b]!; const xi = im[b]!;
        const tr = xr * wr - xi * wi;
        const ti = xr * wi + xi * wr;
        const ar = re[a]!; const ai = im[a]!;
        re[b] = ar - tr; im[b] = ai - ti;
        re[a] = ar + tr; im[a] = ai + ti;
      }
    }
  }
  if (inverse) {
    const s = 1 / n;
    for (let i = 0; i < n; i++) { re[i]! *= s; im[i]! *= s; }
  }
}
