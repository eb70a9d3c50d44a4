// `node --import tsx scripts/eval-fullband.ts --root DIR [--speech klettres|fillets|bass] [--field stereo|centre]
// [--mixtures N] [--seconds S] [--seed S] [--model DIR] [--json]`: how well stems at the input's
// quality hold up, on held-out 44.1 kHz stereo mixtures built from real recordings. Speech: the
// voices of the corpus's test split (never trained or validated on) of klettres-data (44.1 kHz) or,
// with --speech fillets, of fillets-ng-data-nl (22.05 kHz), or, with --speech bass, the voices of
// beneath-a-steel-sky (11.025 kHz), a package held out whole. Environmental sound: the 44.1 kHz effects
// of openttd-opensfx and openarena-data, packages held out of training whole, unpacked under DIR
// (openttd-opensfx/tilt-unpacked/..., openarena-data/tilt-unpacked/...). Each source gets its own
// pan and inter-channel delay (--field centre puts both in the middle). The numbers in
// docs/full-band.md come from this script.
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../core/backend';
import { defaultCacheDir } from '../core/data/fetch';
import { readManifest } from '../core/data/manifest';
import { Rng } from '../core/data/random';
import { fft } from '../core/dsp/fft';
import { downmix, readAudioFile, resample } from '../core/io/audio';
import { siSdr } from '../core/losses/siSdrArrays';
import { loadModel } from '../core/models/io';
import { HIGH_BAND, splitFullBand, type FullBandOptions } from '../core/separate/fullband';
import { separateSignal } from '../core/separate/separate';
import { MODEL_RATE } from '../core/types';

const { values } = parseArgs({
  options: {
    root: { type: 'string' }, speech: { type: 'string', default: 'klettres' }, field: { type: 'string', default: 'stereo' }, mixtures: { type: 'string', default: '40' }, seconds: { type: 'string', default: '6' },
    seed: { type: 'string', default: '44100' }, model: { type: 'string', default: join(import.meta.dirname, '../assets/models/tilt-default') },
    json: { type: 'boolean' },
  },
});
if (!values.root) throw new Error('--root DIR: the folder with the unpacked klettres-data, openttd-opensfx and openarena-data packages');
const RATE = 44100;
const SECONDS = Number(values.seconds);
const LENGTH = Math.round(SECONDS * RATE);
const HIGH_HZ = 4000;
const FIELD = values.field === 'centre' ? 0 : 1;

async function walk(dir: string, ext: RegExp): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, ext)));
    else if (ext.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** Mono clips at 44.1 kHz from files at `minRate` or more; other files and files that do not decode are left out. */
async function clips(files: string[], minRate: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const f of files) {
    try {
      const a = await readAudioFile(f);
      if (a.sampleRate >= minRate) out.push(await resample(Float32Array.from(downmix(a)), a.sampleRate, RATE));
    } catch {
      // Damaged files in the packages (truncated Ogg streams) are skipped.
    }
  }
  return out;
}

/** Clips one after another with short gaps until `length` samples are filled. */
function sequence(pool: Float32Array[], rng: Rng, length: number, gapSec: [number, number]): Float32Array {
  const out = new Float32Array(length);
  let at = Math.round(rng.uniform(0, gapSec[1]) * RATE);
  while (at < length) {
    const c = rng.pick(pool);
    out.set(c.subarray(0, Math.min(c.length, length - at)), at);
    at += c.length + Math.round(rng.uniform(gapSec[0], gapSec[1]) * RATE);
  }
  return out;
}

function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / x.length);
}

/** Constant-power pan and a delay of the far channel: the source's image in each channel. */
function place(x: Float32Array, gain: number, pan: number, delay: number): Float32Array[] {
  const angle = ((pan + 1) * Math.PI) / 4;
  const g = [Math.cos(angle), Math.sin(angle)];
  const late = pan < 0 ? 1 : 0;
  return g.map((gc, c) => {
    const y = new Float32Array(x.length);
    const d = c === late ? delay : 0;
    for (let t = d; t < x.length; t++) y[t] = gain * gc * x[t - d]!;
    return y;
  });
}

interface Mixture {
  channels: Float32Array[];
  /** [source][channel]: speech, env. */
  images: Float32Array[][];
}

function mix(speechByLang: Float32Array[][], env: Float32Array[], rng: Rng): Mixture {
  const speech = sequence(rng.pick(speechByLang), rng, LENGTH, [0.1, 0.4]);
  const sound = sequence(env, rng, LENGTH, [0, 0.3]);
  const snr = rng.uniform(-5, 5);
  const gs = 0.05 / Math.max(rms(speech), 1e-9);
  const ge = (0.05 / Math.max(rms(sound), 1e-9)) * 10 ** (-snr / 20);
  const images = [
    place(speech, gs, rng.uniform(-0.8, 0.8) * FIELD, rng.int(Math.round(0.0004 * RATE)) * FIELD),
    place(sound, ge, rng.uniform(-0.8, 0.8) * FIELD, rng.int(Math.round(0.0004 * RATE)) * FIELD),
  ];
  const channels = [0, 1].map((c) => images[0]![c]!.map((v, t) => v + images[1]![c]![t]!));
  return { channels, images };
}

