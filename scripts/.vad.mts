// Exploration: on top of auto, RNNoise's speech in frames where its VAD says no speech.
import { initBackend } from '../core/backend';
import { loadModel } from '../core/models/io';
import { parseTrainConfig } from '../core/train/config';
import { heldOutSet, longHeldOutSet } from '../core/train/heldout';
import { separateSignal } from '../core/separate/separate';
import { denoiserBlendFor, stemNamesOf } from '../core/separate/stems';
import { RnnoiseStream, rnnoiseGain, RNNOISE_DELAY } from '../core/dsp/rnnoise';
import { siSdr } from '../core/losses';
await initBackend();
const { model, metadata } = await loadModel('assets/models/tilt-default');
const blend = denoiserBlendFor('auto', stemNamesOf(metadata, model.nSources));
const [corpus, split, kind, nArg] = process.argv.slice(2);
const n = Number(nArg);
const data = parseTrainConfig({ data: { corpus, segmentSeconds: 4, mixtureTypes: { 'speech+env': 1 } } }).data;
const set = kind === 'long' ? await longHeldOutSet({ data, split: split as 'test', mixtures: n, seed: 4242, seconds: 30 }) : await heldOutSet({ data, split: split as 'test', mixtures: n, seed: 4242 });
const thetas = [0.02, 0.05, 0.1, 0.2, 0.4];
const dil = [0, 3, 10];
const sums = new Map<string, number>();
let count = 0;
for (const b of set.batches) for (let i = 0; i < b.batch; i++) {
  const x = b.mixture.subarray(i * b.time, (i + 1) * b.time);
  const refs = [0, 1].map((j) => b.sources.subarray((i * 2 + j) * b.time, (i * 2 + j + 1) * b.time));
  const [sp] = await separateSignal(model, x, { denoiserBlend: blend });
  const rms = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
  const st = await RnnoiseStream.open(rnnoiseGain(rms));
  const vads: number[] = [];
  const state = (st as unknown as { state: { processFrame(f: Float32Array): number } }).state;
  const orig = state.processFrame.bind(state);
  state.processFrame = (f) => { const v = orig(f); vads.push(v); return v; };
  const h = st.push(x); const rn = new Float32Array(x.length); rn.set(h); rn.set(st.end(), h.length); st.dispose();
  // VAD of output frame f describes 48 kHz input around 480 f + 480 - RNNOISE_DELAY ... map each 8 kHz sample t to the frame whose analysed audio covers it.
  const vadAt = (t: number) => { const f = Math.round((6 * t) / 480) + 0 * RNNOISE_DELAY; return vads[Math.min(vads.length - 1, Math.max(0, f))]!; };
  const base = (s: Float32Array) => (siSdr(s, refs[0]!) - siSdr(x, refs[0]!) + siSdr(x.map((v, t) => v - s[t]!), refs[1]!) - siSdr(x, refs[1]!)) / 2;
  const add = (k: string, v: number) => sums.set(k, (sums.get(k) ?? 0) + v);
  add('auto', base(sp!));
  add('rnnoise', base(rn));
  const frames = Math.ceil(x.length / 80);
  const fv = Array.from({ length: frames }, (_, f) => vadAt(f * 80 + 40));
  for (const th of thetas) for (const d of dil) {
    const gate = fv.map((_, f) => { for (let g = Math.max(0, f - d); g <= Math.min(frames - 1, f + d); g++) if (fv[g]! >= th) return 0; return 1; });
    const out = sp!.map((v, t) => { const g = gate[Math.floor(t / 80)]!; return v + g * (rn[t]! - v); });
    add(`th${th} d${d}`, base(out));
  }
  count++;
}
console.log(`${corpus} ${split} ${kind} n=${count}`);
for (const [k, v] of sums) console.log(k.padEnd(12), (v / count).toFixed(3), (v / count - sums.get('auto')! / count).toFixed(3));
