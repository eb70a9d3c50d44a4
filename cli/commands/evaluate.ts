import { initBackend, describeBackend } from '../../core/backend';
import { loadModel } from '../../core/models/io';
import { parseTrainConfig } from '../../core/train/config';
import { comparisonRows, swapLine, TABLE_HEADER } from '../../core/evaluation/report';
import { rnnoiseSystem } from '../../core/evaluation/rnnoise';
import { evaluateSystems } from '../../core/evaluation/run';
import { MIXTURE_SYSTEM, modelSystem } from '../../core/evaluation/systems';
import { heldOutSet } from '../../core/train/heldout';
import { PERCENTILES } from '../../core/train/metrics';
import type { EvaluationReport, Summary } from '../../core/train/metrics';
import { MIXTURE_TYPES } from '../../core/types';
import { parseCommandArgs, parseNumberOption } from '../args';
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
  summary: 'SI-SDRi of a model on held-out real mixtures, stems by name: per class, SNR band and package, with baselines',
  usage: 'tilt evaluate [--model M] [--data ci|full|heldout] [--cache DIR] [--split test|validation] [--mixtures N] [--types speech+env,...] [--seconds S] [--seed N] [--baselines] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(args, {
      model: { type: 'string' }, data: { type: 'string', default: 'full' }, cache: { type: 'string' }, split: { type: 'string', default: 'test' },
      mixtures: { type: 'string' }, types: { type: 'string', default: 'speech+env' }, seconds: { type: 'string' }, seed: { type: 'string' },
      baselines: { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (values.split !== 'test' && values.split !== 'validation') throw new UsageError('--split must be test or validation');
    const types = values.types!.split(',');
    for (const t of types) if (!(MIXTURE_TYPES as readonly string[]).includes(t)) throw new UsageError(`--types: unknown mixture type "${t}" (${MIXTURE_TYPES.join(', ')})`);
    const count = parseNumberOption('mixtures', values.mixtures, 200, 1);
    const seed = parseNumberOption('seed', values.seed, 2024, 0);
    const config = parseTrainConfig({
      data: {
        corpus: values.data, ...(values.cache ? { cacheDir: values.cache } : {}),
        segmentSeconds: parseNumberOption('seconds', values.seconds, 4, 0.1),
        mixtureTypes: Object.fromEntries(types.map((t) => [t, 1])),
      },
    });
    const backend = await initBackend();
    const { dir, label } = await resolveModel(values.model);
    const { model, metadata } = await loadModel(dir);
    try {
      const systems = [modelSystem('Tilt', model, metadata?.stems), ...(values.baselines ? [await rnnoiseSystem(), MIXTURE_SYSTEM] : [])];
      const set = await heldOutSet({ data: config.data, split: values.split, mixtures: count, seed });
      const bar = new ProgressBar('evaluating');
      const reports = await evaluateSystems(systems, set, { snrRange: config.data.snrDb, onProgress: (f) => bar.update(f) });
      bar.done();
      const [report, ...baselines] = reports;
      if (values.json) {
        console.log(JSON.stringify({
          model: label, backend: backend.choice, data: values.data, split: values.split, mixtures: count, types, seed, report,
          ...(baselines.length ? { baselines } : {}),
        }));
      } else {
        console.log(`${label} on ${count} ${values.split} mixtures of --data ${values.data} (${types.join(', ')}; seed ${seed}; backend ${describeBackend(backend)})`);
        console.log('Separated as users get it (separateSignal); each source scored against the stem named after its class');
        console.log('(mixtures of one class: best permutation). SNR: speech (or first source) over the other, dB.\n');
        console.log(formatTable(TABLE_HEADER, comparisonRows(reports)));
        console.log(`\nstem swaps (stems fit better with the names exchanged): ${swapLine(reports)}`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
};
