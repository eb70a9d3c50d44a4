// Ships a training run's best checkpoint as the built-in default model: scores it as users get it
// (stems by name) on the held-out test split of the real-recordings corpus and on the `heldout`
// package set, next to the RNNoise and no-separation baselines, and writes assets/models/<id>/ with
// the weights (no optimizer state), a model card, its learning curve, and heldout.json (the scores
// and the list of held-out clips the tests use).
//
//   node --import tsx scripts/ship-default-model.ts [--run training/default-model/run] [--mixtures 500]
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, describeBackend } from '../core/backend';
import { packageRoot, defaultCacheDir } from '../core/data/fetch';
import { readManifest } from '../core/data/manifest';
import { PACKAGE_SETS } from '../core/data/packages';
import { expectedMixtureStd } from '../core/data/mixer';
import { LONG_SECONDS } from '../core/data/longMixtures';
import { lineChart } from '../core/experiments/svg';
import { countParameters } from '../core/models/sudormrf';
import { loadModel, saveModel } from '../core/models/io';
import { trainerStateOf, type TrainerState } from '../core/train/checkpoint';
import { parseTrainConfig } from '../core/train/config';
import { heldOutSet, longHeldOutSet } from '../core/train/heldout';
import { PERCENTILES, type Summary } from '../core/train/metrics';
import { comparisonMarkdown, type SystemReport } from '../core/evaluation/report';
import { SWAP_WINDOW_SECONDS } from '../core/evaluation/score';
import { rnnoiseSystem } from '../core/evaluation/rnnoise';
import { evaluateSystems } from '../core/evaluation/run';
import { evaluateOneClass, LEAK_THRESHOLD_DB, ONE_CLASS_HEADER, oneClassRows, oneClassSets, type OneClassReport } from '../core/evaluation/oneClass';
import { MIXTURE_SYSTEM, modelSystem, type SeparationSystem } from '../core/evaluation/systems';
import { denoiserBlendFor, stemNamesOf } from '../core/separate/stems';
import { MODEL_RATE, SOUND_CLASSES, type MixtureType } from '../core/types';

const { values } = parseArgs({
  options: {
    run: { type: 'string', default: 'training/default-model/run' },
    id: { type: 'string', default: 'tilt-default' },
    mixtures: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '4' },
  },
});
const runDir = resolve(values.run!);
const runPath = relative(process.cwd(), runDir);
const configPath = relative(process.cwd(), join(runDir, '..', 'config.json'));
const outDir = resolve('assets/models', values.id!);
const mixtures = Number(values.mixtures);
const seconds = Number(values.seconds);
/** The test set's seed: fixed, so every shipped model is scored on the same mixtures. */
const TEST_SEED = 4242;
/** The test mixtures' SNR range (speech over env, dB): fixed, whatever range a model trained on. */
const TEST_SNR: [number, number] = [-5, 5];
/** Mixtures of one class, off the training distribution, scored for the model alone. */
const OTHER_TYPES: MixtureType[] = ['speech+speech', 'env+env'];
const OTHER_SHARE = 0.2;
const GOAL_DB = 8;

const backend = await initBackend();
const { model, metadata } = await loadModel(join(runDir, 'best'));
const state: TrainerState = trainerStateOf(metadata, join(runDir, 'best'));
const train = state.config;
const cacheDir = train.data.cacheDir ?? defaultCacheDir();
// Checkpoints written before the level was recorded lack it; the config determines it.
model.inputStd = expectedMixtureStd(train.data.snrDb);

