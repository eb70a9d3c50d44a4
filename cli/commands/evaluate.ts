import { initBackend, describeBackend } from '../../core/backend';
import { loadModel } from '../../core/models/io';
import { parseTrainConfig } from '../../core/train/config';
import { heldOutBatches } from '../../core/train/heldout';
import { evaluateModel, PERCENTILES } from '../../core/train/metrics';
import type { EvaluationReport, Summary } from '../../core/train/metrics';
import { MIXTURE_TYPES } from '../../core/types';
import { parseCommandArgs, parseNumberOption } from '../args';
import { formatTable, UsageError } from '../format';
import { resolveModel } from '../models';
import type { Command } from '../main';

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
  summary: 'SI-SDRi of a model on held-out real mixtures: per class and mixture type, with percentiles',
  usage: 'tilt evaluate [--model M] [--data ci|full] [--cache DIR] [--split test|validation] [--mixtures N] [--types speech+env,...] [--seconds S] [--seed N] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(args, {
      model: { type: 'string' }, data: { type: 'string', default: 'full' }, cache: { type: 'string' }, split: { type: 'string', default: 'test' },
      mixtures: { type: 'string' }, types: { type: 'string', default: 'speech+env' }, seconds: { type: 'string' }, seed: { type: 'string' },
      json: { type: 'boolean' },
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
    const { model } = await loadModel(dir);
    try {
      const report = evaluateModel(model, await heldOutBatches({ data: config.data, split: values.split, mixtures: count, seed }));
      if (values.json) console.log(JSON.stringify({ model: label, backend: backend.choice, split: values.split, mixtures: count, seed, report }));
      else {
        console.log(`${label} on ${count} ${values.split} mixtures (${types.join(', ')}; seed ${seed}; backend ${describeBackend(backend)})`);
        console.log(formatTable(REPORT_HEADER, reportRows(report)));
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
};
