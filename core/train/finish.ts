// The end of a run: a finished fine-tune is scored before/after on held-out mixtures of its data, and
// each checkpoint gets its model card; the run's model (its best checkpoint, else its last) is the one scored.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { beforeAfterSummary, scoreBeforeAfter } from './beforeAfter';
import type { BeforeAfter, BeforeAfterSummary } from './beforeAfter';
import type { CheckpointKind, TrainerState } from './checkpoint';
import type { TrainingData } from './data';
import { writeModelCard } from './modelCard';
import type { TrainOutcome } from './trainer';

export interface RunEnding {
  runDir: string;
  state: Readonly<TrainerState>;
  outcome: TrainOutcome;
  data: TrainingData;
  /** Ends the scoring early (the card then says it was not scored). */
  signal?: AbortSignal;
  /** Fraction of the scoring's separations done. */
  onScoring?: (fraction: number) => void;
}

export interface RunEnd {
  beforeAfter: BeforeAfterSummary | null;
  /** Path of the model card; null when the run has no checkpoint to be a model. */
  card: string | null;
  /** Scoring failed: the model is fine, the card says why it has no scores. */
  warning?: string;
}

/** The display name of a model folder: its saved name, the app's name for it, or the folder's. */
async function modelName(dir: string): Promise<string> {
  const read = (file: string) => readFile(join(dir, file), 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => ({} as Record<string, unknown>));
  const saved = (await read('model.json')).metadata as { name?: unknown } | undefined;
  const app = await read('../tilt-model.json');
  const own = await read('tilt-model.json');
  for (const n of [own.name, saved?.name, app.name]) if (typeof n === 'string' && n) return n;
  return basename(dir);
}

/** The step of a checkpoint's weights, from the trainer state saved with them. */
async function checkpointStep(dir: string): Promise<number | undefined> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { metadata?: { training?: { step?: unknown } } };
  const step = json.metadata?.training?.step;
  return typeof step === 'number' ? step : undefined;
}

export async function finishRun(o: RunEnding): Promise<RunEnd> {
  const checkpoints = (['best', 'last'] as const).map((kind) => ({ kind, dir: join(o.runDir, kind) })).filter((k) => existsSync(join(k.dir, 'model.json')));
  const modelDir = checkpoints[0]?.dir;
  if (!modelDir) return { beforeAfter: null, card: null };
  const { config } = o.state;
  const from = 'from' in config.model ? config.model.from : null;
  let scores: BeforeAfter | null = null;
  let note: string | undefined;
  let warning: string | undefined;
  if (from && o.outcome === 'finished') {
    try {
      scores = await scoreBeforeAfter({
        data: config.data, entries: o.data.entries, cacheDir: o.data.cacheDir, baseDir: from, tunedDir: modelDir,
        mixtures: config.validation.mixtures, batchSize: config.validation.batchSize,
        ...(o.onScoring ? { onProgress: o.onScoring } : {}), ...(o.signal ? { signal: o.signal } : {}),
      });
      if (!scores) note = 'Not scored: no split of this data holds clips of every class the mixtures need.';
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (o.signal?.aborted) note = 'Not scored: the scoring was cancelled.';
      else {
        note = `Not scored: ${message}`;
        warning = `the before/after scoring failed: ${message}`;
      }
    }
  } else if (from) {
    note = 'Not scored yet: the run stopped before its last step (continue it to finish and score it).';
  }
  const base = from ? { name: await modelName(from), dir: from } : null;
  const createdAt = new Date().toISOString();
  const weightsOf = async (kind: CheckpointKind, dir: string) => ({ kind, step: (await checkpointStep(dir)) ?? o.state.step });
  const [scored, ...others] = checkpoints;
  const card = await writeModelCard(modelDir, {
    state: o.state, weights: await weightsOf(scored!.kind, scored!.dir), base, entries: o.data.entries,
    outcome: o.outcome, beforeAfter: scores, ...(note ? { beforeAfterNote: note } : {}), createdAt,
  });
  // The last checkpoint past the best can separate too: its card says which weights were scored.
  for (const k of others) {
    const weights = await weightsOf(k.kind, k.dir);
    const otherNote = scores ? `Scored: the ${scored!.kind} checkpoint, the run's model (see its card); not these weights.` : note;
    await writeModelCard(k.dir, {
      state: o.state, weights, base, entries: o.data.entries, outcome: o.outcome, beforeAfter: null, ...(otherNote ? { beforeAfterNote: otherNote } : {}), createdAt,
    });
  }
  return { beforeAfter: scores && beforeAfterSummary(scores), card, ...(warning ? { warning } : {}) };
}