/** What the app and `tilt separate` return by default: the model with RNNoise blended in where the two disagree. */
const DEFAULT_SEPARATION = 'Tilt + RNNoise auto (default)';
const blend = denoiserBlendFor('auto', stemNamesOf({ stems: state.stems }, model.nSources), model.fixedSlots ?? false);
const systems = [
  modelSystem('Tilt', model, state.stems),
  ...(blend ? [modelSystem(DEFAULT_SEPARATION, model, state.stems, { denoiserBlend: blend })] : []),
  await rnnoiseSystem(),
  MIXTURE_SYSTEM,
];
async function score(corpus: string | null, type: MixtureType, count: number, scored: SeparationSystem[]): Promise<SystemReport[]> {
  const data = parseTrainConfig({
    data: { corpus, cacheDir: train.data.cacheDir, segmentSeconds: seconds, snrDb: TEST_SNR, mixtureTypes: { [type]: 1 } },
  }).data;
  console.error(`scoring ${scored.map((x) => x.name).join(', ')} on ${count} ${type} mixtures of ${corpus} (${seconds} s)`);
  const set = await heldOutSet({ data, split: 'test', mixtures: count, seed: TEST_SEED });
  return evaluateSystems(scored, set, { snrRange: data.snrDb });
}
const corpus = train.data.corpus;
const testReports = await score(corpus, 'speech+env', mixtures, systems);
// Other games' voices and sound effects, never trained on nor used to pick the checkpoint.
const heldOutReports = PACKAGE_SETS.heldout.length > 0 ? await score('heldout', 'speech+env', mixtures, systems) : null;
// Inputs with no speech (or no sound) from the same held-out packages: how much lands in the stem of
// the class that is not there.
const oneClassCount = Math.round(mixtures / 2);
let oneClassReports: OneClassReport[] | null = null;
if (PACKAGE_SETS.heldout.length > 0) {
  const data = parseTrainConfig({ data: { corpus: 'heldout', cacheDir: train.data.cacheDir, segmentSeconds: seconds, snrDb: TEST_SNR } }).data;
  console.error(`scoring ${systems.map((x) => x.name).join(', ')} on ${oneClassCount} held-out inputs without speech and as many without env`);
  oneClassReports = await evaluateOneClass(systems, await oneClassSets({ data, split: 'test', count: oneClassCount, seed: TEST_SEED }));
}
// Recordings longer than one separation window: the stems must keep their names from window to window.
const longCount = Math.round(mixtures / 4);
let longReports: SystemReport[] | null = null;
if (PACKAGE_SETS.heldout.length > 0) {
  const data = parseTrainConfig({ data: { corpus: 'heldout', cacheDir: train.data.cacheDir, segmentSeconds: seconds, snrDb: TEST_SNR } }).data;
  console.error(`scoring ${systems.map((x) => x.name).join(', ')} on ${longCount} held-out recordings of ${LONG_SECONDS} s`);
  const set = await longHeldOutSet({ data, split: 'test', mixtures: longCount, seed: TEST_SEED, seconds: LONG_SECONDS });
  longReports = await evaluateSystems(systems, set, { snrRange: data.snrDb, swapWindow: Math.round(SWAP_WINDOW_SECONDS * MODEL_RATE) });
}
const otherCount = Math.round(mixtures * OTHER_SHARE);
const otherReports: { type: MixtureType; report: SystemReport }[] = [];
for (const type of OTHER_TYPES) otherReports.push({ type, report: (await score(corpus, type, otherCount, systems.slice(0, 1)))[0]! });
const main = testReports[0]!.overall;

// A fine-tune from a model shipped here also saw that model's training clips: only what both held out
// is held out (the previous heldout.json, read before the folder is replaced).
const baseModel = typeof metadata?.baseModel === 'string' ? metadata.baseModel : null;
const baseHeldOut = baseModel
  ? new Set((JSON.parse(await readFile(join(outDir, 'heldout.json'), 'utf8')) as { clips: { package: string; path: string }[] }).clips.map((c) => `${c.package}/${c.path}`))
  : null;
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
const bestRecord = state.history.find((r) => r.epoch === state.best?.epoch);
await saveModel(model, outDir, {
  name: 'Tilt default (speech / environmental sound)',
  stems: state.stems,
  sampleRate: MODEL_RATE,
  inputStd: model.inputStd,
  createdAt: new Date().toISOString(),
  metrics: { testSiSdriSpeechEnv: main.mean, testSiSdriSpeechEnvP5: main.p[5]!, validationSiSdri: state.best?.siSdri ?? NaN },
  training: { configName: train.name, steps: bestRecord?.step ?? state.step, epochs: state.best ? state.best.epoch + 1 : state.history.length, wallSeconds: state.wallSeconds },
});
const modelConfig = { ...model.config };
model.dispose();

