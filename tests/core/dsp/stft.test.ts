import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StftStream, stftSize, type Spectrum } from '../../../core/dsp/stft';
import { Rng } from '../../../core/data/random';

function noise(n: number, seed: string): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-0.5, 0.5));
}

/** Pushes `inputs` in blocks of random lengths, then flushes; returns the concatenated outputs and echoed inputs. */
function run(stream: StftStream, inputs: Float32Array[], seed: string): { outputs: Float32Array[]; inputs: Float32Array[] } {
  const rng = new Rng(seed);
  const outs: Float32Array[][] = Array.from({ length: stream.nOut }, () => []);
  const ins: Float32Array[][] = Array.from({ length: stream.nIn }, () => []);
  const keep = (r: { outputs: Float32Array[]; inputs: Float32Array[] }) => {
    r.outputs.forEach((o, i) => outs[i]!.push(o));
    r.inputs.forEach((o, i) => ins[i]!.push(o));
  };
  const n = inputs[0]!.length;
  for (let at = 0; at < n;) {
    const len = Math.min(n - at, 1 + rng.int(900));
    keep(stream.push(inputs.map((x) => x.subarray(at, at + len))));
    at += len;
  }
  keep(stream.flush());
  const cat = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  return { outputs: outs.map(cat), inputs: ins.map(cat) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('an untouched spectrum gives back its input sample for sample, whatever the block lengths', () => {
  const n = 10_007;
  const [x, y, z] = ['x', 'y', 'z'].map((s) => noise(n, s));
  const copy = (inp: readonly Spectrum[], out: Spectrum[]) => inp.forEach((s, i) => {
    out[i]!.re.set(s.re);
    out[i]!.im.set(s.im);
  });
  const r = run(new StftStream(3, 3, 256, copy), [x!, y!, z!], 'blocks');
  for (const [i, ref] of [x!, y!, z!].entries()) {
    assert.ok(maxAbsDiff(r.outputs[i]!, ref) < 1e-6, `output ${i}: ${maxAbsDiff(r.outputs[i]!, ref)}`);
    assert.equal(maxAbsDiff(r.inputs[i]!, ref), 0, `input ${i} is echoed in step`);
  }
});

test('spectral changes act as filters: a zeroed band removes a tone there and keeps one elsewhere', () => {
  const rate = 8000;
  const size = stftSize(rate);
  assert.equal(size, 256);
  const n = 4 * rate;
  const x = Float32Array.from({ length: n }, (_, t) => 0.5 * Math.sin((2 * Math.PI * 500 * t) / rate) + 0.25 * Math.sin((2 * Math.PI * 3000 * t) / rate));
  const cut = Math.round((1500 * size) / rate);
  const lowPass = (inp: readonly Spectrum[], out: Spectrum[]) => {
    for (let k = 0; k < cut; k++) {
      out[0]!.re[k] = inp[0]!.re[k]!;
      out[0]!.im[k] = inp[0]!.im[k]!;
    }
  };
  const y = run(new StftStream(1, 1, size, lowPass), [x], 'filter').outputs[0]!;
  const low = x.map((_, t) => 0.5 * Math.sin((2 * Math.PI * 500 * t) / rate));
  // Away from the ends, where the tones start and stop abruptly and so have energy in every bin.
  const inner = (a: Float32Array) => a.subarray(size, n - size);
  assert.ok(maxAbsDiff(inner(y), inner(low)) < 1e-5, `max diff from the 500 Hz tone alone: ${maxAbsDiff(inner(y), inner(low))}`);
});

test('bad sizes and block shapes are refused', () => {
  assert.throws(() => new StftStream(1, 1, 100, () => undefined), /power of two/);
  const s = new StftStream(2, 1, 64, () => undefined);
  assert.throws(() => s.push([new Float32Array(4)]), /1 blocks for 2 inputs/);
  assert.throws(() => s.push([new Float32Array(4), new Float32Array(5)]), /different lengths/);
});
