import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aLaw8, applyBiquads, augmentChannel, butterworth4, clip, convolve, DEFAULT_AUGMENT, muLaw8, peaking,
  quantize, resampleLinear, roomImpulse, shelf, silence, type AugmentConfig, type Biquad,
} from '../../../core/data/augment';
import { Rng } from '../../../core/data/random';

const RATE = 8000;

function tone(freq: number, n: number, amp = 1, phase = 0): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / RATE + phase);
  return x;
}

function noise(rng: Rng, n: number, amp = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform(-amp, amp);
  return x;
}

/** Amplitude of the `freq` component of y[from, to) (a DFT projection; exact for whole periods). */
function amplitudeAt(y: Float32Array, freq: number, from: number, to: number): number {
  let c = 0; let s = 0;
  for (let i = from; i < to; i++) {
    c += y[i]! * Math.cos((2 * Math.PI * freq * i) / RATE);
    s += y[i]! * Math.sin((2 * Math.PI * freq * i) / RATE);
  }
  return (2 * Math.hypot(c, s)) / (to - from);
}

const db = (ratio: number) => 20 * Math.log10(ratio);

/**
 * Steady-state gain in dB of a filter chain for a unit sine of `freq`, measured over the second and
 * third seconds (the transient is over; whole periods for frequencies that are multiples of 1 Hz).
 */
function gainDb(filters: readonly Biquad[], freq: number): number {
  const x = tone(freq, 3 * RATE);
  applyBiquads(x, filters);
  return db(amplitudeAt(x, freq, RATE, 3 * RATE));
}