// Clips of the CI test-audio packages that this model never trained on: the shipped-model test mixes
// only these, so it scores on held-out audio even though CI has just the small corpus.
const manifest = await readManifest(cacheDir);
const corpusPackages = train.data.corpus ? PACKAGE_SETS[train.data.corpus] : [];
const heldOut = manifest.entries
  .filter((e) => PACKAGE_SETS.ci.includes(e.package) && e.split !== 'train')
  .filter((e) => !baseHeldOut || baseHeldOut.has(`${e.package}/${relative(packageRoot(cacheDir, e.package), e.file)}`))
  .map((e) => ({ package: e.package, path: relative(packageRoot(cacheDir, e.package), e.file), class: e.class, split: e.split }));
const results = {
  note: 'SI-SDRi (dB) of test mixtures, each source scored against the stem named after its class (one-class mixtures: best permutation); NaN is null',
  seed: TEST_SEED, seconds, snrDb: TEST_SNR, mixtures,
  test: { corpus, reports: testReports },
  ...(heldOutReports ? { heldout: { corpus: 'heldout', reports: heldOutReports } } : {}),
  ...(oneClassReports ? { oneClass: { corpus: 'heldout', inputs: oneClassCount, reports: oneClassReports } } : {}),
  ...(longReports ? { long: { corpus: 'heldout', recordings: longCount, seconds: LONG_SECONDS, swapWindowSeconds: SWAP_WINDOW_SECONDS, reports: longReports } } : {}),
  otherTypes: Object.fromEntries(otherReports.map(({ type, report }) => [type, report])),
};
// One clip per line: the list is long.
const clipLines = heldOut.map((c) => `  ${JSON.stringify(c, null, 1).replace(/\n\s*/g, ' ')}`);
await writeFile(join(outDir, 'heldout.json'), [
  '{',
  ` "note": ${JSON.stringify('results: this model\'s held-out scores; clips: clips of the CI test audio outside its training split (validation: only picked the checkpoint; test: never used)')},`,
  ` "results": ${JSON.stringify(results, null, 1).replace(/\n/g, '\n ')},`,
  ' "clips": [',
  clipLines.join(',\n'),
  ' ]',
  '}',
].join('\n') + '\n');

await writeFile(join(outDir, 'learning-curve.svg'), lineChart({
  title: 'Tilt default model: validation SI-SDRi per epoch', xLabel: 'training step', yLabel: 'SI-SDRi (dB)', markers: true,
  series: [
    { name: 'all mixtures', points: state.history.map((r) => [r.step, r.validation.overall.mean] as const) },
    ...SOUND_CLASSES.map((c) => ({ name: `${c} sources`, points: state.history.map((r) => [r.step, r.validation.byClass[c].mean] as const), dashed: true })),
  ],
  references: [{ y: GOAL_DB, label: `goal ${GOAL_DB} dB` }],
}));

// ---- model card ----
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const hours = (s: number) => (s / 3600).toFixed(2);
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const summaryRow = (name: string, s: Summary) => row([name, s.count, f(s.mean), f(s.std), ...PERCENTILES.map((q) => f(s.p[q]!, 1))]);
const summaryHeader = [row(['SI-SDRi (dB)', 'n', 'mean', 'std', ...PERCENTILES.map((q) => `p${q}`)]), row(Array(4 + PERCENTILES.length).fill('---'))];

const used = manifest.entries.filter((e) => corpusPackages.includes(e.package));
const dataRows = corpusPackages.map((pkg) => {
  const es = used.filter((e) => e.package === pkg);
  const by = (split: string) => hours(es.filter((e) => e.split === split).reduce((a, e) => a + e.duration, 0));
  return row([pkg, es[0]?.class ?? '', es[0]?.licence ?? '', es.length, by('train'), by('validation'), by('test')]);
});
const totals = SOUND_CLASSES.map((c) => {
  const es = used.filter((e) => e.class === c);
  const by = (split: string) => hours(es.filter((e) => e.split === split).reduce((a, e) => a + e.duration, 0));
  return row([`**all ${c}**`, '', '', es.length, by('train'), by('validation'), by('test')]);
});
const stepsDone = bestRecord?.step ?? state.step;
const perStep = state.history.length ? state.history.reduce((a, r) => a + r.seconds, 0) / state.history.at(-1)!.step : NaN;
const reached = main.mean >= GOAL_DB;
const testVoices = [...new Set(used.filter((e) => e.split === 'test' && e.class === 'speech').map((e) => e.label))];
const testEnvFiles = used.filter((e) => e.split === 'test' && e.class === 'env').length;

