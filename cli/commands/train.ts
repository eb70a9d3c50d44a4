import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TrainingJob } from '../../core/train/host';
import { parseTrainConfig } from '../../core/train/config';
import { parseWorkerCount } from '../../core/train/protocol';
import type { WorkerCount } from '../../core/train/protocol';
import { parseCommandArgs } from '../args';
import { formatNumber, formatTable, ProgressBar, UsageError } from '../format';
import { modelStore } from '../models';
import { REPORT_HEADER, reportRows } from './evaluate';
import type { Command } from '../main';

export const trainCommand: Command = {
  summary: 'Train or fine-tune a separator with a reweighting scheme (in a worker; Ctrl-C saves a checkpoint)',
  usage: 'tilt train --config cfg.json [--out DIR] [--resume] [--workers N|auto] [--install] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(args, {
      config: { type: 'string' }, out: { type: 'string' }, resume: { type: 'boolean' }, workers: { type: 'string' }, install: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (!values.config) throw new UsageError('train needs --config cfg.json');
    let workers: WorkerCount;
    try {
      workers = parseWorkerCount(values.workers ?? 'auto');
    } catch (e) {
      throw new UsageError(`--${(e as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(values.config, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read ${values.config}: ${(e as Error).message}`);
    }
    const config = parseTrainConfig(raw); // fail fast, with every bad field named
    const runDir = resolve(values.out ?? join('runs', config.name));
    const bar = new ProgressBar('training');
    const json = values.json ?? false;
    const job = new TrainingJob({ config: raw, runDir, resume: values.resume ?? false, workers }, (m) => {
      if (json) return console.log(JSON.stringify(m));
      switch (m.type) {
        case 'started':
          console.error(`training ${m.params} parameters on ${m.backend} with ${m.workers} worker${m.workers === 1 ? '' : 's'}, step ${m.step}/${m.totalSteps} -> ${runDir}`);
          break;
        case 'progress': {
          const p = m.progress;
          const d = p.diagnostics;
          bar.update(p.step / p.totalSteps, `step ${p.step} loss ${formatNumber(p.loss)} dB${d ? ` H ${d.entropy.toFixed(2)} ESS ${d.effectiveBatchSize.toFixed(1)}` : ''} ${p.stepMs.toFixed(0)} ms`);
          break;
        }
        case 'epoch': {
          const v = m.record.validation;
          bar.done(`epoch ${m.record.epoch + 1}: train loss ${formatNumber(m.record.trainLoss)} dB, validation SI-SDRi ${formatNumber(v.overall.mean)} dB (speech ${formatNumber(v.byClass.speech.mean)}, env ${formatNumber(v.byClass.env.mean)}), lr ${m.record.lr}`);
          break;
        }
        case 'warning':
          bar.done(`warning: ${m.message}`);
          break;
        default:
      }
    });
    const stop = () => {
      console.error('\nstopping: saving a checkpoint (tilt train --resume continues)');
      job.cancel();
    };
    process.once('SIGINT', stop);
    try {
      const done = await job.done;
      bar.done();
      if (!json) {
        console.log(`${done.outcome}: checkpoints in ${runDir}/last and ${runDir}/best`);
        // A run cancelled before its first validation has a `last` checkpoint but no `best` yet.
        const bestJson = join(runDir, 'best', 'model.json');
        const best = existsSync(bestJson) ? JSON.parse(await readFile(bestJson, 'utf8')).metadata?.training?.history?.at(-1) : undefined;
        if (best) console.log(formatTable(REPORT_HEADER, reportRows(best.validation)));
      }
      if (values.install && done.outcome === 'finished') {
        const info = await modelStore().import(join(runDir, 'best'), config.name);
        console.log(json ? JSON.stringify({ installed: info.id }) : `installed as model "${info.id}" (tilt separate --model ${info.id})`);
      }
      return 0;
    } finally {
      process.off('SIGINT', stop);
    }
  },
};
