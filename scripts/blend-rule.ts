// How `--rnnoise auto` picks RNNoise's share per window (docs/separation.md, "Where Tilt is unsure").
// Each set's mixtures are separated twice, by the model alone and with RNNoise's speech in every
// window, and cached; a per-window rule is then scored by recombining the two speech stems (exact but
// for the 1 s cross-fades, where neighbouring windows' shares mix). Rules are chosen on the two
// validation sets only; the held-out and test sets are printed for the chosen one.
//   node --import tsx scripts/blend-rule.ts cache [--model DIR]   all five sets (about 30 min here)
//   node --import tsx scripts/blend-rule.ts rules                 the grid, then the shipped rule on every set
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../core/backend';
import { energy } from '../core/dsp/energy';
import { formatPaired } from '../core/evaluation/report';
import { siSdr } from '../core/losses';
import { loadModel } from '../core/models/io';
import { planChunks, chunkSpan, chunkWeight, type ChunkPlan } from '../core/separate/chunks';
import { autoBlendShare, SEPARATE_DEFAULTS } from '../core/separate/defaults';
import { agreementDb, separateSignal } from '../core/separate/separate';
import { parseTrainConfig } from '../core/train/config';
import { heldOutSet, longHeldOutSet } from '../core/train/heldout';
import { pairedDifference } from '../core/train/metrics';
import { MODEL_RATE } from '../core/types';

const SETS = {
  'validation long': { corpus: 'full', split: 'validation', long: true, mixtures: 30 },
  'validation crops': { corpus: 'full', split: 'validation', long: false, mixtures: 100 },
  'held-out long': { corpus: 'heldout', split: 'test', long: true, mixtures: 50 },
  'held-out crops': { corpus: 'heldout', split: 'test', long: false, mixtures: 200 },
  'test crops': { corpus: 'full', split: 'test', long: false, mixtures: 200 },
} as const;
type SetName = keyof typeof SETS;
const VALIDATION: SetName[] = ['validation long', 'validation crops'];
const SEED = 4242;
const CACHE = join(import.meta.dirname, '../.cache/blend-rule');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { model: { type: 'string', default: 'assets/models/tilt-default' } } });

/** One mixture: input, reference speech, the model's speech stem, and the speech stem with RNNoise's in every window. */
interface Cached { mix: Float32Array; speech: Float32Array; model: Float32Array; rnnoise: Float32Array }

const fileOf = (name: SetName) => join(CACHE, `${name.replace(' ', '-')}.bin`);

async function cache(): Promise<void> {
  await initBackend();
  const { model } = await loadModel(values.model!);
  await mkdir(CACHE, { recursive: true });
  for (const [name, s] of Object.entries(SETS) as [SetName, (typeof SETS)[SetName]][]) {
    const data = parseTrainConfig({ data: { corpus: s.corpus, segmentSeconds: 4, mixtureTypes: { 'speech+env': 1 } } }).data;
    const opts = { data, split: s.split, mixtures: s.mixtures, seed: SEED };
    const set = s.long ? await longHeldOutSet({ ...opts, seconds: 30 }) : await heldOutSet(opts);
    const parts: Float32Array[] = [];
    for (const b of set.batches) {
      for (let i = 0; i < b.batch; i++) {
        const T = b.time;
        const mix = b.mixture.slice(i * T, (i + 1) * T);
        // Speech+env mixtures put speech first.
        const speech = b.sources.slice(i * b.nSrc * T, (i * b.nSrc + 1) * T);
        const alone = (await separateSignal(model, mix))[0]!;
        const blended = (await separateSignal(model, mix, { denoiserBlend: { weight: 1, speechSlot: 0 } }))[0]!;
        parts.push(Float32Array.of(T), mix, speech, alone, blended);
      }
    }
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
    await writeFile(fileOf(name), out);
    console.error(`${name}: ${set.batches.reduce((n, b) => n + b.batch, 0)} mixtures`);
  }
  model.dispose();
}