const card = `# Tilt default separator: speech / environmental sound

Splits an 8 kHz mono recording into two stems, **${(state.stems ?? []).join('** and **')}**. It is the
model Tilt uses when you have not chosen another (app, \`tilt separate\`, \`tilt serve\`), and a good
starting point for fine-tuning (\`"model": { "from": "assets/models/${values.id}" }\` in a training config).

## Held-out test results
${mixtures} speech+env mixtures of ${seconds} s from the corpus's **test split**: voices and sound
sources never used in training or model selection${baseModel ? ' by this run (a fine-tune: its base model split the corpus before packages were added, so some of these voices and sounds may have been in the base\'s training data; the held-out packages below are the clean test)' : ''}. SNR uniform in [${TEST_SNR.join(', ')}] dB
(speech over env), seed ${TEST_SEED}; scored on ${describeBackend(backend)}. The test split holds the
voices ${testVoices.join(', ')} and ${testEnvFiles} environmental recordings: a small test set, so read the
percentiles with that in mind.

Each mixture is separated as the app and \`tilt separate\` do it (normalisation, chunking, gain
matching) and each source is scored against the stem **named** after its class; the best-permutation
row is the figure training validation reports. **Tilt** is this model alone (\`--rnnoise off\`)${blend ? `;
**${DEFAULT_SEPARATION}** is what the app and \`tilt separate\` return by default, RNNoise's estimate of
the speech blended into the speech stem where it and the model disagree (\`--rnnoise auto\`,
docs/separation.md)` : ''}. On the same mixtures, two baselines: **RNNoise**
(its output on the mixture, at 48 kHz, as the speech stem; the rest of the mixture as the env stem)
and **mixture**, the mixture itself as both stems (0 dB by definition).

${comparisonMarkdown(testReports)}
${heldOutReports ? `
### Other recordings (the \`heldout\` package set)
${mixtures} speech+env mixtures of packages never trained on (${PACKAGE_SETS.heldout.join(', ')}): other
games' voices and other sound effects, the same seed and SNR range.

${comparisonMarkdown(heldOutReports)}
` : ''}${oneClassReports ? `
### Inputs that hold one class
${oneClassCount} inputs without speech and ${oneClassCount} without environmental sound, from the same held-out packages
(speech+env mixtures with one source left out; \`tilt evaluate --data heldout --one-class\`). The leak is the
energy of the stem of the class that is not there, relative to the input (dB; 0 = all of it, lower is
better); "leaking" counts the inputs above ${LEAK_THRESHOLD_DB} dB.

${row(ONE_CLASS_HEADER)}
${row(Array(ONE_CLASS_HEADER.length).fill('---'))}
${oneClassRows(oneClassReports).map((r) => row(r.map((c) => (typeof c === 'number' ? f(c, c === Math.round(c) ? 0 : 1) : c)))).join('\n')}
` : ''}${longReports ? `
### Long recordings
${longCount} recordings of ${LONG_SECONDS} s from the same held-out packages, each a conversation (voice lines of
random speakers with 0.3-2 s pauses) over a run of sounds of one package, at the same SNR range
(\`tilt evaluate --data heldout --long\`). Separation cuts them into windows, so this also checks that
each stem keeps its name from window to window: every ${SWAP_WINDOW_SECONDS} s window where both sources are heard
is scored both ways round.

${comparisonMarkdown(longReports)}
` : ''}
Goal: mean SI-SDRi of at least ${GOAL_DB} dB on speech+env. **${reached ? `Reached: ${f(main.mean)} dB.` : `Not reached yet: ${f(main.mean)} dB.`}**

The model was trained on speech+env mixtures only. ${otherCount} mixtures of one class each (no stem
name to follow, so the best permutation) show how it behaves off its training distribution:

${summaryHeader.join('\n')}
${otherReports.map(({ type, report }) => summaryRow(type, report.overall)).join('\n')}

