import { initBackend, describeBackend } from '../../core/backend';
import { loadModel } from '../../core/models/io';
import { parseTrainConfig } from '../../core/train/config';
import type { DataConfig } from '../../core/train/config';
import { comparisonRows, formatPaired, swapLine, TABLE_HEADER, windowSwapLine } from '../../core/evaluation/report';
import { SWAP_WINDOW_SECONDS } from '../../core/evaluation/score';
import { LONG_SECONDS } from '../../core/data/longMixtures';
import { evaluateOneClass, LEAK_FLOOR, LEAK_THRESHOLD_DB, ONE_CLASS_HEADER, oneClassRows, oneClassSets } from '../../core/evaluation/oneClass';
import { rnnoiseSystem } from '../../core/evaluation/rnnoise';
import { evaluateSystems } from '../../core/evaluation/run';
import { MIXTURE_SYSTEM, modelSystem } from '../../core/evaluation/systems';
import { loadSpeechBank } from '../../core/data/speechBank';
import { denoiserBlendFor, stemNamesOf } from '../../core/separate/stems';
import { heldOutSet, longHeldOutSet } from '../../core/train/heldout';
import { PERCENTILES } from '../../core/train/metrics';
import type { EvaluationReport, Summary } from '../../core/train/metrics';
import { MIXTURE_TYPES, MODEL_RATE, SOUND_CLASSES } from '../../core/types';
import { dataSection, parseBlendOption, parseCommandArgs, parseNumberOption, parseWindowOption, readJsonFile } from '../args';
import { formatTable, ProgressBar, UsageError } from '../format';
import { resolveModel } from '../models';
import type { Command } from '../command';

export function reportRows(report: EvaluationReport): (string | number)[][] {
  const row = (name: string, s: Summary) => [name, s.count, s.mean, s.std, ...PERCENTILES.map((q) => s.p[q]!)];
  return [
    row('all mixtures', report.overall),
    ...Object.entries(report.byClass).map(([c, s]) => row(`${c} sources`, s)),
    ...Object.entries(report.byMixtureType).map(([t, s]) => row(t, s)),
  ];
}

export const REPORT_HEADER = ['SI-SDRi (dB)', 'n', 'mean', 'std', ...PERCENTILES.map((q) => `p${q}`)];

