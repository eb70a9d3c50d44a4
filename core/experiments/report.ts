// The experiment's report folder: report.md (the paper's table per arm, overall / per class / per
// mixture type, and each claim checked against the numbers), curves.csv, test.csv and SVG plots.
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PERCENTILES, pairedDifference, summarize } from '../train/metrics';
import type { PairedDiff, Summary } from '../train/metrics';
import { presetModelConfig } from '../train/config';
import { MIXTURE_TYPES, SOUND_CLASSES } from '../types';
import type { MixtureType, SoundClass } from '../types';
import { CURRICULUM_TARGETS, SCALE_SPECS } from './plan';
import type { ArmResult, ExperimentResult } from './runner';
import { lineChart } from './svg';
import type { Series } from './svg';

export type Verdict = 'holds' | 'partly holds' | 'does not hold' | 'cannot be checked';

export interface Claim {
  statement: string;
  verdict: Verdict;
  /** The numbers behind the verdict. */
  evidence: string;
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const signed = (x: number) => (x >= 0 ? `+${f2(x)}` : f2(x));

/** Over the sources of class `cls` (every mixture's mean when null), in mixtures of `type` only when given; arm minus base. */
export function pairedDiff(arm: ArmResult, base: ArmResult, cls: SoundClass | null, type?: MixtureType): PairedDiff {
  const a: number[] = [];
  const b: number[] = [];
  arm.test.siSdri.forEach((row, i) => {
    if (type !== undefined && arm.test.mixtureTypes[i] !== type) return;
    const baseRow = base.test.siSdri[i]!;
    if (cls === null) {
      a.push(row.reduce((x, y) => x + y, 0) / row.length);
      b.push(baseRow.reduce((x, y) => x + y, 0) / baseRow.length);
    } else {
      row.forEach((v, s) => {
        if (arm.test.classes[i]![s] !== cls) return;
        a.push(v);
        b.push(baseRow[s]!);
      });
    }
  });
  return pairedDifference(a, b);
}

function describeDiff(d: PairedDiff): string {
  const clear = Math.abs(d.mean) >= 2 * d.se ? 'beyond 2 standard errors' : 'within 2 standard errors: not distinguishable from noise at this test size';
  return `paired difference ${signed(d.mean)} ± ${f2(d.se)} dB (SE, ${d.n} test sources; ${clear})`;
}

/** Steps (at validation points) until the mean validation SI-SDRi first reaches `target`; null if never. */
export function stepsToReach(arm: ArmResult, target: number): number | null {
  return arm.history.find((r) => r.validation.overall.mean >= target)?.step ?? null;
}

export function curriculumTargets(uniform: ArmResult): number[] {
  const best = Math.max(...uniform.history.map((r) => r.validation.overall.mean));
  return best > 0 ? CURRICULUM_TARGETS.map((f) => f * best) : [];
}

function byId(result: ExperimentResult, id: string): ArmResult {
  const arm = result.arms.find((a) => a.arm.id === id);
  if (!arm) throw new Error(`the experiment has no arm "${id}"`);
  return arm;
}

export function checkClaims(result: ExperimentResult): Claim[] {
  const uniform = byId(result, 'uniform');
  const others = result.arms.filter((a) => a !== uniform);
  switch (result.plan.experiment) {
    case 'class':
    case 'class-source':
      return (['speech', 'env'] as const).map((cls) => {
        const arm = byId(result, `gamma-${cls}`);
        const u = uniform.testReport.byClass[cls].mean;
        const g = arm.testReport.byClass[cls].mean;
        const other: SoundClass = cls === 'speech' ? 'env' : 'speech';
        const types = mixtureTypesOf(result).filter((t) => t.includes(cls));
        const perType = types.length > 1
          ? `; by mixture type: ${types.map((t) => `${t} ${describeDiff(pairedDiff(arm, uniform, cls, t))}`).join('; ')}`
          : '';
        return {
          statement: `${arm.arm.label} gives higher ${cls} SI-SDRi than uniform`,
          verdict: g > u ? 'holds' : 'does not hold',
          evidence: `${cls} SI-SDRi uniform ${f2(u)} vs ${arm.arm.label} ${f2(g)} dB, ${describeDiff(pairedDiff(arm, uniform, cls))}${perType}; `
            + `the other class (${other}) goes ${f2(uniform.testReport.byClass[other].mean)} -> ${f2(arm.testReport.byClass[other].mean)} dB, ${describeDiff(pairedDiff(arm, uniform, other))}`,
        };
      });
    case 'robust':
      return others.map((arm) => {
        const u = uniform.testReport.overall;
        const r = arm.testReport.overall;
        const parts = [
          { name: '1st percentile', up: r.p[1]! > u.p[1]!, text: `P1 ${f2(u.p[1]!)} -> ${f2(r.p[1]!)}` },
          { name: '5th percentile', up: r.p[5]! > u.p[5]!, text: `P5 ${f2(u.p[5]!)} -> ${f2(r.p[5]!)}` },
          { name: 'lower std', up: r.std < u.std, text: `std ${f2(u.std)} -> ${f2(r.std)}` },
        ];
        const good = parts.filter((p) => p.up).length;
        return {
          statement: `${arm.arm.label} raises the 1st and 5th percentiles of SI-SDRi and lowers its std versus alpha = 0`,
          verdict: good === parts.length ? 'holds' : good > 0 ? 'partly holds' : 'does not hold',
          evidence: `${parts.map((p) => p.text).join(', ')} dB (uniform -> robust; ${parts.filter((p) => p.up).map((p) => p.name).join(', ') || 'none'} as claimed); `
            + `mean ${f2(u.mean)} -> ${f2(r.mean)} dB, ${describeDiff(pairedDiff(arm, uniform, null))}`,
        };
      });
    case 'curriculum': {
      const targets = curriculumTargets(uniform);
      return others.map((arm) => {
        if (targets.length === 0) {
          return {
            statement: `${arm.arm.label} reaches a given validation SI-SDRi in fewer steps than uniform`,
            verdict: 'cannot be checked' as const,
            evidence: 'the uniform arm never reached a positive validation SI-SDRi, so there is no target to reach',
          };
        }
        let better = 0;
        let worse = 0;
        const rows = targets.map((t, i) => {
          const su = stepsToReach(uniform, t);
          const sc = stepsToReach(arm, t);
          if (sc !== null && (su === null || sc < su)) better++;
          if (su !== null && (sc === null || sc > su)) worse++;
          return `${f2(t)} dB (${CURRICULUM_TARGETS[i]! * 100}% of uniform's best): uniform ${su ?? 'never'}, curriculum ${sc ?? 'never'}`;
        });
        return {
          statement: `${arm.arm.label} reaches a given validation SI-SDRi in fewer steps than uniform`,
          verdict: better > 0 && worse === 0 ? 'holds' : better > 0 ? 'partly holds' : 'does not hold',
          evidence: `steps to reach ${rows.join('; ')} (validation every ${arm.config.stepsPerEpoch} steps)`,
        };
      });
    }
  }
}

function summaryHeader(): string {
  return `| Arm | Mean | Std | ${PERCENTILES.map((p) => `P${p}`).join(' | ')} | n |\n|---|${'---:|'.repeat(PERCENTILES.length + 3)}`;
}

function summaryRow(label: string, s: Summary): string {
  return `| ${label} | ${f2(s.mean)} | ${f2(s.std)} | ${PERCENTILES.map((p) => f2(s.p[p]!)).join(' | ')} | ${s.count} |`;
}

function summaryTable(arms: ArmResult[], pick: (a: ArmResult) => Summary | undefined): string {
  return [summaryHeader(), ...arms.map((a) => summaryRow(a.arm.label, pick(a) ?? summarize([])))].join('\n');
}

function mixtureTypesOf(result: ExperimentResult): MixtureType[] {
  return MIXTURE_TYPES.filter((t) => result.arms[0]!.test.mixtureTypes.includes(t));
}

/** Trailing mean over the last `window` finite values (non-finite losses of skipped steps are left out). */
function movingAverage(values: number[], window: number): number[] {
  let sum = 0;
  let count = 0;
  return values.map((v, i) => {
    if (Number.isFinite(v)) { sum += v; count++; }
    const dropped = values[i - window];
    if (dropped !== undefined && Number.isFinite(dropped)) { sum -= dropped; count--; }
    return count ? sum / count : NaN;
  });
}

export function lossWindow(steps: number): number {
  return Math.max(1, Math.round(steps / 40));
}

export function reportMarkdown(result: ExperimentResult): string {
  const { plan, arms } = result;
  const spec = SCALE_SPECS[plan.scale];
  const first = arms[0]!;
  const cfg = first.config;
  const model = 'preset' in cfg.model ? presetModelConfig(cfg.model) : null;
  const sameInit = arms.every((a) => a.fingerprint.initHash === first.fingerprint.initHash);
  const sameData = arms.every((a) => a.fingerprint.firstBatchHash === first.fingerprint.firstBatchHash);
  const backends = [...new Set(arms.map((a) => a.fingerprint.backend))].join(', ');
  const claims = checkClaims(result);
  const lines: string[] = [];
  lines.push(`# Tilt experiment: ${plan.experiment} (scale ${plan.scale})`, '');
  lines.push(`Unified gradient reweighting (Tzinis, Bralios, Smaragdis, ICASSP 2021), reproduced at the "${plan.scale}" scale${plan.from ? ` as a fine-tune of \`${basename(plan.from)}\` (${arms[0]!.totalSteps} steps per arm)` : `: ${spec.note}`}.`, '');
  lines.push('## Claims checked on the held-out test split', '');
  for (const c of claims) lines.push(`- **${c.statement}: ${c.verdict} at this scale.** ${c.evidence}.`);
  lines.push('', 'These are the numbers of one seed at this scale; the test set was never used for any choice.', '');
  lines.push('## Setup', '');
  lines.push(`- Design: ${plan.design}`);
  lines.push(`- Arms: ${arms.map((a) => `${a.arm.label} (\`${JSON.stringify(a.arm.reweighting)}\`)`).join('; ')}.`);
  lines.push(`- Every arm: seed ${cfg.seed}, same data and initial weights (fingerprints: initial weights ${sameInit ? `identical, ${first.fingerprint.initHash}` : 'DIFFER'}; first training batch ${sameData ? `identical, ${first.fingerprint.firstBatchHash}` : 'DIFFERS'}), ${arms.map((a) => a.totalSteps).join('/')} steps.`);
  lines.push(`- Model: Sudo rm -rf ${model ? `${model.nBlocks} blocks, upsampling depth ${model.upsamplingDepth}, ${model.encBasis} bases (kernel ${model.encKernel}), bottleneck ${model.bottleneck}, hidden ${model.hidden}` : `fine-tuned from the saved model \`${basename(plan.from ?? '')}\` (every arm starts from its weights)`}; ${first.fingerprint.params} parameters; backend ${backends}.`);
  lines.push(`- Data: the \`${plan.data.corpus}\` real-recordings corpus, ${cfg.data.segmentSeconds} s crops at 8 kHz, SNR uniform in [${cfg.data.snrDb.join(', ')}] dB, mixture types ${JSON.stringify(cfg.data.mixtureTypes)}; batches keyed by step from the train split.`);
  lines.push(`- Training: batch ${cfg.batchSize}, ${cfg.epochs} epochs x ${cfg.stepsPerEpoch} steps, Adam lr ${cfg.optimizer.lr}${cfg.optimizer.schedule.kind === 'halve-every' ? ` halved every ${cfg.optimizer.schedule.epochs} epochs` : ' (constant)'}, gradient clipping at global norm ${cfg.optimizer.clipNorm}.`);
  lines.push(`- Validation: ${cfg.validation.mixtures} fixed mixtures of the validation split (seed ${cfg.validation.seed}) after every epoch.`);
  lines.push(`- Test: ${plan.test.mixtures} fixed mixtures of the test split (seed ${plan.test.seed}, voices and source recordings never seen in training), scored with each arm's final weights (no selection on validation or test).`);
  lines.push('');
  lines.push('## Test SI-SDRi (dB)', '');
  lines.push('### All mixtures (mean over each mixture\'s sources)', '', summaryTable(arms, (a) => a.testReport.overall), '');
  for (const cls of SOUND_CLASSES) {
    lines.push(`### ${cls === 'speech' ? 'Speech' : 'Environmental-sound'} sources`, '', summaryTable(arms, (a) => a.testReport.byClass[cls]), '');
  }
  const types = mixtureTypesOf(result);
  if (types.length > 1) {
    for (const t of types) lines.push(`### ${t} mixtures`, '', summaryTable(arms, (a) => a.testReport.byMixtureType[t]), '');
  }
  lines.push('## Training', '');
  lines.push('| Arm | Steps | Wall (min) | Train loss, last epoch (dB) | Best validation SI-SDRi (step) | Final validation SI-SDRi | Mean effective batch size | Skipped steps |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const a of arms) {
    const lastEpoch = a.history.at(-1);
    const best = a.history.reduce((b, r) => (b === null || r.validation.overall.mean > b.validation.overall.mean ? r : b), null as (typeof a.history)[number] | null);
    const ess = a.steps.map((s) => s.effectiveBatchSize).filter((x): x is number => x !== null);
    lines.push(`| ${a.arm.label} | ${a.steps.length} | ${(a.wallSeconds / 60).toFixed(1)} | ${f2(lastEpoch?.trainLoss ?? NaN)} | ${best ? `${f2(best.validation.overall.mean)} (${best.step})` : 'n/a'} | ${f2(lastEpoch?.validation.overall.mean ?? NaN)} | ${ess.length ? f2(ess.reduce((x, y) => x + y, 0) / ess.length) : 'n/a'} | ${a.steps.filter((s) => s.skipped).length} |`);
  }
  lines.push('', `Effective batch size = 1 / sum p^2 over the weighted units (${cfg.batchSize} mixtures${cfg.reweighting.granularity === 'source' ? ` or ${cfg.batchSize * 2} sources` : ''} when uniform).`, '');
  if (plan.experiment === 'curriculum') {
    const uniform = byId(result, 'uniform');
    const targets = curriculumTargets(uniform);
    lines.push('## Steps to reach a validation SI-SDRi', '');
    if (targets.length === 0) lines.push('The uniform arm never reached a positive validation SI-SDRi: no target.', '');
    else {
      lines.push(`Targets are fractions of the uniform arm's best validation SI-SDRi; validation runs every ${cfg.stepsPerEpoch} steps, so steps are multiples of that.`, '');
      lines.push(`| Target (dB) | ${arms.map((a) => a.arm.label).join(' | ')} |`, `|---|${'---:|'.repeat(arms.length)}`);
      targets.forEach((t, i) => lines.push(`| ${f2(t)} (${CURRICULUM_TARGETS[i]! * 100}%) | ${arms.map((a) => stepsToReach(a, t) ?? 'never').join(' | ')} |`));
      lines.push('');
    }
  }
  lines.push('## Files', '');
  lines.push('- `curves.csv`: every step of every arm (loss = plain mean -SI-SDR of the batch in dB, the reweighted objective, weight entropy and effective batch size) and, on the last step of each epoch, the validation SI-SDRi statistics.');
  lines.push('- `test.csv`: SI-SDRi of every test mixture and source, per arm (same mixtures for every arm).');
  lines.push(`- \`loss.svg\`: training loss (moving average over ${lossWindow(first.steps.length)} steps); \`validation*.svg\`: validation SI-SDRi vs step; \`percentiles*.svg\`: test SI-SDRi percentiles.`);
  lines.push('- `arms/<arm>/`: each arm\'s training run (best/last checkpoints with optimizer state and history; `tilt experiment` resumes them).');
  return `${lines.join('\n')}\n`;
}