/** |H|^2 of a 4th-order Butterworth made by the bilinear transform (with prewarping) at fc. */
function butterworthDb(kind: 'lowpass' | 'highpass', fc: number, f: number): number {
  const r = Math.tan((Math.PI * f) / RATE) / Math.tan((Math.PI * fc) / RATE);
  const ratio = kind === 'lowpass' ? r : 1 / r;
  return -10 * Math.log10(1 + ratio ** 8);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function peak(x: Float32Array): number {
  let p = 0;
  for (const v of x) p = Math.max(p, Math.abs(v));
  return p;
}

/** sqrt(sum (a - b)^2 / sum b^2) over [from, to). */
function relativeError(a: Float32Array, b: Float32Array, from: number, to: number): number {
  let e = 0; let s = 0;
  for (let i = from; i < to; i++) { e += (a[i]! - b[i]!) ** 2; s += b[i]! ** 2; }
  return Math.sqrt(e / s);
}

const OFF: AugmentConfig = { ...DEFAULT_AUGMENT, eq: 0, bandLimit: 0, codec: 0, reverb: 0, speed: 0, pause: 0, bed: 0 };

// ---------------------------------------------------------------------------------------------
// Filters

test('Butterworth low-pass: -3 dB at fc, flat pass band, 24 dB per octave and >= 40 dB from 1.7 octaves up', () => {
  for (const fc of [1000, 2500]) {
    const lp = butterworth4('lowpass', fc);
    assert.equal(lp.length, 2, 'two biquad sections');
    assert.ok(Math.abs(gainDb(lp, fc) + 3.01) < 0.5, `${fc} Hz at fc: ${gainDb(lp, fc)} dB`);
    for (const f of [fc / 8, fc / 4, fc / 2]) assert.ok(Math.abs(gainDb(lp, f)) < 0.5, `${fc}: pass band ${f} Hz: ${gainDb(lp, f)} dB`);
    // The measured response follows the bilinear Butterworth magnitude wherever it is above -80 dB.
    for (const f of [fc / 2, fc * 0.8, fc, fc * 1.2, fc * 1.5, Math.min(fc * 2, 3900), Math.min(fc * 3, 3900)]) {
      const want = butterworthDb('lowpass', fc, f);
      if (want > -80) assert.ok(Math.abs(gainDb(lp, f) - want) < 0.5, `${fc}: ${f} Hz: ${gainDb(lp, f)} dB, want ${want}`);
    }
  }
  const lp = butterworth4('lowpass', 1000);
  assert.ok(gainDb(lp, 2000) < -24, `one octave above: ${gainDb(lp, 2000)} dB`);
  for (const f of [3250, 3500, 3900]) assert.ok(gainDb(lp, f) < -40, `${f} Hz: ${gainDb(lp, f)} dB`);
});

test('Butterworth high-pass: -3 dB at fc, flat pass band, >= 24 dB one octave down and >= 40 dB from 1.7 octaves down', () => {
  for (const fc of [300, 500]) {
    const hp = butterworth4('highpass', fc);
    assert.ok(Math.abs(gainDb(hp, fc) + 3.01) < 0.5, `${fc} Hz at fc: ${gainDb(hp, fc)} dB`);
    for (const f of [fc * 2, fc * 4, 3000]) assert.ok(Math.abs(gainDb(hp, f)) < 0.5, `${fc}: pass band ${f} Hz: ${gainDb(hp, f)} dB`);
    for (const f of [fc / 4, fc / 2, fc * 0.8, fc * 1.25, fc * 2]) {
      const want = butterworthDb('highpass', fc, f);
      assert.ok(Math.abs(gainDb(hp, f) - want) < 0.5, `${fc}: ${f} Hz: ${gainDb(hp, f)} dB, want ${want}`);
    }
    assert.ok(gainDb(hp, fc / 2) < -24, `${fc}: one octave below: ${gainDb(hp, fc / 2)} dB`);
    assert.ok(gainDb(hp, Math.round(fc / 3.25)) < -40, `${fc}: 1.7 octaves below: ${gainDb(hp, Math.round(fc / 3.25))} dB`);
  }
});

test('peaking filters give their gain at the centre and ~0 dB far from it', () => {
  for (const [f0, q, g] of [[1000, 1, 6], [1000, 2, -9], [500, 0.7, 9], [2500, 1.5, -6]] as const) {
    const p = [peaking(f0, q, g)];
    assert.ok(Math.abs(gainDb(p, f0) - g) < 0.5, `${f0} Hz q ${q} ${g} dB: ${gainDb(p, f0)} dB at the centre`);
    for (const f of [f0 / 16, Math.min(3990, f0 * 8)]) {
      if (f >= 20) assert.ok(Math.abs(gainDb(p, f)) < 0.5, `${f0}/${g}: ${f} Hz: ${gainDb(p, f)} dB`);
    }
  }
  // The boost is only around the centre: one octave away it is well under the nominal gain.
  assert.ok(gainDb([peaking(1000, 2, 9)], 2000) < 3);
  assert.ok(gainDb([peaking(1000, 2, 9)], 500) < 3);
});

test('shelves give their gain far into the shelf, half of it (in dB) at the corner, and ~0 dB on the other side', () => {
  for (const g of [9, -9, 6]) {
    const low = [shelf(false, 200, g)];
    assert.ok(Math.abs(gainDb(low, 25) - g) < 0.5, `low shelf ${g} dB: ${gainDb(low, 25)} dB at 25 Hz`);
    assert.ok(Math.abs(gainDb(low, 200) - g / 2) < 0.5, `low shelf ${g} dB: ${gainDb(low, 200)} dB at the corner`);
    for (const f of [1500, 3000]) assert.ok(Math.abs(gainDb(low, f)) < 0.5, `low shelf ${g} dB: ${gainDb(low, f)} dB at ${f} Hz`);
    const high = [shelf(true, 2000, g)];
    assert.ok(Math.abs(gainDb(high, 3900) - g) < 0.5, `high shelf ${g} dB: ${gainDb(high, 3900)} dB at 3.9 kHz`);
    assert.ok(Math.abs(gainDb(high, 3600) - g) < 0.5, `high shelf ${g} dB: ${gainDb(high, 3600)} dB at 3.6 kHz`);
    assert.ok(Math.abs(gainDb(high, 2000) - g / 2) < 0.5, `high shelf ${g} dB: ${gainDb(high, 2000)} dB at the corner`);
    for (const f of [100, 300]) assert.ok(Math.abs(gainDb(high, f)) < 0.5, `high shelf ${g} dB: ${gainDb(high, f)} dB at ${f} Hz`);
  }
});

/** Seeds whose band-limit draw (after the reverb, eq and band-limit coin flips) picks `kind`. */
function seedForBandKind(kind: number): string {
  for (let s = 0; s < 1000; s++) {
    const r = new Rng(`band-${s}`);
    r.next(); r.next(); r.next();
    if (r.int(4) === kind) return `band-${s}`;
  }
  throw new Error('no seed');
}

test('the telephone preset in the chain: 100 Hz and 3.9 kHz down by the 300-3400 Hz Butterworth amounts, 1 kHz passes', () => {
  const seed = seedForBandKind(0);
  const n = 3 * RATE;
  const x = new Float32Array(n);
  for (const f of [100, 1000, 3900]) {
    const t = tone(f, n, 0.3, f / 1000);
    for (let i = 0; i < n; i++) x[i]! += t[i]!;
  }
  const y = augmentChannel(x, new Rng(seed), { ...OFF, bandLimit: 1 });
  const rel = (f: number) => db(amplitudeAt(y, f, RATE, n) / 0.3);
  const expected = (f: number) => butterworthDb('highpass', 300, f) + butterworthDb('lowpass', 3400, f);
  assert.ok(Math.abs(expected(100) + 38.3) < 0.1 && Math.abs(expected(3900) + 62.9) < 0.1, 'the reference numbers');
  assert.ok(Math.abs(rel(100) - expected(100)) < 0.5, `100 Hz: ${rel(100)} dB, want ${expected(100)}`);
  assert.ok(Math.abs(rel(3900) - expected(3900)) < 1, `3.9 kHz: ${rel(3900)} dB, want ${expected(3900)}`);
  assert.ok(Math.abs(rel(1000)) < 0.5, `1 kHz: ${rel(1000)} dB`);
  // Each band edge is one section's corner: -3 dB there.
  const tel = [...butterworth4('highpass', 300), ...butterworth4('lowpass', 3400)];
  assert.ok(Math.abs(gainDb(tel, 300) + 3.01) < 0.5 && Math.abs(gainDb(tel, 3400) + 3.01) < 0.5, 'edges at -3 dB');
});

test('the chain applies each band-limit preset and codec as drawn, in the order reverb, eq, band, codec', () => {
  const x = noise(new Rng('src'), 4000, 0.5);
  // Low-pass (800-3000 Hz), high-pass (200-900 Hz), bright shelf (+6..12 dB above 1.5-3 kHz).
  for (const kind of [1, 2, 3]) {
    const seed = seedForBandKind(kind);
    const r = new Rng(seed);
    r.next(); r.next(); r.next(); r.int(4);
    const want = Float32Array.from(x);
    if (kind === 1) { const fc = r.uniform(800, 3000); applyBiquads(want, butterworth4('lowpass', fc)); }
    if (kind === 2) { const fc = r.uniform(200, 900); applyBiquads(want, butterworth4('highpass', fc)); }
    if (kind === 3) { const fc = r.uniform(1500, 3000); const g = r.uniform(6, 12); applyBiquads(want, [shelf(true, fc, g)]); }
    assert.deepEqual(augmentChannel(x, new Rng(seed), { ...OFF, bandLimit: 1 }), want, `band kind ${kind}`);
  }
  const codecs: ((y: Float32Array, r: Rng) => void)[] = [muLaw8, aLaw8, (y) => quantize(y, 8), (y, r) => clip(y, r.uniform(0.2, 0.7))];
  const seen = new Set<number>();
  for (let s = 0; seen.size < 4 && s < 200; s++) {
    const r = new Rng(`codec-${s}`);
    r.next(); r.next(); r.next(); r.next();
    const kind = r.int(4);
    if (seen.has(kind)) continue;
    seen.add(kind);
    const want = Float32Array.from(x);
    codecs[kind]!(want, r);
    assert.deepEqual(augmentChannel(x, new Rng(`codec-${s}`), { ...OFF, codec: 1 }), want, `codec kind ${kind}`);
  }
  assert.equal(seen.size, 4);
  // Reverb: the drawn room, convolved (RT60 then DRR then the pre-delay).
  const r = new Rng('room');
  r.next();
  const h = roomImpulse(r, r.uniform(...DEFAULT_AUGMENT.reverbSeconds), r.uniform(...DEFAULT_AUGMENT.reverbDrrDb));
  assert.deepEqual(augmentChannel(x, new Rng('room'), { ...OFF, reverb: 1 }), convolve(x, h));
  // EQ: low shelf 80-400 Hz, peak 300-3000 Hz, high shelf 1.5-3.5 kHz, each gain within +-eqDb.
  const e = new Rng('eq');
  e.next(); e.next();
  const low = shelf(false, e.uniform(80, 400), e.uniform(-4, 4));
  const mid = peaking(e.uniform(300, 3000), e.uniform(0.7, 2), e.uniform(-4, 4));
  const hi = shelf(true, e.uniform(1500, 3500), e.uniform(-4, 4));
  const want = Float32Array.from(x);
  applyBiquads(want, [low, mid, hi]);
  assert.deepEqual(augmentChannel(x, new Rng('eq'), { ...OFF, eq: 1, eqDb: 4 }), want);
  // With eqDb 4, no frequency moves by more than 3 x 4 dB.
  const eqOnly = augmentChannel(tone(1000, 2 * RATE), new Rng('eq'), { ...OFF, eq: 1, eqDb: 4 });
  assert.ok(Math.abs(db(amplitudeAt(eqOnly, 1000, RATE, 2 * RATE))) <= 12.01);
});

// ---------------------------------------------------------------------------------------------
// Codecs

test('mu-law and A-law 8-bit: error bounded by ~2.2 % of the peak, and far smaller than 8-bit linear on quiet passages', () => {
  const rng = new Rng('codec');
  const n = 16000;
  // A loud half (noise, peak 0.5) and a quiet half (a sine 40 dB below the peak).
  const x = new Float32Array(n);
  x.set(noise(rng, n / 2, 0.5));
  x[0] = 0.5;
  x.set(tone(440, n / 2, 0.005), n / 2);
  const run = (f: (y: Float32Array) => void) => { const y = Float32Array.from(x); f(y); return y; };
  const mu = run(muLaw8);
  const a = run(aLaw8);
  const lin = run((y) => quantize(y, 8));
  for (const [name, y] of [['mu', mu], ['A', a]] as const) {
    assert.ok(maxAbsDiff(y, x) / 0.5 < 0.0225, `${name}: max error / peak ${maxAbsDiff(y, x) / 0.5}`);
    assert.equal(peak(y), peak(x), `${name}: the peak maps to itself`);
    for (let i = 0; i < n; i++) assert.ok(Math.sign(y[i]!) === Math.sign(x[i]!) || y[i] === 0, `${name}: sign at ${i}`);
    const quiet = relativeError(y, x, n / 2, n);
    const quietLinear = relativeError(lin, x, n / 2, n);
    assert.ok(quiet < 0.03, `${name}: quiet-half relative error ${quiet}`);
    assert.ok(quietLinear > 10 * quiet, `${name}: 8-bit linear ${quietLinear} vs ${quiet}`);
    assert.ok(relativeError(y, x, 0, n / 2) < 0.02, `${name}: loud-half relative error`);
    assert.ok(new Set(y).size <= 255, `${name}: at most 255 levels`);
  }
  // Linear 8 bits: error at most half a step (peak / 254).
  assert.ok(maxAbsDiff(lin, x) <= 0.5 / 254 + 1e-7, `linear max error ${maxAbsDiff(lin, x)}`);
});

test('quantize(8) gives at most 255 distinct levels, a multiple of peak / 127 each; zeros stay zeros', () => {
  const x = noise(new Rng('q'), 20000, 0.8);
  const p = peak(x);
  quantize(x, 8);
  const levels = new Set(x);
  assert.ok(levels.size <= 255 && levels.size > 240, `${levels.size} levels`);
  for (const v of levels) {
    const k = (v / p) * 127;
    assert.ok(Math.abs(k - Math.round(k)) < 1e-4, `level ${v} is ${k} steps`);
  }
  const q4 = noise(new Rng('q4'), 5000);
  quantize(q4, 4);
  assert.ok(new Set(q4).size <= 15);
  const zeros = new Float32Array(100);
  for (const f of [muLaw8, aLaw8, (y: Float32Array) => quantize(y, 8), (y: Float32Array) => clip(y, 0.5)]) {
    f(zeros);
    assert.ok(zeros.every((v) => v === 0), 'silence stays silence (no NaN)');
  }
});

test('clip caps the peak at the fraction and leaves smaller samples untouched', () => {
  for (const fraction of [0.2, 0.45, 0.7]) {
    const x = noise(new Rng(`clip-${fraction}`), 5000, 0.6);
    const before = Float32Array.from(x);
    const p = peak(x);
    clip(x, fraction);
    assert.ok(Math.abs(peak(x) - fraction * p) < 1e-6, `peak ${peak(x)} vs ${fraction * p}`);
    let clipped = 0;
    for (let i = 0; i < x.length; i++) {
      if (Math.abs(before[i]!) <= fraction * p) assert.equal(x[i], before[i]);
      else { clipped++; assert.ok(Math.abs(Math.abs(x[i]!) - fraction * p) < 1e-6 && Math.sign(x[i]!) === Math.sign(before[i]!)); }
    }
    assert.ok(Math.abs(clipped / x.length - (1 - fraction)) < 0.05, `share clipped ${clipped / x.length}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Room

function schroederRt60(h: Float32Array, start: number): number {
  const edc = new Float64Array(h.length);
  let acc = 0;
  for (let i = h.length - 1; i >= start; i--) { acc += h[i]! ** 2; edc[i] = acc; }
  const xs: number[] = []; const ys: number[] = [];
  for (let i = start; i < h.length; i++) {
    const level = 10 * Math.log10(edc[i]! / edc[start]!);
    if (level <= -5 && level >= -35) { xs.push(i / RATE); ys.push(level); }
  }
  const mx = xs.reduce((s, v) => s + v, 0) / xs.length;
  const my = ys.reduce((s, v) => s + v, 0) / ys.length;
  let sxy = 0; let sxx = 0;
  for (let i = 0; i < xs.length; i++) { sxy += (xs[i]! - mx) * (ys[i]! - my); sxx += (xs[i]! - mx) ** 2; }
  return -60 / (sxy / sxx);
}

test('roomImpulse: Schroeder RT60 within 15 %, direct-to-reverberant ratio exact, pre-delay 2-20 ms', () => {
  const preDelays: number[] = [];
  for (const [rt60, drr] of [[0.15, -3], [0.3, 0], [0.5, 5], [0.9, 12], [2, -10]] as const) {
    for (let s = 0; s < 4; s++) {
      const h = roomImpulse(new Rng(`room-${rt60}-${s}`), rt60, drr);
      assert.equal(h[0], 1, 'unit direct path');
      let pre = 1;
      while (h[pre] === 0) pre++;
      preDelays.push(pre);
      assert.ok(pre >= 0.002 * RATE && pre <= 0.02 * RATE, `pre-delay ${pre} samples`);
      assert.ok(h.length - pre === Math.round(rt60 * RATE), 'the tail lasts rt60');
      let tail = 0;
      for (let i = 1; i < h.length; i++) tail += h[i]! ** 2;
      const measuredDrr = 10 * Math.log10(1 / tail);
      assert.ok(Math.abs(measuredDrr - drr) < 0.1, `DRR ${measuredDrr} vs ${drr}`);
      const rt = schroederRt60(h, pre);
      assert.ok(Math.abs(rt / rt60 - 1) < 0.15, `RT60 ${rt} vs ${rt60}`);
      assert.ok(h.every(Number.isFinite));
    }
  }
  assert.ok(new Set(preDelays).size > 10, 'the pre-delay is drawn');
  assert.deepEqual(roomImpulse(new Rng('same'), 0.4, 3), roomImpulse(new Rng('same'), 0.4, 3), 'seeded');
});

// ---------------------------------------------------------------------------------------------
// FFT and convolution

function directConvolution(x: Float32Array, h: Float32Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let n = 0; n < x.length; n++) {
    let s = 0;
    for (let k = 0; k < h.length && k <= n; k++) s += h[k]! * x[n - k]!;
    y[n] = s;
  }
  return y;
}

test('convolve equals the direct convolution (cut to x) for any lengths', () => {
  const rng = new Rng('conv');
  const cases: [number, number][] = [[1, 1], [1, 5], [5, 1], [7, 3], [100, 100], [128, 129], [1000, 37], [37, 1000], [3001, 511], [4096, 1], [2049, 700]];
  for (let i = 0; i < 6; i++) cases.push([1 + rng.int(3000), 1 + rng.int(800)]);
  for (const [nx, nh] of cases) {
    const x = noise(rng, nx); const h = noise(rng, nh);
    const y = convolve(x, h);
    assert.equal(y.length, nx);
    const err = maxAbsDiff(y, directConvolution(x, h));
    assert.ok(err < 1e-5, `${nx} * ${nh}: max error ${err}`);
  }
  // A delayed, scaled impulse delays and scales.
  const x = noise(rng, 300);
  const h = new Float32Array(11); h[10] = 0.5;
  const y = convolve(x, h);
  for (let i = 0; i < 300; i++) assert.ok(Math.abs(y[i]! - (i >= 10 ? 0.5 * x[i - 10]! : 0)) < 1e-7);
});

// ---------------------------------------------------------------------------------------------
// Time

/** Frequency from interpolated zero crossings. */
function zeroCrossingFrequency(y: Float32Array, upTo: number): number {
  const times: number[] = [];
  for (let i = 0; i + 1 < upTo; i++) {
    if ((y[i]! <= 0 && y[i + 1]! > 0) || (y[i]! >= 0 && y[i + 1]! < 0)) times.push(i + y[i]! / (y[i]! - y[i + 1]!));
  }
  return ((times.length - 1) / 2) / ((times[times.length - 1]! - times[0]!) / RATE);
}

test('resampleLinear: a sine of f at factor r has frequency f r, the length is as asked, missing input is silence', () => {
  for (const f of [220, 440, 1000]) {
    for (const r of [0.5, 0.9, 1, 1.1, 1.5, 2]) {
      const length = 12000;
      const x = tone(f, Math.ceil((length - 1) * r) + 1, 0.7, 0.3);
      const y = resampleLinear(x, r, length);
      assert.equal(y.length, length);
      const got = zeroCrossingFrequency(y, length);
      assert.ok(Math.abs(got / (f * r) - 1) < 1e-3, `${f} Hz x ${r}: ${got} Hz`);
      // Linear interpolation keeps the level (to within its small high-frequency loss).
      const a = amplitudeAt(y, f * r, 0, length);
      assert.ok(a > 0.7 * 0.93 && a < 0.7 * 1.001, `${f} x ${r}: amplitude ${a}`);
    }
  }
  const x = noise(new Rng('rs'), 100);
  const y = resampleLinear(x, 2, 100);
  for (let i = 0; i < 50; i++) assert.equal(y[i], x[2 * i], 'integer positions are the input samples');
  for (let i = 50; i < 100; i++) assert.equal(y[i], 0, 'past the input: silence');
  const half = resampleLinear(x, 0.5, 20);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(half[2 * i + 1]! - (x[i]! + x[i + 1]!) / 2) < 1e-7, 'midpoints are averages');
  assert.deepEqual(resampleLinear(x, 1, 100), x, 'factor 1 is the identity');
});

test('silence: zeros in the stretch, 10 ms linear fades at each side, untouched elsewhere', () => {
  const x = noise(new Rng('sil'), 8000, 0.5);
  for (let i = 0; i < x.length; i++) if (x[i] === 0) x[i] = 0.1;
  const y = Float32Array.from(x);
  const start = 3000; const length = 1500; const end = start + length; const fade = 80; // 10 ms at 8 kHz
  silence(y, start, length);
  assert.equal(y.length, x.length);
  for (let i = start; i < end; i++) assert.ok(y[i] === 0, `zero at ${i}`);
  for (let k = 1; k <= fade; k++) assert.ok(Math.abs(y[start - k]! - x[start - k]! * (k / fade)) < 1e-7, `fade out at -${k}`);
  for (let j = 0; j < fade; j++) assert.ok(Math.abs(y[end + j]! - x[end + j]! * ((j + 1) / fade)) < 1e-7, `fade in at +${j}`);
  for (let i = 0; i < start - fade; i++) assert.equal(y[i], x[i]);
  for (let i = end + fade; i < x.length; i++) assert.equal(y[i], x[i]);
  let zeros = 0;
  for (const v of y) if (v === 0) zeros++;
  assert.equal(zeros, length, 'only the stretch is silent');
  // The fade lasts 10 ms at other rates too, and stretches at the edges stay inside the signal.
  const z = Float32Array.from(x);
  silence(z, 1000, 100, 16000);
  assert.ok(Math.abs(z[1000 - 160]! - x[1000 - 160]!) < 1e-7 && Math.abs(z[1000 - 80]! - x[1000 - 80]! / 2) < 1e-7, '160-sample fade at 16 kHz');
  const edge = Float32Array.from(x);
  silence(edge, 0, 500);
  silence(edge, 7800, 1000);
  assert.equal(edge.length, 8000);
  assert.ok(edge.subarray(0, 500).every((v) => v === 0) && edge.subarray(7800).every((v) => v === 0));
  assert.ok(edge.every(Number.isFinite));
  assert.equal(edge[600], x[600]);
});

// ---------------------------------------------------------------------------------------------
// The chain

test('augmentChannel: deterministic per seed, finite, same length, input untouched; all probabilities 0 is the identity', () => {
  const n = 16000;
  const x = new Float32Array(n);
  const speechLike = noise(new Rng('chain'), n, 0.3);
  for (let i = 0; i < n; i++) x[i] = speechLike[i]! * (0.5 + 0.5 * Math.sin((2 * Math.PI * 3 * i) / RATE)) + 0.2 * Math.sin((2 * Math.PI * 150 * i) / RATE);
  const before = Float32Array.from(x);
  const all: AugmentConfig = { ...DEFAULT_AUGMENT, eq: 1, bandLimit: 1, codec: 1, reverb: 1 };
  let changed = 0;
  for (let s = 0; s < 16; s++) {
    for (const cfg of [DEFAULT_AUGMENT, all]) {
      const a = augmentChannel(x, new Rng(`aug-${s}`), cfg);
      const b = augmentChannel(x, new Rng(`aug-${s}`), cfg);
      assert.deepEqual(a, b, 'same seed, same output');
      assert.equal(a.length, n);
      assert.ok(a.every(Number.isFinite), 'finite');
      assert.ok(peak(a) > 0, 'not silenced');
      if (maxAbsDiff(a, x) > 1e-3) changed++;
    }
  }
  assert.deepEqual(x, before, 'the input is not modified');
  assert.ok(changed >= 16 + 4, `${changed} of 32 outputs differ from the input`);
  assert.notDeepEqual(augmentChannel(x, new Rng('p'), all), augmentChannel(x, new Rng('q'), all), 'other seeds, other outputs');
  for (let s = 0; s < 8; s++) {
    const y = augmentChannel(x, new Rng(`off-${s}`), OFF);
    assert.notEqual(y, x, 'a copy');
    assert.deepEqual(y, x, 'identity with every probability 0');
  }
});
