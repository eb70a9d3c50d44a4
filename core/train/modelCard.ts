// The model card every trained model gets (MODEL_CARD.md beside its weights): what it was tuned from,
// with which tilt (reweighting), on which data, for how long, and the before/after scores on held-out
// mixtures of that data. Plain markdown with padded tables, readable as text too (the app shows it so).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { favouredClass, TILT_PRESETS, tiltOf } from '../reweighting/presets';
import { writeFileAtomic } from '../io/atomic';
import type { CorpusEntry } from '../data/manifest';
import { SPLITS } from '../data/split';
import { comparisonMarkdown } from '../evaluation/report';
import { SOUND_CLASSES } from '../types';
import type { BeforeAfter, BeforeAfterSummary } from './beforeAfter';
import { beforeAfterSummary } from './beforeAfter';
import type { CheckpointKind, TrainerState } from './checkpoint';
import { formatDuration } from './progress';

const MODEL_CARD_FILE = 'MODEL_CARD.md';

export interface CardInput {
  state: TrainerState;
  /** The checkpoint whose weights the card sits beside, and their step (the run may have gone on past it). */
  weights: { kind: CheckpointKind; step: number };
  /** The base model of a fine-tune: its display name and folder. */
  base: { name: string; dir: string } | null;
  entries: readonly CorpusEntry[];
  outcome: 'finished' | 'cancelled';
  beforeAfter: BeforeAfter | null;
  /** Why there are no before/after scores (a fine-tune whose scoring did not happen). */
  beforeAfterNote?: string;
  createdAt: string;
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const signed = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(2)}` : 'n/a');

/** A markdown table with its columns padded, so that it also reads as plain text. */
function markdownTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(3, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(cells[0]!), `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}

function beforeAfterTable(s: BeforeAfterSummary): string {
  return markdownTable(['SI-SDRi (dB)', 'n', 'base', 'fine-tuned', 'change'], s.rows.map((r) => [r.label, r.count, f2(r.before), f2(r.after), signed(r.after - r.before)]));
}

function dataLines(state: TrainerState): string[] {
  const d = state.config.data;
  return [
    ...(d.corpus ? [`built-in recordings (\`${d.corpus}\` set)`] : []),
    ...d.speechDirs.map((p) => `speech: \`${p}\``),
    ...d.envDirs.map((p) => `environmental sound: \`${p}\``),
    ...(d.esc50 ? [`ESC-50: \`${d.esc50}\``] : []),
  ];
}

export function modelCard(c: CardInput): string {
  const { config } = c.state;
  const total = config.epochs * config.stepsPerEpoch;
  const terms = config.reweighting.terms;
  const preset = tiltOf(config.reweighting);
  const tilt = terms.length
    ? `${preset ? `${TILT_PRESETS[preset].label} (\`--tilt ${preset}\`): ` : ''}\`${JSON.stringify(terms)}\` (weights per ${config.reweighting.granularity})`
    : 'none: uniform weights';
  const favoured = favouredClass(terms);
  const bestBy = favoured ? `validation SI-SDRi of ${favoured} sources, the favoured class` : 'validation SI-SDRi';
  const best = c.state.best;
  const bestStep = best ? c.state.history.find((r) => r.epoch === best.epoch)?.step : undefined;
  const { weights } = c;
  const facts: [string, string][] = [
    ['Weights', `step ${weights.step} of ${total}, the run's ${weights.kind === 'best' ? `best checkpoint (highest ${bestBy})` : 'last checkpoint'}`],
    [c.base ? 'Base model' : 'Started from', c.base ? `${c.base.name} (\`${c.base.dir}\`)` : `the ${'preset' in config.model ? config.model.preset : ''} preset, untrained`],
    ['Tilt (reweighting)', tilt],
    ['Data', dataLines(c.state).join('; ') || 'none'],
    ['Run', `${c.state.step} of ${total} steps${c.outcome === 'cancelled' ? ' (cancelled)' : ''}: batches of ${config.batchSize} × ${config.data.segmentSeconds} s mixtures, learning rate ${config.optimizer.lr}, seed ${config.seed}`],
    ['Best checkpoint', best ? `step ${bestStep ?? '?'}: ${bestBy} ${f2(best.siSdri)} dB` : 'none yet (no validation ran)'],
    ['Wall time', formatDuration(c.state.wallSeconds)],
    ['Written', c.createdAt],
  ];
  const out = [`# ${config.name}`, '', ...facts.map(([k, v]) => `- **${k}**: ${v}`), ''];

  out.push('## Before / after', '');
  if (c.beforeAfter) {
    const ba = c.beforeAfter;
    const types = Object.keys(config.data.mixtureTypes).join(', ');
    out.push(
      `${ba.mixtures} held-out mixtures (${types}, ${ba.segmentSeconds} s, SNR ${config.data.snrDb.join(' to ')} dB, seed ${ba.seed}) cut from the`,
      `${ba.clips.speech} speech and ${ba.clips.env} env clips of the **${ba.split}** split of this data${ba.split === 'validation' ? ' (there is no test split with every class; validation also chose the checkpoint)' : ', never trained on'}, separated by`,
      'the base model and by this one as the app does it; each source is scored against the stem named after its class.',
      '',
      beforeAfterTable(beforeAfterSummary(ba)),
      '',
      '### Full breakdown',
      '',
      comparisonMarkdown([ba.base, ba.tuned]),
      '',
    );
  } else {
    out.push(c.beforeAfterNote ?? (c.base ? 'Not scored.' : 'Trained from scratch: there is no base model to compare with.'), '');
  }

  out.push('## Data', '', ...dataLines(c.state).map((l) => `- ${l}`), '');
  const rows = SOUND_CLASSES.map((cls) => {
    const es = c.entries.filter((e) => e.class === cls);
    return [cls, ...SPLITS.flatMap((s) => {
      const inSplit = es.filter((e) => e.split === s);
      return [inSplit.length, (inSplit.reduce((sum, e) => sum + e.duration, 0) / 3600).toFixed(2)];
    })];
  });
  out.push(markdownTable(['class', ...SPLITS.flatMap((s) => [`${s} clips`, `${s} h`])], rows), '');

  if (c.state.history.length) {
    out.push('## Validation during training', '');
    out.push(markdownTable(['step', 'SI-SDRi (dB)', 'speech', 'env', 'lr'], c.state.history.map((r) => [
      r.step, f2(r.validation.overall.mean), f2(r.validation.byClass.speech.mean), f2(r.validation.byClass.env.mean), r.lr,
    ])), '');
  }
  return out.join('\n');
}

/**
 * Writes the card beside the model's weights and, when there are scores, records them in its
 * model.json metadata (`beforeAfter`), where tools read them without parsing markdown.
 */
export async function writeModelCard(modelDir: string, c: CardInput): Promise<string> {
  if (c.beforeAfter) {
    const path = join(modelDir, 'model.json');
    const json = JSON.parse(await readFile(path, 'utf8')) as { metadata?: Record<string, unknown> };
    json.metadata = { ...json.metadata, beforeAfter: c.beforeAfter };
    await writeFileAtomic(path, JSON.stringify(json, null, 2));
  }
  const path = join(modelDir, MODEL_CARD_FILE);
  await writeFileAtomic(path, `${modelCard(c)}\n`);
  return path;
}