export const evaluateCommand: Command = {
  summary: 'SI-SDRi of models on held-out real mixtures, stems by name: per class, SNR band and package, side by side, with baselines',
  usage: 'tilt evaluate [--model M]... [--data ci|full|heldout | --config cfg.json] [--cache DIR] [--split test|validation] [--mixtures N] [--types speech+env,...] [--seconds S] [--window S] [--rnnoise auto|off|W] [--adapt] [--seed N] [--baselines] [--one-class | --long] [--json]\n'
    + '  --adapt: also score each model adapted to each mixture before separating it (as tilt separate --adapt), paired with the model as it is\n'
    + '  --one-class: instead of the SI-SDRi table, the leak on N inputs without speech and N without env (speech+env mixtures, one source left out)\n'
    + `  --long: N recordings of --seconds (default ${LONG_SECONDS}) made of joined clips, a conversation over a run of sounds, longer than one separation window; stem swaps also counted per ${SWAP_WINDOW_SECONDS} s window`,
  async run(args) {
    const { values } = parseCommandArgs(args, {
      model: { type: 'string', multiple: true }, data: { type: 'string' }, config: { type: 'string' }, cache: { type: 'string' },
      split: { type: 'string', default: 'test' }, mixtures: { type: 'string' }, types: { type: 'string' }, seconds: { type: 'string' },
      window: { type: 'string' }, rnnoise: { type: 'string' }, adapt: { type: 'boolean' }, seed: { type: 'string' }, baselines: { type: 'boolean' }, 'one-class': { type: 'boolean' }, long: { type: 'boolean' }, json: { type: 'boolean' },
    });
    const oneClass = values['one-class'] === true;
    const long = values.long === true;
    if (oneClass && long) throw new UsageError('--one-class and --long are two different sets: pick one');
    if (oneClass && values.types !== undefined) throw new UsageError('--one-class draws speech+env mixtures and leaves one source out: drop --types');
    if (long && values.types !== undefined) throw new UsageError('--long joins speech clips over env clips (speech+env): drop --types');
    const longSeconds = long ? parseNumberOption('seconds', values.seconds, LONG_SECONDS, 1) : 0;
    if (values.split !== 'test' && values.split !== 'validation') throw new UsageError('--split must be test or validation');
    const count = parseNumberOption('mixtures', values.mixtures, 200, 1);
    const seed = parseNumberOption('seed', values.seed, 2024, 0);
    const windowSec = parseWindowOption(values.window);
    const blend = parseBlendOption(values.rnnoise);
    // --seconds of a long set is the recordings' length, not the data's crop length.
    const recipe = long ? { ...values, seconds: undefined } : values;
    const data = values.config ? await configData(values.config, recipe) : dataOf(recipe);
    const dataName = values.config ? `the data of ${values.config}` : `--data ${values.data ?? 'full'}`;
    const types = Object.keys(data.mixtureTypes);
    const backend = await initBackend();
    const resolved = await Promise.all((values.model ?? [undefined]).map((m) => resolveModel(m)));
    const loaded: Awaited<ReturnType<typeof loadModel>>[] = [];
    try {
      for (const r of resolved) loaded.push(await loadModel(r.dir));
      const labels = resolved.map((r) => r.label);
      // One model keeps the name users know from the model card; several are told apart by their own names.
      const names = labels.length === 1 ? ['Tilt'] : labels.map((l, i) => (labels.indexOf(l) === i ? l : `${l} (${i + 1})`));
      const speech = values.adapt ? await loadSpeechBank() : null;
      const systems = [
        ...loaded.flatMap((m, i) => {
          const options = { windowSec, denoiserBlend: denoiserBlendFor(blend, stemNamesOf(m.metadata, m.model.nSources), m.model.fixedSlots ?? false) };
          return [
            modelSystem(names[i]!, m.model, m.metadata?.stems, options),
            ...(speech ? [modelSystem(`${names[i]!}, adapted`, m.model, m.metadata?.stems, { ...options, adapt: { speech, seed } })] : []),
          ];
        }),
        ...(values.baselines ? [await rnnoiseSystem(), MIXTURE_SYSTEM] : []),
      ];
      if (oneClass) {
        const sets = await oneClassSets({ data, split: values.split, count, seed });
        const bar = new ProgressBar('separating one-class inputs');
        const reports = await evaluateOneClass(systems, sets, (f) => bar.update(f));
        bar.done();
        if (values.json) {
          console.log(JSON.stringify({
            models: labels, backend: backend.choice, data: values.config ?? values.data ?? 'full', split: values.split, mixtures: count, seed,
            leakFloorDb: 10 * Math.log10(LEAK_FLOOR), leakThresholdDb: LEAK_THRESHOLD_DB, oneClass: reports,
          }));
        } else {
          console.log(`${labels.join(', ')} on ${count} ${values.split} inputs of each kind from ${dataName} (seed ${seed}; backend ${describeBackend(backend)})`);
          console.log('Inputs: speech+env mixtures with one source left out. Leak: energy of the stem named after the absent class');
          console.log(`over the input's, dB (floor ${10 * Math.log10(LEAK_FLOOR)}; 0 = all of it). Leaking: share of inputs above ${LEAK_THRESHOLD_DB} dB.\n`);
          console.log(formatTable(ONE_CLASS_HEADER, oneClassRows(reports)));
        }
        return 0;
      }
      const set = long
        ? await longHeldOutSet({ data, split: values.split, mixtures: count, seed, seconds: longSeconds })
        : await heldOutSet({ data, split: values.split, mixtures: count, seed });
      const bar = new ProgressBar('evaluating');
      const reports = await evaluateSystems(systems, set, {
        snrRange: data.snrDb, pairedWith: 0, onProgress: (f) => bar.update(f), ...(long ? { swapWindow: Math.round(SWAP_WINDOW_SECONDS * MODEL_RATE) } : {}),
      });
      bar.done();
      const modelLabels = labels.flatMap((l) => (speech ? [l, `${l}, adapted`] : [l]));
      const models = reports.slice(0, modelLabels.length);
      const baselines = reports.slice(modelLabels.length);
      if (values.json) {
        console.log(JSON.stringify({
          model: labels[0], backend: backend.choice, data: values.config ?? values.data ?? 'full', split: values.split, mixtures: count, types, seed,
          windowSeconds: windowSec, ...(blend !== 0 ? { rnnoiseBlend: blend } : {}), ...(speech ? { adapt: true } : {}),
          ...(long ? { long: { seconds: longSeconds, swapWindowSeconds: SWAP_WINDOW_SECONDS } } : {}),
          report: models[0], ...(models.length > 1 ? { models: models.slice(1).map((report, i) => ({ model: modelLabels[i + 1], report })) } : {}),
          ...(baselines.length ? { baselines } : {}),
        }));
      } else {
        const what = long ? `long mixtures of ${longSeconds} s (a conversation over a run of sounds) from` : 'mixtures of';
        console.log(`${labels.join(', ')} on ${count} ${values.split} ${what} ${dataName} (${long ? 'speech+env' : types.join(', ')}; seed ${seed}; backend ${describeBackend(backend)})`);
        console.log(`Separated as users get it (separateSignal, ${windowSec} s windows${blend !== 0 ? `, RNNoise blended into the speech stem${blend === 'auto' ? ' where the two disagree (auto)' : ` at ${blend}`}` : ''}${speech ? '; "adapted": the model fine-tuned on each mixture\'s own sound first' : ''}); each source scored against the stem named after its class`);
        console.log('(mixtures of one class: best permutation). SNR: speech (or first source) over the other, dB.\n');
        console.log(formatTable(TABLE_HEADER, comparisonRows(reports)));
        console.log(`\nstem swaps (stems fit better with the names exchanged): ${swapLine(reports)}`);
        const windows = windowSwapLine(reports);
        if (windows) console.log(`${SWAP_WINDOW_SECONDS} s windows swapped (of those where both sources are heard): ${windows}`);
        const paired = reports.filter((r) => r.paired);
        if (paired.length) {
          console.log(`\npaired differences against ${reports[0]!.system} on the same mixtures (mean ± standard error, dB):`);
          console.log(formatTable(['system', 'all mixtures', ...SOUND_CLASSES.map((c) => `${c} stem`)],
            paired.map((r) => [r.system, formatPaired(r.paired!.overall), ...SOUND_CLASSES.map((c) => formatPaired(r.paired!.byClass[c]))])));
        }
      }
      return 0;
    } finally {
      for (const m of loaded) m.model.dispose();
    }
  },
};

