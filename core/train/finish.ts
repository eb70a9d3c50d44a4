// The end of a run: a finished fine-tune is scored before/after on held-out mixtures of its data, and
// the run's model (its best checkpoint, else its last) gets its model card.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { beforeAfterSummary, scoreBeforeAfter } from './beforeAfter';
import type { BeforeAfter, BeforeAfterSummary } from './beforeAfter';
import type { TrainerState } from './checkpoint';
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

export async function finishRun(o: RunEnding): Promise<RunEnd> {
  const modelDir = ['best', 'last'].map((k) => join(o.runDir, k)).find((d) => existsSync(join(d, 'model.json')));
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
  const card = await writeModelCard(modelDir, {
    state: o.state, base: from ? { name: await modelName(from), dir: from } : null, entries: o.data.entries,
    outcome: o.outcome, beforeAfter: scores, ...(note ? { beforeAfterNote: note } : {}), createdAt: new Date().toISOString(),
  });
  return { beforeAfter: scores && beforeAfterSummary(scores), card, ...(warning ? { warning } : {}) };
}
