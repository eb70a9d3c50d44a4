// The shipped default model (assets/models/tilt-default): the one every front end uses when none was
// chosen, and it separates real mixtures of voices and sounds outside its training split into the
// stems it names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../core/backend';
import { tf } from '../../core/tf';
import { loadClips, Mixer } from '../../core/data/mixer';
import { ModelStore } from '../../core/engine/models';
import { BUILTIN_MODELS_DIR } from '../../core/engine/paths';
import { siSdr } from '../../core/losses';
import { loadModel } from '../../core/models/io';
import type { SudoRmRf } from '../../core/models/sudormrf';
import { separateSignal } from '../../core/separate/separate';
import { denoiserBlendFor } from '../../core/separate/stems';
import { parseTrainConfig } from '../../core/train/config';
import { mixtureSourceFor } from '../../core/train/data';
import { Trainer } from '../../core/train/trainer';
import { MODEL_RATE, type SoundClass } from '../../core/types';
import { ensureHeldOutAudio, ensureTestAudio, HELDOUT_AUDIO_DIR, TEST_AUDIO_DIR } from '../fixtures/test-audio';
import { fixedBatches } from '../../core/train/data';
import { evaluateSystems } from '../../core/evaluation/run';
import { modelSystem } from '../../core/evaluation/systems';
import { rnnoiseSystem } from '../../core/evaluation/rnnoise';
import { leakDb, LEAK_THRESHOLD_DB, oneClassAugment } from '../../core/evaluation/oneClass';
import { LONG_SECONDS, longMixtures } from '../../core/data/longMixtures';
import { SWAP_WINDOW_SECONDS } from '../../core/evaluation/score';

const MODEL_ID = 'tilt-default';
const MODEL_DIR = join(BUILTIN_MODELS_DIR, MODEL_ID);
const MIXTURES = 8;
const HELDOUT_MIXTURES = 24;
const ONE_CLASS_INPUTS = 24;
const LONG_RECORDINGS = 3;

interface HeldOutClip { package: string; path: string; class: SoundClass; split: string }

let home: string;
let model: SudoRmRf;
let stems: string[];

before(async () => {
  await initBackend('wasm');
  home = await mkdtemp(join(tmpdir(), 'tilt-default-model-'));
  const loaded = await loadModel(MODEL_DIR);
  model = loaded.model;
  stems = loaded.metadata?.stems as string[];
});

after(async () => {
  model.dispose();
  await rm(home, { recursive: true, force: true });
});