/** Energy of x above HIGH_HZ, the part of it that is y's (<X, Y> over the same bins) and x's energy in all. */
function highBand(x: Float32Array, y: Float32Array): { energy: number; shared: number; total: number } {
  let n = 1;
  while (n < x.length) n *= 2;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  re.set(x);
  im.set(y);
  fft(re, im, false);
  let energy = 0;
  let shared = 0;
  let total = 0;
  const from = Math.ceil((HIGH_HZ * n) / RATE);
  for (let k = 1; k < n / 2; k++) {
    const m = n - k;
    const [xr, xi] = [(re[k]! + re[m]!) / 2, (im[k]! - im[m]!) / 2];
    total += xr * xr + xi * xi;
    if (k < from) continue;
    const [yr, yi] = [(im[k]! + im[m]!) / 2, (re[m]! - re[k]!) / 2];
    energy += xr * xr + xi * xi;
    shared += xr * yr + xi * yi;
  }
  return { energy, shared, total };
}

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const mean = (v: number[]) => sum(v) / v.length;

interface Scores {
  siSdri: number;
  speech: number;
  env: number;
  /** Env stem's energy above 4 kHz over its reference's. */
  envHighEnergy: number;
  /** Part of the env reference's energy above 4 kHz found in the env stem: <est, ref> / <ref, ref> there. */
  envHighKept: number;
  speechHighKept: number;
  envHighRef: number;
  speechHighRef: number;
}

/** Per-channel full-band scores of stems [source][channel] against the images. */
function score(stems: Float32Array[][], m: Mixture): Scores {
  const per = [0, 1].map((s) => mean([0, 1].map((c) => siSdr(stems[s]![c]!, m.images[s]![c]!) - siSdr(m.channels[c]!, m.images[s]![c]!))));
  const kept = (s: number) => {
    const h = [0, 1].map((c) => highBand(m.images[s]![c]!, stems[s]![c]!));
    const ref = h.reduce((a, b) => a + b.energy, 0);
    const est = [0, 1].map((c) => highBand(stems[s]![c]!, stems[s]![c]!).energy).reduce((a, b) => a + b, 0);
    return { kept: h.reduce((a, b) => a + b.shared, 0), energy: est, ref };
  };
  const env = kept(1);
  const sp = kept(0);
  return { siSdri: mean(per), speech: per[0]!, env: per[1]!, envHighEnergy: env.energy, envHighKept: env.kept, envHighRef: env.ref, speechHighKept: sp.kept, speechHighRef: sp.ref };
}

/** High-band rules compared (FullBandOptions); the first is Tilt's default. */
const VARIANTS: { name: string; opts: Partial<FullBandOptions> }[] = [
  { name: `default: residual x${HIGH_BAND.residualWeight} up to ${HIGH_BAND.sharedUpToHz / 1000} kHz, env above`, opts: {} },
  { name: 'follow the top band (shares as the model has them)', opts: { residualWeight: 1, sharedUpToHz: Infinity } },
  { name: 'follow up to 8 kHz, env above', opts: { residualWeight: 1, sharedUpToHz: 8000 } },
  { name: 'residual x16 everywhere', opts: { residualWeight: 16, sharedUpToHz: Infinity } },
  { name: 'residual x64 everywhere', opts: { residualWeight: 64, sharedUpToHz: Infinity } },
  { name: 'all of the high band to env', opts: { sharedUpToHz: 0 } },
];

/** Speech sources: the package and the lowest original rate a clip may have. */
const SPEECH: Record<string, { pkg: string; minRate: number }> = {
  klettres: { pkg: 'klettres-data', minRate: 22050 },
  fillets: { pkg: 'fillets-ng-data-nl', minRate: 22050 },
  bass: { pkg: 'beneath-a-steel-sky', minRate: 11025 },
};

