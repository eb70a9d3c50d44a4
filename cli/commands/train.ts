import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TrainingJob } from '../../core/train/host';
import { parseTrainConfig } from '../../core/train/config';
import { parseWorkerCount, type WorkerCount } from '../../core/train/workerCount';
import { checkData } from '../../core/train/check';
import { formatDuration } from '../../core/train/progress';
import type { JobPhase, PhaseProgress } from '../../core/train/progress';
import { isTiltName, TILTS, withTilt } from '../../core/reweighting/presets';
import { parseCommandArgs, readJsonFile } from '../args';
import { agreeToDownload, BEFORE_AFTER_HEADER, beforeAfterRows, phaseLine, printDataCheck, runDataCheck } from '../dataCheck';
import { formatNumber, formatTable, ProgressBar, UsageError } from '../format';
import { modelStore } from '../models';
import { REPORT_HEADER, reportRows } from './evaluate';
import type { Command } from '../command';

export const trainCommand: Command = {
  summary: 'Train or fine-tune a separator with a reweighting scheme (checks the data first; trains in a worker; Ctrl-C saves a checkpoint)',
  usage: 'tilt train --config cfg.json [--tilt none|speech|env] [--out DIR] [--resume] [--workers N|auto] [--install] [--yes] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(args, {
      config: { type: 'string' }, tilt: { type: 'string' }, out: { type: 'string' }, resume: { type: 'boolean' }, workers: { type: 'string' }, install: { type: 'boolean' },
      yes: { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (!values.config) throw new UsageError('train needs --config cfg.json');
    let workers: WorkerCount;
    try {
      workers = parseWorkerCount(values.workers ?? 'auto');
    } catch (e) {
      throw new UsageError(`--${(e as Error).message}`);
    }
    let raw = await readJsonFile(values.config);
    if (values.tilt !== undefined) {
      if (!isTiltName(values.tilt)) throw new UsageError(`--tilt must be one of ${TILTS.join(', ')} (got "${values.tilt}")`);
      raw = withTilt(raw, values.tilt);
    }
    const config = parseTrainConfig(raw); // fail fast, with every bad field named
    const runDir = resolve(values.out ?? join('runs', config.name));
    const json = values.json ?? false;
    // The data first: what it holds, what is left out, what stops the run, and any download, asked about.
    const check = json ? await checkData(config.data) : await runDataCheck(config.data);
    if (json) console.log(JSON.stringify({ type: 'data-check', check }));
    else printDataCheck(check, (line) => console.error(line));
    if (check.problems.length) {
      console.error('\ntilt: this data cannot train a model yet (see the problems above)');
      return 1;
    }
    if (!(await agreeToDownload(check, values.yes ?? false))) {
      console.error('not downloading: nothing trained');
      return 1;
    }
    const bar = new ProgressBar('training');
    const phaseBars = new Map<JobPhase, ProgressBar>();
    let lastPhase = null as PhaseProgress | null;
    // Until the first step, say now and then where the data loading stands: it can take minutes.
    let waiting: NodeJS.Timeout | undefined;
    const stopWaiting = () => clearInterval(waiting);
    const job = new TrainingJob({ config: raw, runDir, resume: values.resume ?? false, workers }, (m) => {
      if (m.type === 'started' || m.type === 'error' || m.type === 'done') stopWaiting();
      if (json) return console.log(JSON.stringify(m));
      switch (m.type) {
        case 'status': {
          console.error(m.message);
          const t0 = Date.now();
          stopWaiting();
          waiting = setInterval(() => {
            const where = lastPhase ? `: ${phaseLine(lastPhase)}` : '';
            console.error(`still loading the training data (${formatDuration((Date.now() - t0) / 1000)})${where}`);
          }, 15_000);
          break;
        }
        case 'phase': {
          const p = m.progress;
          if (lastPhase && lastPhase.phase !== p.phase) phaseBars.get(lastPhase.phase)?.done();
          lastPhase = p;
          const phaseBar = phaseBars.get(p.phase) ?? new ProgressBar(p.phase === 'scoring' ? 'before/after' : 'data');
          phaseBars.set(p.phase, phaseBar);
          phaseBar.update(p.fraction, `${phaseLine(p)} ${p.detail}`);
          break;
        }
        case 'started':
          if (lastPhase) phaseBars.get(lastPhase.phase)?.done();
          console.error(`training ${m.params} parameters on ${m.backend} with ${m.workers} worker${m.workers === 1 ? '' : 's'}, step ${m.step}/${m.totalSteps} -> ${runDir}`);
          break;
        case 'progress': {
          const p = m.progress;
          const d = p.diagnostics;
          const eta = m.etaSeconds === null ? '' : ` · ${formatDuration(m.etaSeconds)} left`;
          bar.update(p.step / p.totalSteps, `step ${p.step} loss ${formatNumber(p.loss)} dB${d ? ` H ${d.entropy.toFixed(2)} ESS ${d.effectiveBatchSize.toFixed(1)}` : ''} ${p.stepMs.toFixed(0)} ms${eta}`);
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
      if (lastPhase) phaseBars.get(lastPhase.phase)?.done();
      if (!json && done.outcome === 'cancelled') {
        console.log(existsSync(join(runDir, 'last', 'model.json'))
          ? `cancelled: tilt train --resume continues from the checkpoint in ${runDir}/last`
          : 'cancelled before the first step: nothing was trained');
      } else if (!json) {
        console.log(`${done.outcome}: checkpoints in ${runDir}/last and ${runDir}/best`);
        // A run cancelled before its first validation has a `last` checkpoint but no `best` yet.
        const bestJson = join(runDir, 'best', 'model.json');
        const best = existsSync(bestJson) ? JSON.parse(await readFile(bestJson, 'utf8')).metadata?.training?.history?.at(-1) : undefined;
        if (best) console.log(formatTable(REPORT_HEADER, reportRows(best.validation)));
        if (done.beforeAfter) {
          const ba = done.beforeAfter;
          console.log(`\nbefore/after on ${ba.mixtures} held-out mixtures of the ${ba.split} split (${ba.clips.speech} speech and ${ba.clips.env} env clips; each source scored against the stem named after its class):`);
          console.log(formatTable(BEFORE_AFTER_HEADER, beforeAfterRows(ba)));
        }
      }
      if (!json && done.card) console.log(`model card: ${done.card}`);
      if (values.install && done.outcome === 'finished') {
        const info = await modelStore().import(join(runDir, 'best'), config.name);
        console.log(json ? JSON.stringify({ installed: info.id }) : `installed as model "${info.id}" (tilt separate --model ${info.id})`);
      }
      // Interrupted is not finished: scripts must not take a cancelled run for a trained model.
      return done.outcome === 'cancelled' ? 130 : 0;
    } finally {
      stopWaiting();
      process.off('SIGINT', stop);
    }
  },
};
