// The models folder: which checkpoint of a training run separates, and names that survive an export
// and an import. Model folders here are model.json files only: the store never loads weights.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelStore } from '../../../core/engine/models';

let root: string;
let store: ModelStore;

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, JSON.stringify(value));
}

/** A checkpoint folder as the trainer saves it: its trainer state says the step of its weights. */
function checkpoint(dir: string, step: number): Promise<void> {
  return writeJson(join(dir, 'model.json'), { metadata: { training: { step, config: { name: 'run-a', epochs: 2, stepsPerEpoch: 20 } } } });
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tilt-models-'));
  store = new ModelStore({ userDir: join(root, 'models'), builtinDirs: [], settingsFile: join(root, 'settings.json') });
  await writeJson(join(root, 'models', 'plain', 'model.json'), { metadata: { name: 'Plain model' } });
  // A run whose best weights are from step 20 and whose last are from step 40.
  await checkpoint(join(root, 'models', 'run-a', 'best'), 20);
  await checkpoint(join(root, 'models', 'run-a', 'last'), 40);
  await writeJson(join(root, 'models', 'run-a', 'tilt-model.json'), { name: 'Run A' });
});

afterEach(() => rm(root, { recursive: true, force: true }));

test('a run lists its checkpoints with the step of each; its best separates unless its last is chosen', async () => {
  const run = await store.get('run-a');
  assert.equal(run.checkpoint, 'best');
  assert.deepEqual(run.checkpoints, [{ kind: 'best', step: 20 }, { kind: 'last', step: 40 }]);
  assert.deepEqual(run.run, { step: 40, totalSteps: 40 });
  assert.equal((await store.get('plain')).checkpoints, undefined);

  const last = await store.activate('run-a', 'last');
  assert.equal(last.dir, join(root, 'models', 'run-a', 'last'));
  assert.equal(last.checkpoint, 'last');
  const active = await store.active();
  assert.deepEqual([active.id, active.checkpoint, active.dir], ['run-a', 'last', join(root, 'models', 'run-a', 'last')]);
  // Only the active model's choice counts: asked for by id, a run is its best.
  assert.deepEqual(JSON.parse(await readFile(join(root, 'settings.json'), 'utf8')), { activeModelId: 'run-a', activeCheckpoint: 'last' });

  // Another model, then the run again without a checkpoint: its best.
  await store.activate('plain');
  assert.deepEqual(JSON.parse(await readFile(join(root, 'settings.json'), 'utf8')), { activeModelId: 'plain' });
  assert.equal((await store.activate('run-a')).checkpoint, 'best');
  await assert.rejects(store.activate('plain', 'last'), /"Plain model" has no last checkpoint/);
});

test('a run with only a last checkpoint (before its first validation) separates with that one', async () => {
  await checkpoint(join(root, 'models', 'run-b', 'last'), 5);
  const run = await store.activate('run-b', 'last');
  assert.deepEqual([run.checkpoint, run.checkpoints], ['last', [{ kind: 'last', step: 5 }]]);
  await assert.rejects(store.activate('run-b', 'best'), /no best checkpoint/);
});

test('an import keeps the model\'s own name, whatever its folder is called', async () => {
  const outside = join(root, 'outside');
  // The app's name for it wins over the name saved with the weights and over the folder's.
  await writeJson(join(outside, 'folder-x', 'model.json'), { metadata: { name: 'Saved name' } });
  await writeJson(join(outside, 'folder-x', 'tilt-model.json'), { name: 'Mine' });
  const mine = await store.import(join(outside, 'folder-x'));
  assert.deepEqual([mine.id, mine.name], ['mine', 'Mine']);
  // The same model again: a new folder, the same name.
  const again = await store.import(join(outside, 'folder-x'));
  assert.deepEqual([again.id, again.name], ['mine-2', 'Mine']);
  // A checkpoint folder of a run is named after the run, not "best".
  const best = await store.import(join(root, 'models', 'run-a', 'best'));
  assert.deepEqual([best.id, best.name], ['run-a-2', 'Run A']);
  // A whole run folder comes in with its checkpoints.
  const run = await store.import(join(root, 'models', 'run-a'), 'Copy of run');
  assert.deepEqual([run.id, run.name, run.checkpoints?.length], ['copy-of-run', 'Copy of run', 2]);
  await assert.rejects(store.import(outside), /not a Tilt model folder/);
});

test('an export carries the name, so importing it brings the model back under that name; serve mode keeps both', async () => {
  await store.rename('run-a', 'Renamed run');
  await store.activate('run-a', 'last');
  const out = join(root, 'exports');
  const dir = await store.export('run-a', out);
  assert.equal(dir, join(out, 'run-a'));
  // The checkpoint in use is what goes out.
  assert.equal(JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')).metadata.training.step, 40);
  await assert.rejects(store.export('run-a', out), /already exists/);
  assert.equal(await store.export('run-a', out, true), join(out, 'run-a-2'));
  await store.delete('run-a');
  const back = await store.import(dir);
  assert.deepEqual([back.id, back.name], ['renamed-run', 'Renamed run']);
});
