// Before/after: a fine-tune from a saved model on a user's flat folders ends by scoring the base
// model and the tuned one on the same held-out mixtures of those folders, and writes the model card.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend';
import { loadModel } from '../../../core/models/io';
import { evaluateSystems } from '../../../core/evaluation/run';
import { modelSystem } from '../../../core/evaluation/systems';
import { BEFORE_AFTER_SEED } from '../../../core/train/beforeAfter';
import type { BeforeAfter } from '../../../core/train/beforeAfter';
import { parseTrainConfig } from '../../../core/train/config';
import { dataEntries, fixedBatches, splitMixer } from '../../../core/train/data';
import { TrainingJob } from '../../../core/train/host';
import type { FromTrainWorker } from '../../../core/train/protocol';
import { saveTinyModel } from '../../e2e/fixtures';
import { makeUserFolders, type UserFolders } from '../../fixtures/user-folders';

let root: string;
let folders: UserFolders;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tilt-before-after-'));
  folders = await makeUserFolders(root);
  await saveTinyModel(join(root, 'base'));
});

after(() => rm(root, { recursive: true, force: true }));

test('a finished fine-tune scores base and tuned model on held-out mixtures of the user\'s folders, per class, and writes the model card', async () => {
  const runDir = join(root, 'run');
  const config = {
    name: 'my-voices', seed: 3, model: { from: join(root, 'base') },
    data: { corpus: null, speechDirs: [folders.speech], envDirs: [folders.env], cacheDir: join(root, 'cache'), segmentSeconds: 0.5 },
    batchSize: 2, epochs: 1, stepsPerEpoch: 2, optimizer: { lr: 0.01 }, validation: { mixtures: 4, batchSize: 2 },
    reweighting: { granularity: 'source', terms: [{ class: { speech: 3, env: 0 } }] },
  };
  const events: FromTrainWorker[] = [];
  const done = await new TrainingJob({ config, runDir, workers: 1 }, (m) => events.push(m)).done;
  assert.equal(done.outcome, 'finished');
  const ba = done.beforeAfter!;
  assert.equal(ba.split, 'test');
  assert.equal(ba.mixtures, 4);
  assert.ok(ba.clips.speech >= 1 && ba.clips.env >= 1, JSON.stringify(ba.clips));
  assert.deepEqual(ba.rows.map((r) => [r.label, r.count]), [['all mixtures', 4], ['speech stem', 4], ['env stem', 4]]);
  assert.ok(ba.rows.every((r) => Number.isFinite(r.before) && Number.isFinite(r.after)));
  assert.ok(ba.rows.some((r) => r.after !== r.before), 'the tuned model separates differently');
  const phases = events.flatMap((m) => (m.type === 'phase' ? [m.progress] : []));
  assert.deepEqual([...new Set(phases.map((p) => p.phase))], ['decode', 'scoring'], 'decoding before training, scoring after');
  assert.equal(phases.filter((p) => p.phase === 'scoring').at(-1)!.fraction, 1);

  // The base model's row is what scoring it alone on the same seeded test mixtures gives.
  await initBackend();
  const data = parseTrainConfig(config).data;
  const { entries, cacheDir } = await dataEntries(data);
  const mixer = await splitMixer(data, entries, cacheDir, 'test', BEFORE_AFTER_SEED);
  const set = { batches: fixedBatches(mixer, 4, 2, 'before-after-test'), packageOf: new Map(entries.map((e) => [e.file, e.package])) };
  const base = await loadModel(join(root, 'base'));
  try {
    const [alone] = await evaluateSystems([modelSystem('base', base.model, base.metadata?.stems)], set, { snrRange: data.snrDb });
    assert.ok(Math.abs(alone!.overall.mean - ba.rows[0]!.before) < 1e-6, `${alone!.overall.mean} vs ${ba.rows[0]!.before}`);
    assert.ok(Math.abs(alone!.byClass.env.mean - ba.rows[2]!.before) < 1e-6);
  } finally {
    base.model.dispose();
  }

  // The card and the scores live with the tuned model (its best checkpoint).
  assert.equal(done.card, join(runDir, 'best', 'MODEL_CARD.md'));
  const card = await readFile(done.card!, 'utf8');
  assert.match(card, /^# my-voices\n/);
  assert.match(card, /- \*\*Base model\*\*: Tiny base \(`.*\/base`\)/);
  assert.match(card, /- \*\*Tilt \(reweighting\)\*\*: Toward speech \(`--tilt speech`\): `\[\{"class":\{"speech":3,"env":0\}\}\]` \(weights per source\)/);
  assert.match(card, /- \*\*Weights\*\*: step \d of 2, the run's best checkpoint/);
  assert.match(card, /- \*\*Run\*\*: 2 of 2 steps: batches of 2 × 0\.5 s mixtures/);
  assert.match(card, /- \*\*Wall time\*\*: \d+ s/);
  assert.match(card, /speech: `.*\/voices`/);
  assert.match(card, new RegExp(`\\| all mixtures +\\| +4 \\| +${ba.rows[0]!.before.toFixed(2)} \\| +${ba.rows[0]!.after.toFixed(2)} \\|`));
  assert.match(card, /### Full breakdown\n\n\| SI-SDRi \(dB\) \| system \|/);
  const saved = JSON.parse(await readFile(join(runDir, 'best', 'model.json'), 'utf8')).metadata.beforeAfter as BeforeAfter;
  assert.equal(saved.split, 'test');
  assert.equal(saved.base.overall.mean, ba.rows[0]!.before);
  assert.equal(saved.tuned.byClass.speech.mean, ba.rows[1]!.after);
});