test('the shipped model is the default of a fresh install, with its card and named stems', async () => {
  const store = new ModelStore({ userDir: join(home, 'models'), builtinDirs: [BUILTIN_MODELS_DIR], settingsFile: join(home, 'settings.json') });
  const active = await store.active();
  assert.equal(active.id, MODEL_ID);
  assert.equal(active.builtin, true);
  assert.deepEqual([...(active.sources ?? [])].sort(), ['env', 'speech']);
  assert.match(active.card ?? '', /## Held-out test results/);
  assert.deepEqual([...stems].sort(), ['env', 'speech']);
  // Trained with fixed slots: separation keeps its outputs in order across a long file's chunks.
  assert.equal(model.fixedSlots, true);
});

test('separates real held-out speech+env mixtures into the stems it names, with positive SI-SDRi', async () => {
  const manifest = await ensureTestAudio();
  const heldOut = JSON.parse(await readFile(join(MODEL_DIR, 'heldout.json'), 'utf8')) as { clips: HeldOutClip[] };
  const keys = new Set(heldOut.clips.map((c) => `${c.package}/${c.path}`));
  // Manifests record absolute paths; compare from the package folder on.
  const keyOf = (file: string, pkg: string) => file.slice(file.indexOf(`/packages/${pkg}/`) + "/packages/".length);
  // The CI corpus splits its clips differently from the full corpus the model trained on: keep only
  // the clips that the model's own split held out, whatever split the CI corpus put them in.
  const entries = manifest.entries.filter((e) => keys.has(keyOf(e.file, e.package))).map((e) => ({ ...e, split: 'test' as const }));
  assert.ok(entries.some((e) => e.class === 'speech') && entries.some((e) => e.class === 'env'), 'held-out clips of both classes are in the test audio');
  const mixer = new Mixer(await loadClips(entries, { cacheDir: TEST_AUDIO_DIR, splits: ['test'] }), { segmentSeconds: 4, seed: 'shipped-model' });
  const batch = mixer.fixed(MIXTURES, 'held-out');

  const tensorsBefore = tf.memory().numTensors;
  const improvements: number[] = [];
  for (let i = 0; i < MIXTURES; i++) {
    const mixture = batch.mixture.subarray(i * batch.time, (i + 1) * batch.time);
    const estimates = await separateSignal(model, mixture);
    for (let s = 0; s < batch.nSrc; s++) {
      const reference = batch.sources.subarray((i * batch.nSrc + s) * batch.time, (i * batch.nSrc + s + 1) * batch.time);
      // No permutation search: the stem named after the source's class must carry it.
      const estimate = estimates[stems.indexOf(batch.classes[i]![s]!)]!;
      const improvement = siSdr(estimate, reference) - siSdr(mixture, reference);
      improvements.push(improvement);
    }
  }
  assert.equal(tf.memory().numTensors, tensorsBefore);
  const mean = improvements.reduce((a, b) => a + b, 0) / improvements.length;
  const improved = improvements.filter((v) => v > 0).length;
  // The model card's test split has a 5th percentile near 0.5 dB: a hard source may not improve.
  assert.ok(improved >= 0.8 * improvements.length, `${improved} of ${improvements.length} sources improved: ${improvements.map((v) => v.toFixed(1)).join(', ')}`);
  // Only clips that every model of the shipped one's lineage held out qualify: adding packages moved
  // env clips between splits, which left 6 env clips, most of them hard. The shipped model gives
  // 7.93 dB on these mixtures, the two before it 7.64 and 7.40 dB; whole held-out packages are the next test.
  assert.ok(mean > 6.5, `mean SI-SDRi ${mean.toFixed(2)} dB over ${MIXTURES} held-out mixtures`);
});

test('on whole packages it never trained on, it beats RNNoise on the same mixtures, by more as it separates by default, and names its stems right', async () => {
  const manifest = await ensureHeldOutAudio();
  const clips = await loadClips(manifest.entries, { cacheDir: HELDOUT_AUDIO_DIR, splits: ['test'] });
  // The model card's recipe: 4 s, SNR -5..5 dB, speech+env.
  const mixer = new Mixer(clips, { segmentSeconds: 4, snrRange: [-5, 5], seed: 'shipped-model-heldout' });
  const set = { batches: fixedBatches(mixer, HELDOUT_MIXTURES, 8, 'heldout'), packageOf: new Map(manifest.entries.map((e) => [e.file, e.package])) };
  const tensorsBefore = tf.memory().numTensors;
  const byDefault = modelSystem('Tilt + RNNoise auto', model, stems, { denoiserBlend: denoiserBlendFor('auto', stems, true) });
  const [tilt, blended, rnnoise] = await evaluateSystems([modelSystem('Tilt', model, stems), byDefault, await rnnoiseSystem()], set, { snrRange: [-5, 5] });
  assert.equal(tf.memory().numTensors, tensorsBefore);
  const summary = `Tilt ${tilt!.overall.mean.toFixed(2)} dB (p5 ${tilt!.overall.p[5]!.toFixed(2)}, swaps ${tilt!.swaps.count}/${tilt!.swaps.of}), `
    + `with --rnnoise auto ${blended!.overall.mean.toFixed(2)} dB (swaps ${blended!.swaps.count}), RNNoise ${rnnoise!.overall.mean.toFixed(2)} dB`;
  assert.equal(tilt!.overall.count, HELDOUT_MIXTURES);
  assert.deepEqual(Object.keys(tilt!.byPackage).sort(), ['beneath-a-steel-sky', 'openarena-data', 'openttd-opensfx'], summary);
  assert.ok(tilt!.overall.mean > rnnoise!.overall.mean, summary);
  for (const c of ['speech', 'env'] as const) assert.ok(tilt!.byClass[c].mean > 0, `${c} stem: ${tilt!.byClass[c].mean.toFixed(2)} dB; ${summary}`);
  // The shipped model: 9.07 dB against RNNoise's 8.32, 0 swaps. About 1.5 in 100 mixtures swap on
  // the model card's 200; more than one here would be a regression.
  assert.ok(tilt!.swaps.count <= 1, summary);
  // As the app and `tilt separate` return the stems by default (RNNoise blended in where the two
  // disagree): 11.13 dB here, 2.82 above RNNoise, 0 swaps; 3.04 above it on the model card's 200.
  assert.ok(blended!.overall.mean > rnnoise!.overall.mean + 2, summary);
  assert.ok(blended!.swaps.count <= tilt!.swaps.count, summary);
});

test('on long held-out recordings, separated window by window, each stem keeps its name', async () => {
  const manifest = await ensureHeldOutAudio();
  const clips = await loadClips(manifest.entries, { cacheDir: HELDOUT_AUDIO_DIR, splits: ['test'] });
  const packageOf = new Map(manifest.entries.map((e) => [e.file, e.package]));
  const set = { batches: longMixtures(clips, packageOf, LONG_RECORDINGS, { seconds: LONG_SECONDS, snrRange: [-5, 5], seed: 'shipped-model-long' }), packageOf };
  const auto = modelSystem('Tilt with RNNoise where unsure', model, stems, { denoiserBlend: denoiserBlendFor('auto', stems, true) });
  const [tilt, blended] = await evaluateSystems([modelSystem('Tilt', model, stems), auto], set, { snrRange: [-5, 5], swapWindow: SWAP_WINDOW_SECONDS * MODEL_RATE, pairedWith: 0 });
  const w = tilt!.windowSwaps!;
  const summary = `${tilt!.overall.mean.toFixed(2)} dB, ${w.swapped} of ${w.of} windows swapped; with --rnnoise auto ${blended!.overall.mean.toFixed(2)} dB, ${blended!.windowSwaps!.swapped} swapped`;
  assert.ok(w.of >= LONG_RECORDINGS * 4, summary);
  // The shipped model: 5.12 dB, 0 of 21 windows swapped (with --rnnoise auto 7.34 dB). On four such
  // recordings, the same model without "slots": "fixed" in its model.json (as shipped before), so
  // chunks aligned by similarity, gave 1.9 dB and 7 of 28 swapped against 5.2 dB and 0.
  assert.ok(w.swapped <= 0.1 * w.of, summary);
  assert.ok(tilt!.overall.mean > 1, summary);
  // On the 50 such recordings of the README's table the blend gains 2.42 ± 0.16 dB.
  assert.ok(blended!.paired!.overall.mean > 1, summary);
  assert.ok(blended!.windowSwaps!.swapped <= w.swapped, summary);
});

test('on held-out inputs with no speech (or no sound), the stem of the absent class stays quiet', async () => {
  const manifest = await ensureHeldOutAudio();
  const clips = await loadClips(manifest.entries, { cacheDir: HELDOUT_AUDIO_DIR, splits: ['test'] });
  const system = modelSystem('Tilt', model, stems);
  const leaks = async (absent: SoundClass) => {
    const b = new Mixer(clips, { segmentSeconds: 4, snrRange: [-5, 5], seed: 'shipped-model-one-class', augment: oneClassAugment(absent) }).fixed(ONE_CLASS_INPUTS, 'one-class');
    const out: number[] = [];
    for (let i = 0; i < b.batch; i++) {
      const input = b.mixture.subarray(i * b.time, (i + 1) * b.time);
      out.push(leakDb((await system.separate(input))[absent], input));
    }
    return out.sort((x, y) => x - y);
  };
  const median = (xs: number[]) => (xs[(xs.length - 1) >> 1]! + xs[xs.length >> 1]!) / 2;
  const noSpeech = await leaks('speech');
  const noEnv = await leaks('env');
  const summary = `no speech: ${noSpeech.map((v) => v.toFixed(0)).join(' ')}; no env: ${noEnv.map((v) => v.toFixed(0)).join(' ')}`;
  // The shipped model: median -26 dB and 5 of 24 above -10 dB without speech; the one before it,
  // trained on no input without speech, -9 dB and 14 of 24.
  assert.ok(median(noSpeech) < -18, summary);
  assert.ok(noSpeech.filter((v) => v > LEAK_THRESHOLD_DB).length <= 0.3 * ONE_CLASS_INPUTS, summary);
  // Without env sound: -13.5 dB (the one before: -11.7).
  assert.ok(median(noEnv) < -10, summary);
});

test('fine-tuning starts from the shipped model, tilted toward speech', async () => {
  const config = parseTrainConfig({
    name: 'from-default', model: { from: MODEL_DIR },
    data: { corpus: 'ci', cacheDir: TEST_AUDIO_DIR, segmentSeconds: 0.5 },
    batchSize: 2, epochs: 1, stepsPerEpoch: 2, validation: { mixtures: 2, batchSize: 2 },
    reweighting: { granularity: 'source', terms: [{ class: { speech: 3, env: 0 } }] },
  });
  const trainer = await Trainer.create(config, await mixtureSourceFor(config), join(home, 'fine-tune'));
  const speechMass: number[] = [];
  try {
    assert.equal(await trainer.run({ progress: (p) => speechMass.push(p.diagnostics?.classMass.speech ?? NaN) }), 'finished');
  } finally {
    trainer.dispose();
  }
  const { model: tuned, metadata } = await loadModel(join(home, 'fine-tune', 'last'));
  tuned.dispose();
  assert.equal(speechMass.length, 2);
  // gamma 3 on speech: e^3 / (e^3 + 1) of the weight on the speech sources.
  for (const m of speechMass) assert.ok(Math.abs(m - Math.exp(3) / (Math.exp(3) + 1)) < 1e-6, `speech mass ${m}`);
  assert.deepEqual([...(metadata?.stems as string[])].sort(), ['env', 'speech']);
});
