import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fft } from '../../../core/dsp/fft';
import { Rng } from '../../../core/data/random';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('fft matches the DFT (forward sign e^-i) and the inverse undoes it', () => {
  const rng = new Rng('fft');
  for (const n of [1, 2, 4, 16, 64, 1024, 8192]) {
    const re = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const im = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const r0 = Float64Array.from(re); const i0 = Float64Array.from(im);
    fft(re, im, false);
    if (n <= 64) {
      for (let k = 0; k < n; k++) {
        let sr = 0; let si = 0;
        for (let t = 0; t < n; t++) {
          const w = (-2 * Math.PI * k * t) / n;
          sr += r0[t]! * Math.cos(w) - i0[t]! * Math.sin(w);
          si += r0[t]! * Math.sin(w) + i0[t]! * Math.cos(w);
        }
        assert.ok(Math.abs(re[k]! - sr) < 1e-9 && Math.abs(im[k]! - si) < 1e-9, `n ${n} bin ${k}`);
      }
    }
    fft(re, im, true);
    assert.ok(maxAbsDiff(re, r0) < 1e-12 && maxAbsDiff(im, i0) < 1e-12, `n ${n}: round trip`);
  }
});