async function main(): Promise<void> {
  await initBackend();
  const root = values.root!;
  // Voices of the corpus's test split: never trained or validated on.
  const cache = defaultCacheDir();
  const speech = SPEECH[values.speech!];
  if (!speech) throw new Error(`--speech must be one of ${Object.keys(SPEECH).join(', ')}`);
  const { pkg, minRate } = speech;
  const test = (await readManifest(cache)).entries.filter((e) => e.package === pkg && e.split === 'test');
  const voices = [...new Set(test.map((e) => e.label))].sort();
  let speechByLang = await Promise.all(voices.map((v) => clips(test.filter((e) => e.label === v).map((e) => resolve(cache, e.file)).sort().slice(0, 200), minRate)));
  speechByLang = speechByLang.filter((c) => c.length >= 5);
  const env = await clips([
    ...(await walk(join(root, 'openttd-opensfx/tilt-unpacked'), /\.wav$/)),
    ...(await walk(join(root, 'openarena-data/tilt-unpacked'), /\.wav$/)),
  ], RATE);
  const { model, metadata } = await loadModel(values.model!);
  const names = metadata?.stems as string[];
  const order = [names.indexOf('speech'), names.indexOf('env')];
  const rng = new Rng(values.seed!);
  const n = Number(values.mixtures);
  const rows: Record<string, Scores[]> = {};
  const add = (k: string, s: Scores) => (rows[k] ??= []).push(s);
  const envHighShare: number[] = [];
  const mono8: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = mix(speechByLang, env, rng);
    const e = m.images[1]!.map((ch) => highBand(ch, ch));
    envHighShare.push(e.reduce((a, b) => a + b.energy, 0) / e.reduce((a, b) => a + b.total, 0));
    const mono = downmix({ sampleRate: RATE, channels: m.channels });
    const x8 = await resample(mono, RATE, MODEL_RATE, 'fast');
    const stems8 = await separateSignal(model, x8);
    const [speech8, env8] = order.map((j) => stems8[j]!);
    const refs8 = await Promise.all(m.images.map((img) => resample(downmix({ sampleRate: RATE, channels: img }), RATE, MODEL_RATE, 'fast')));
    mono8.push(mean([speech8!, env8!].map((s, k) => siSdr(s, refs8[k]!) - siSdr(x8, refs8[k]!))));
    // What Tilt did before: the 8 kHz stems resampled back to 44.1 kHz, the same in every channel.
    const up = await Promise.all([speech8!, env8!].map((s) => resample(s, MODEL_RATE, RATE)));
    add('8 kHz mono stems resampled (before)', score(up.map((s) => [s, s]), m));
    // As the pipeline does it: the speech stem back at 44.1 kHz guides the masks.
    const guide = await resample(speech8!, MODEL_RATE, RATE, 'fast');
    for (const v of VARIANTS) add(v.name, score(splitFullBand(m.channels, [guide], { rate: RATE, nStems: 2, residual: 1, ...v.opts }), m));
    // The ceiling of the method: masks from the true speech image instead of the model's stem.
    const oracle = downmix({ sampleRate: RATE, channels: m.images[0]! });
    add('oracle masks (true speech as the guide), follow', score(splitFullBand(m.channels, [oracle], { rate: RATE, nStems: 2, residual: 1, residualWeight: 1, sharedUpToHz: Infinity }), m));

    if (!values.json) process.stderr.write(`\r${i + 1}/${n} mixtures`);
  }
  if (!values.json) process.stderr.write('\n');
  const summary = {
    mixtures: n, seconds: SECONDS, envHighShare: mean(envHighShare), mono8SiSdri: mean(mono8),
    methods: Object.entries(rows).map(([name, s]) => ({
      name, siSdri: mean(s.map((x) => x.siSdri)), speech: mean(s.map((x) => x.speech)), env: mean(s.map((x) => x.env)),
      envHighEnergy: sum(s.map((x) => x.envHighEnergy)) / sum(s.map((x) => x.envHighRef)),
      envHighKept: sum(s.map((x) => x.envHighKept)) / sum(s.map((x) => x.envHighRef)),
      speechHighKept: sum(s.map((x) => x.speechHighKept)) / sum(s.map((x) => x.speechHighRef)),
    })),
  };
  model.dispose();
  if (values.json) return void console.log(JSON.stringify(summary));
  console.log(`${n} mixtures of ${SECONDS} s at 44.1 kHz stereo; env references hold ${(100 * summary.envHighShare).toFixed(1)}% of their energy above 4 kHz`);
  console.log(`8 kHz mono (model's own output vs 8 kHz mono references): SI-SDRi ${summary.mono8SiSdri.toFixed(2)} dB`);
  console.log('| method | SI-SDRi (dB) | speech | env | env energy > 4 kHz vs reference | env reference > 4 kHz kept | speech reference > 4 kHz kept |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  for (const r of summary.methods) {
    console.log(`| ${r.name} | ${r.siSdri.toFixed(2)} | ${r.speech.toFixed(2)} | ${r.env.toFixed(2)} | ${pct(r.envHighEnergy)} | ${pct(r.envHighKept)} | ${pct(r.speechHighKept)} |`);
  }
}

await main();