type EvaluateValues = { data?: string; cache?: string; types?: string; seconds?: string };

/** The mixtures' length and types from --seconds and --types, where given. */
function recipeOf(values: EvaluateValues): { segmentSeconds?: number; mixtureTypes?: Record<string, number> } {
  const types = values.types?.split(',') ?? [];
  for (const t of types) if (!(MIXTURE_TYPES as readonly string[]).includes(t)) throw new UsageError(`--types: unknown mixture type "${t}" (${MIXTURE_TYPES.join(', ')})`);
  return {
    ...(values.seconds !== undefined ? { segmentSeconds: parseNumberOption('seconds', values.seconds, 4, 0.1) } : {}),
    ...(types.length ? { mixtureTypes: Object.fromEntries(types.map((t) => [t, 1])) } : {}),
  };
}

/** A built-in set: speech+env mixtures of 4 s unless --types and --seconds say otherwise. */
function dataOf(values: EvaluateValues): DataConfig {
  return parseTrainConfig({
    data: {
      corpus: values.data ?? 'full', ...(values.cache ? { cacheDir: values.cache } : {}),
      segmentSeconds: 4, mixtureTypes: { 'speech+env': 1 }, ...recipeOf(values),
    },
  }).data;
}

/**
 * A training config's data (a user's folders, its SNR range and mixture types): the material a
 * fine-tune was for. --seconds and --types still set the mixtures' length and types.
 */
async function configData(path: string, values: EvaluateValues): Promise<DataConfig> {
  const clash = (['data', 'cache'] as const).filter((k) => values[k] !== undefined);
  if (clash.length) throw new UsageError(`--config takes the audio from the config: drop ${clash.map((k) => `--${k}`).join(', ')}`);
  const raw = await readJsonFile(path);
  const data = dataSection(raw);
  const isObject = typeof data === 'object' && data !== null && !Array.isArray(data);
  return parseTrainConfig(isObject ? { ...(raw as object), data: { ...data, ...recipeOf(values) } } : raw).data;
}