## Training
- Config: [\`${configPath}\`](../../../${configPath}), reproduced with
  \`npx tilt train --config ${configPath} --out ${runPath}\`
  (add \`--resume\` to continue a run), then \`node --import tsx scripts/ship-default-model.ts --run ${runPath}\`.
- Checkpoints with the Adam state are kept in \`${runPath}/{last,best}\`.${baseModel ? `
- Fine-tuned from \`${baseModel}\` (an earlier run of the default model; its config and learning curve are in that run's folder).` : ''}
- Output slots: ${train.slots === 'fixed' ? 'fixed (output 0 is scored against speech, output 1 against env: the stems are named by what they hold, no permutation search)' : 'permutation-invariant'}.
- Augmentation: ${train.data.augment ? `per source, on the fly (see [docs/training-data.md](../../../docs/training-data.md)): \`${JSON.stringify(train.data.augment)}\`` : 'none'}.
- Shipped checkpoint: epoch ${(state.best?.epoch ?? 0) + 1} of ${state.history.length} run so far, after ${stepsDone} steps of ${train.batchSize} × ${train.data.segmentSeconds} s
  (${hours(stepsDone * train.batchSize * train.data.segmentSeconds)} h of mixtures); wall time ${hours(state.wallSeconds)} h in all (${f(perStep)} s per step, validation included).
- Adam, lr ${train.optimizer.lr} (${JSON.stringify(train.optimizer.schedule)}), gradient clipping at global norm ${train.optimizer.clipNorm}, uniform weights
  (no reweighting: the default model is the unbiased starting point that users tilt).
- Mixtures drawn online: ${Object.keys(train.data.mixtureTypes).join(', ')}, SNR uniform in [${train.data.snrDb.join(', ')}] dB, seed ${train.seed}.
- Validation: ${train.validation.mixtures} fixed mixtures of the validation split after each epoch; the best epoch is shipped.

![learning curve](learning-curve.svg)

${row(['epoch', 'step', 'lr', 'train loss (dB)', 'validation SI-SDRi (dB)', 'speech', 'env'])}
${row(Array(7).fill('---'))}
${state.history.map((r) => row([r.epoch + 1, r.step, r.lr, f(r.trainLoss), f(r.validation.overall.mean), f(r.validation.byClass.speech.mean), f(r.validation.byClass.env.mean)])).join('\n')}

## Model
Sudo rm -rf (Tzinis et al., MLSP 2020), slimmed so that it trains on a CPU: ${countParameters(modelConfig).toLocaleString('en')} parameters.

${row(['encoder bases', 'encoder kernel (stride)', 'bottleneck', 'hidden', 'U-ConvBlocks', 'depth', 'depthwise kernel'])}
${row(Array(7).fill('---'))}
${row([modelConfig.encBasis, `${modelConfig.encKernel} (${Math.floor(modelConfig.encKernel / 2)})`, modelConfig.bottleneck, modelConfig.hidden, modelConfig.nBlocks, modelConfig.upsamplingDepth, modelConfig.dwKernel])}

## Data
The real-recordings corpus (\`tilt data fetch\`), built from Debian packages and resampled to 8 kHz. Splits
are by speaker (speech) and by source recording (env): no voice or sound file crosses splits.

${row(['package', 'class', 'licence', 'clips', 'train h', 'validation h', 'test h'])}
${row(Array(7).fill('---'))}
${dataRows.join('\n')}
${totals.join('\n')}

## Limitations
- Trained on game, telephony-prompt and read voices and game / toy sound effects${train.data.augment ? ', with simulated rooms,\n  EQ, band limits and codecs' : ''}; music, crowds and real rooms are outside its training data. Fine-tune on
  your own audio.
- 8 kHz mono: the model separates the band below 3.6 kHz of the channels' mean; Tilt carries its stems to the
  input's full band and channels with time-frequency masks (docs/full-band.md), so above 3.6 kHz the split is
  only as good as the masks' rule, not the model's.
`;
await writeFile(join(outDir, 'MODEL_CARD.md'), card);
console.log(JSON.stringify({ outDir, testSpeechEnv: { mean: main.mean, std: main.std, p5: main.p[5] }, steps: stepsDone, wallSeconds: state.wallSeconds }));