function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(7))) : '';
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function csv(header: string[], rows: (string | number | null | undefined)[][]): string {
  return `${[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}

/** One row per arm and step; the validation columns are filled on the step that ends an epoch. */
export function curvesCsv(result: ExperimentResult): string {
  const types = MIXTURE_TYPES.filter((t) => result.arms.some((a) => a.history.some((r) => r.validation.byMixtureType[t])));
  const header = [
    'arm', 'step', 'epoch', 'loss', 'weighted_loss', 'grad_norm', 'lr', 'entropy', 'effective_batch_size', 'skipped',
    'val_mean', 'val_std', ...PERCENTILES.map((p) => `val_p${p}`), ...SOUND_CLASSES.map((c) => `val_${c}_mean`), ...types.map((t) => `val_${t}_mean`),
  ];
  const rows = result.arms.flatMap((a) => {
    const byStep = new Map(a.history.map((r) => [r.step, r.validation]));
    return a.steps.map((s) => {
      const v = byStep.get(s.step);
      return [
        a.arm.id, s.step, s.epoch, s.loss, s.weightedLoss, s.gradNorm, s.lr, s.entropy, s.effectiveBatchSize, s.skipped ?? '',
        v?.overall.mean, v?.overall.std, ...PERCENTILES.map((p) => v?.overall.p[p]), ...SOUND_CLASSES.map((c) => v?.byClass[c].mean),
        ...types.map((t) => v?.byMixtureType[t]?.mean),
      ];
    });
  });
  return csv(header, rows);
}

export function testCsv(result: ExperimentResult): string {
  const nSrc = result.arms[0]!.test.siSdri[0]?.length ?? 2;
  const idx = [...Array(nSrc).keys()];
  const header = ['arm', 'mixture', 'mixture_type', 'snr_db', ...idx.map((s) => `class_${s}`), ...idx.map((s) => `si_sdri_${s}`), 'si_sdri_mean'];
  const rows = result.arms.flatMap((a) => a.test.siSdri.map((row, i) => [
    a.arm.id, i, a.test.mixtureTypes[i]!, a.test.snrDb[i], ...idx.map((s) => a.test.classes[i]![s]!), ...row,
    row.reduce((x, y) => x + y, 0) / row.length,
  ]));
  return csv(header, rows);
}

export function reportPlots(result: ExperimentResult): Record<string, string> {
  const { arms } = result;
  const window = lossWindow(Math.max(...arms.map((a) => a.steps.length)));
  const plots: Record<string, string> = {};
  plots['loss.svg'] = lineChart({
    title: `${result.plan.experiment}: training loss`,
    xLabel: 'step',
    yLabel: `loss (-SI-SDR, dB), moving average of ${window}`,
    series: arms.map((a) => {
      const smooth = movingAverage(a.steps.map((s) => s.loss), window);
      return { name: a.arm.label, points: a.steps.map((s, i) => [s.step, smooth[i]!] as const) };
    }),
  });
  const validation = (name: string, pick: (v: ArmResult['history'][number]['validation']) => number, title: string, refs = false) => {
    const uniform = arms.find((a) => a.arm.id === 'uniform');
    const targets = refs && uniform ? curriculumTargets(uniform) : [];
    plots[name] = lineChart({
      title, xLabel: 'step', yLabel: 'validation SI-SDRi (dB)', markers: true,
      series: arms.map((a): Series => ({ name: a.arm.label, points: a.history.map((r) => [r.step, pick(r.validation)] as const) })),
      references: targets.map((t, i) => ({ y: t, label: `target ${CURRICULUM_TARGETS[i]! * 100}%` })),
    });
  };
  validation('validation.svg', (v) => v.overall.mean, `${result.plan.experiment}: validation SI-SDRi (all mixtures)`, result.plan.experiment === 'curriculum');
  for (const cls of SOUND_CLASSES) validation(`validation-${cls}.svg`, (v) => v.byClass[cls].mean, `${result.plan.experiment}: validation SI-SDRi (${cls} sources)`);
  const percentiles = (name: string, pick: (a: ArmResult) => Summary, title: string) => {
    plots[name] = lineChart({
      title, xLabel: 'percentile', yLabel: 'test SI-SDRi (dB)', markers: true, xTicks: [...PERCENTILES], xDomain: [0, 100],
      series: arms.map((a) => ({ name: a.arm.label, points: PERCENTILES.map((p) => [p, pick(a).p[p]!] as const) })),
    });
  };
  percentiles('percentiles.svg', (a) => a.testReport.overall, `${result.plan.experiment}: test SI-SDRi percentiles (all mixtures)`);
  for (const cls of SOUND_CLASSES) percentiles(`percentiles-${cls}.svg`, (a) => a.testReport.byClass[cls], `${result.plan.experiment}: test SI-SDRi percentiles (${cls} sources)`);
  return plots;
}

/** Writes report.md, curves.csv, test.csv and the plots into the experiment folder; returns their names. */
export async function writeReport(result: ExperimentResult): Promise<string[]> {
  const files: Record<string, string> = {
    'report.md': reportMarkdown(result),
    'curves.csv': curvesCsv(result),
    'test.csv': testCsv(result),
    ...reportPlots(result),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(result.outDir, name), text);
  return Object.keys(files);
}