async function load(name: SetName): Promise<Cached[]> {
  const b = await readFile(fileOf(name));
  const all = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const out: Cached[] = [];
  for (let o = 0; o < all.length;) {
    const T = all[o++]!;
    const take = () => all.subarray(o, (o += T));
    out.push({ mix: take(), speech: take(), model: take(), rnnoise: take() });
  }
  return out;
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

/** What a rule sees of one window. */
interface WindowFeatures { agreement: number; modelLevel: number; rnnoiseLevel: number }
interface Prepared { m: Cached; plan: ChunkPlan; windows: WindowFeatures[]; best: number[] }

function prepare(m: Cached): Prepared {
  const window = SEPARATE_DEFAULTS.windowSec * MODEL_RATE;
  const margin = SEPARATE_DEFAULTS.maxMarginSec * MODEL_RATE;
  const plan = planChunks(m.mix.length, window, window - 2 * margin - SEPARATE_DEFAULTS.maxCrossfadeSec * MODEL_RATE, margin);
  const windows: WindowFeatures[] = [];
  const best: number[] = [];
  for (const start of plan.starts) {
    const cut = (x: Float32Array) => x.subarray(start, start + plan.window);
    const [mix, speech, model, rnnoise] = [cut(m.mix), cut(m.speech), cut(m.model), cut(m.rnnoise)];
    const level = (x: Float32Array) => 10 * Math.log10((energy(x) + 1e-12) / (energy(mix) + 1e-12));
    windows.push({ agreement: agreementDb(model, rnnoise), modelLevel: level(model), rnnoiseLevel: level(rnnoise) });
    // The least-squares share: where the reference speech lies along the line from the model's stem to RNNoise's.
    const toRnnoise = rnnoise.map((v, t) => v - model[t]!);
    best.push(dot(speech.map((v, t) => v - model[t]!), toRnnoise) / (energy(toRnnoise) + 1e-12));
  }
  return { m, plan, windows, best };
}

/** Mean SI-SDRi of the two stems (the env stem is the input minus the speech stem) with `shares` per window. */
function score({ m, plan }: Prepared, shares: number[]): number {
  const speech = new Float32Array(m.model);
  shares.forEach((share, k) => {
    const [from, to] = chunkSpan(plan, k);
    for (let n = from; n < to; n++) speech[n]! += chunkWeight(plan, k, n) * share * (m.rnnoise[n]! - m.model[n]!);
  });
  const env = m.mix.map((v, t) => v - speech[t]!);
  const envRef = m.mix.map((v, t) => v - m.speech[t]!);
  return (siSdr(speech, m.speech) - siSdr(m.mix, m.speech) + siSdr(env, envRef) - siSdr(m.mix, envRef)) / 2;
}

type Rule = (w: WindowFeatures) => number;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const perMixture = (set: Prepared[], rule: Rule) => set.map((p) => score(p, p.windows.map(rule)));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function correlation(xs: number[], ys: number[]): number {
  const [mx, my] = [mean(xs), mean(ys)];
  const sxy = xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0);
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const syy = ys.reduce((s, y) => s + (y - my) ** 2, 0);
  return sxy / Math.sqrt(sxx * syy);
}

async function rules(): Promise<void> {
  const sets = Object.fromEntries(await Promise.all(Object.keys(SETS).map(async (n) => [n, (await load(n as SetName)).map(prepare)] as const))) as Record<SetName, Prepared[]>;
  const onValidation = (rule: Rule) => mean(VALIDATION.map((n) => mean(perMixture(sets[n], rule))));

  const windows = sets['validation long'].flatMap((p) => p.windows);
  // The best share, clipped: a window where both stems are nearly equal gives it no bound.
  const best = sets['validation long'].flatMap((p) => p.best.map((b) => Math.min(1.5, Math.max(-0.5, b))));
  const features: Record<string, (w: WindowFeatures) => number> = {
    agreement: (w) => w.agreement, 'model speech level': (w) => w.modelLevel, 'RNNoise speech level': (w) => w.rnnoiseLevel,
    'level difference': (w) => w.rnnoiseLevel - w.modelLevel,
  };
  console.log('correlation with the best share per window, validation long recordings:');
  for (const [name, f] of Object.entries(features)) console.log(`  ${name}: ${correlation(windows.map(f), best).toFixed(2)}`);

  const grid: { score: number; label: string }[] = [];
  for (const maxShare of [0.4, 0.5, 0.6, 0.7, 0.8]) {
    for (const centre of [8, 10, 12, 14]) {
      for (const width of [1, 2, 3]) {
        grid.push({ score: onValidation((w) => maxShare * sigmoid((centre - w.agreement) / width)), label: `share ${maxShare}, centre ${centre} dB, width ${width} dB` });
      }
    }
  }
  grid.sort((a, b) => b.score - a.score);
  console.log('\nbest rules on validation (mean of the two sets):');
  for (const g of grid.slice(0, 5)) console.log(`  ${g.score.toFixed(2)}  ${g.label}`);
  let second = -Infinity;
  for (const offset of [-3, -1, 0, 1, 3]) {
    for (const width of [0.5, 1, 2, 4]) {
      second = Math.max(second, onValidation((w) => autoBlendShare(w.agreement) * 2 * sigmoid((w.rnnoiseLevel - w.modelLevel - offset) / width)));
    }
  }
  console.log(`  with a second gate on the level difference, at best: ${second.toFixed(2)}`);

  console.log('\nthe shipped rule (autoBlendShare) by set, against the model alone and a fixed half:');
  for (const [name, set] of Object.entries(sets)) {
    const [auto, alone, half] = [perMixture(set, (w) => autoBlendShare(w.agreement)), perMixture(set, () => 0), perMixture(set, () => 0.5)];
    const oracle = set.map((p) => score(p, p.best.map((b) => Math.min(1, Math.max(0, b)))));
    console.log(`  ${name}: auto ${mean(auto).toFixed(2)}, alone ${mean(alone).toFixed(2)} (auto ${formatPaired(pairedDifference(auto, alone))}), half ${mean(half).toFixed(2)} (auto ${formatPaired(pairedDifference(auto, half))}), best share per window ${mean(oracle).toFixed(2)}`);
  }
}

if (positionals[0] === 'cache') await cache();
else if (positionals[0] === 'rules') await rules();
else throw new Error('usage: blend-rule.ts cache [--model DIR] | rules');
