// The model card of each checkpoint states the step of its own weights: a best checkpoint of step 20
// in a run that went on to step 40 says step 20, and says that the run went on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrainConfig } from '../../../core/train/config';
import { finishRun } from '../../../core/train/finish';
import type { TrainerState } from '../../../core/train/checkpoint';
import type { EvaluationReport } from '../../../core/train/metrics';
import type { TrainingData } from '../../../core/train/data';

const score = (mean: number) => ({ mean }) as EvaluationReport['overall'];
const report = (mean: number) => ({ overall: score(mean), byClass: { speech: score(mean + 1), env: score(mean - 1) } }) as unknown as EvaluationReport;
const epoch = (e: number, step: number, mean: number) => ({ epoch: e, step, lr: 0.001, trainLoss: -5, weightedLoss: -5, skippedSteps: 0, seconds: 1, validation: report(mean) });

/** A run of 40 steps whose validation peaked at step 20 (its best checkpoint) and fell at step 40. */
function runState(): TrainerState {
  return {
    config: parseTrainConfig({ name: 'run-a', epochs: 2, stepsPerEpoch: 20 }),
    step: 40, lr: 0.001, history: [epoch(0, 20, 7.5), epoch(1, 40, 6)], best: { epoch: 0, siSdri: 7.5 },
    sinceImprovement: 1, rollbacks: 0, stems: null, wallSeconds: 30,
  };
}

test('each checkpoint of a finished run gets a card with the step of its own weights', async () => {
  const runDir = await mkdtemp(join(tmpdir(), 'tilt-card-'));
  try {
    for (const [kind, step] of [['best', 20], ['last', 40]] as const) {
      await mkdir(join(runDir, kind));
      await writeFile(join(runDir, kind, 'model.json'), JSON.stringify({ metadata: { training: { step } } }));
    }
    const data = { entries: [], cacheDir: runDir } as unknown as TrainingData;
    const end = await finishRun({ runDir, state: runState(), outcome: 'finished', data });
    assert.equal(end.card, join(runDir, 'best', 'MODEL_CARD.md'), 'the run\'s model is its best checkpoint');

    const best = await readFile(join(runDir, 'best', 'MODEL_CARD.md'), 'utf8');
    assert.match(best, /^# run-a\n/);
    assert.match(best, /- \*\*Weights\*\*: step 20 of 40, the run's best checkpoint \(highest validation SI-SDRi\)\n/);
    assert.match(best, /- \*\*Run\*\*: 40 of 40 steps: batches of/);
    assert.match(best, /- \*\*Best checkpoint\*\*: step 20: validation SI-SDRi 7\.50 dB/);
    assert.doesNotMatch(best, /step 40 of 40/);

    const last = await readFile(join(runDir, 'last', 'MODEL_CARD.md'), 'utf8');
    assert.match(last, /- \*\*Weights\*\*: step 40 of 40, the run's last checkpoint\n/);
    assert.match(last, /## Validation during training\n\n\| step \| SI-SDRi \(dB\) \|/);
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
});
