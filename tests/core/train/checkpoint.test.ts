// Checkpoint saves survive a crash at any point: the swap's two renames, stale temporary folders,
// and a run folder whose only checkpoints are mid-swap.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend';
import { loadCheckpoint, recoverCheckpoints } from '../../../core/train/checkpoint';
import { parseTrainConfig } from '../../../core/train/config';
import { Trainer, type MixtureSource } from '../../../core/train/trainer';

let root: string;
before(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'tilt-checkpoint-'));
});
after(() => rm(root, { recursive: true, force: true }));

const config = parseTrainConfig({ name: 'kill', model: { preset: '0.25x', overrides: { nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 } }, data: { corpus: 'ci' } });
const noData: MixtureSource = { trainBatch: () => { throw new Error('not trained here'); }, validation: () => [] };

/** Runs killDuringSave.ts on `runDir/<kind>`: it dies between the two renames of its second save. */
function killBetweenRenames(runDir: string, kind: 'last' | 'best' = 'last'): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'killDuringSave.ts'), join(runDir, kind)], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', `the child should have died between the renames: ${r.stderr}`);
}

test('a process killed between the two renames of a save leaves a run that resumes from the newer checkpoint', async () => {
  const runDir = join(root, 'run');
  await mkdir(runDir);
  killBetweenRenames(runDir);
  // The crash left no `last`, only the moved-aside step-1 and the complete step-2 folders.
  assert.equal(existsSync(join(runDir, 'last')), false);
  assert.deepEqual(readdirSync(runDir).map((n) => n.replace(/-\d+-\d+$/, '')).sort(), ['last.old', 'last.tmp']);

  const resumed = await Trainer.create(config, noData, runDir, { resume: true });
  assert.equal(resumed.trainerState.step, 2);
  resumed.dispose();
  assert.deepEqual(readdirSync(runDir), ['last'], 'the leftovers are cleaned up');
  await assert.rejects(Trainer.create(config, noData, runDir), /already holds a run/, 'a new run does not overwrite it');
});

test('a new run refuses a folder whose only checkpoint is mid-swap instead of overwriting it', async () => {
  const runDir = join(root, 'fresh');
  await mkdir(runDir);
  killBetweenRenames(runDir);
  await assert.rejects(Trainer.create(config, noData, runDir), /already holds a run/);
  const { model, state } = await loadCheckpoint(join(runDir, 'last'));
  model.dispose();
  assert.equal(state.step, 2);
});

test('stale temporary folders of interrupted saves are removed; an incomplete one never replaces a checkpoint', async () => {
  const runDir = join(root, 'stale');
  await mkdir(runDir);
  killBetweenRenames(runDir);
  await recoverCheckpoints(runDir);
  // Interrupted while writing: folders without the files a complete checkpoint has.
  await mkdir(join(runDir, 'last.tmp-999999-1'));
  await mkdir(join(runDir, 'best.tmp-999999-2'));
  await recoverCheckpoints(runDir);
  assert.deepEqual(readdirSync(runDir), ['last']);
  const { model, state } = await loadCheckpoint(join(runDir, 'last'));
  model.dispose();
  assert.equal(state.step, 2);
});

test('a best checkpoint (no optimizer state) killed mid-swap is recovered at its newer step', async () => {
  const runDir = join(root, 'best');
  await mkdir(runDir);
  killBetweenRenames(runDir, 'best');
  await recoverCheckpoints(runDir);
  assert.deepEqual(readdirSync(runDir), ['best']);
  const { model, state } = await loadCheckpoint(join(runDir, 'best'));
  model.dispose();
  assert.equal(state.step, 2);
});
