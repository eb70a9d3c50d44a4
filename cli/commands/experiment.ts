import { basename, resolve } from 'node:path';
import { describeBackend, initBackend } from '../../core/backend';
import { EXPERIMENTS, SCALES, SCALE_SPECS, checkClaims, experimentPlan, runExperiment, writeReport } from '../../core/experiments';
import type { ExperimentName, Scale } from '../../core/experiments';
import { parseCommandArgs } from '../args';
import { formatNumber, formatTable, ProgressBar, UsageError } from '../format';
import type { Command } from '../command';
import { resolveModel } from '../models';

export const experimentCommand: Command = {
  summary: "Run one of the paper's reweighting experiments (robust, curriculum, class) and write a report folder",
  usage: 'tilt experiment robust|curriculum|class|class-source [--scale smoke|small|medium|full|tune] [--from MODEL] [--out DIR] [--data ci|full] [--cache DIR] [--json]',
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      scale: { type: 'string', default: 'small' }, out: { type: 'string' }, data: { type: 'string', default: 'full' },
      cache: { type: 'string' }, from: { type: 'string' }, json: { type: 'boolean' },
    }, true);
    const [name, ...extra] = positionals;
    if (!name || extra.length > 0) throw new UsageError(`experiment takes one of ${EXPERIMENTS.join(', ')}`);
    if (!(EXPERIMENTS as readonly string[]).includes(name)) throw new UsageError(`unknown experiment "${name}" (use ${EXPERIMENTS.join(', ')})`);
    if (!(SCALES as readonly string[]).includes(values.scale!)) throw new UsageError(`--scale must be one of ${SCALES.join(', ')} (got "${values.scale}")`);
    if (values.data !== 'ci' && values.data !== 'full') throw new UsageError(`--data must be ci or full (got "${values.data}")`);
    const scale = values.scale as Scale;
    const from = values.from === undefined ? null : await resolveModel(values.from);
    const plan = experimentPlan(name as ExperimentName, scale, { corpus: values.data, cacheDir: values.cache ? resolve(values.cache) : null }, from?.dir ?? null);
    const outDir = resolve(values.out ?? `experiments/${name}-${scale}-${values.data}${from ? `-from-${basename(from.dir)}` : ''}`);
    const json = values.json ?? false;
    const backend = await initBackend();
    const log = (line: string) => { if (!json) console.error(line); };
    log(`experiment ${name} at scale ${scale} (${from ? `fine-tuning ${from.label}` : SCALE_SPECS[scale].note}) on ${describeBackend(backend)} -> ${outDir}`);

    let bar = null as ProgressBar | null;
    const abort = new AbortController();
    const stop = () => {
      console.error('\nstopping: saving a checkpoint (run the same command again to resume)');
      abort.abort();
    };
    process.once('SIGINT', stop);
    try {
      const result = await runExperiment(plan, outDir, {
        phase: (m) => { bar?.done(); log(m); },
        armStart: (arm, info) => {
          const head = `arm ${info.index + 1}/${info.count} ${arm.label}`;
          if (info.state === 'done') log(`${head}: finished earlier, not retrained`);
          else {
            log(`${head}: ${info.state === 'resumed' ? `resuming at step ${info.step}` : 'training'} (${info.totalSteps} steps)`);
            bar = new ProgressBar(arm.id);
          }
        },
        progress: (_arm, p) => bar?.update(p.step / p.totalSteps, `step ${p.step}/${p.totalSteps} loss ${formatNumber(p.loss)} dB ${p.stepMs.toFixed(0)} ms`),
        epoch: (arm, r) => {
          bar?.done();
          log(`${arm.id} epoch ${r.epoch + 1}: validation SI-SDRi ${formatNumber(r.validation.overall.mean)} dB (speech ${formatNumber(r.validation.byClass.speech.mean)}, env ${formatNumber(r.validation.byClass.env.mean)})`);
        },
        warning: (m) => { bar?.done(); log(`warning: ${m}`); },
      }, { signal: abort.signal });
      bar?.done();
      if (result === 'cancelled') {
        log(`cancelled; checkpoints are in ${outDir}/arms`);
        return 130;
      }
      const files = await writeReport(result);
      const claims = checkClaims(result);
      if (json) {
        console.log(JSON.stringify({
          experiment: name, scale, data: values.data, out: outDir, backend: backend.choice,
          arms: result.arms.map((a) => ({ id: a.arm.id, label: a.arm.label, reweighting: a.arm.reweighting, steps: a.steps.length, wallSeconds: a.wallSeconds, test: a.testReport })),
          claims, files,
        }));
      } else {
        console.log(formatTable(
          ['test SI-SDRi (dB)', 'mean', 'std', 'p1', 'p5', 'p50', 'p95', 'p99', 'speech', 'env'],
          result.arms.map((a) => {
            const o = a.testReport.overall;
            return [a.arm.label, o.mean, o.std, o.p[1]!, o.p[5]!, o.p[50]!, o.p[95]!, o.p[99]!, a.testReport.byClass.speech.mean, a.testReport.byClass.env.mean];
          }),
        ));
        for (const c of claims) console.log(`\n${c.statement}: ${c.verdict}.\n  ${c.evidence}`);
        console.log(`\nreport: ${outDir}/report.md (${files.length} files)`);
      }
      return 0;
    } finally {
      process.off('SIGINT', stop);
    }
  },
};
