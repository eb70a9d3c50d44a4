/// <reference types="svelte" />
// (The reference declares the runes the state modules use, for tsc.)
// The Models view's list: refreshes overlap (a checkpoint event asks for one while the user's is under
// way), and only the newest one's answer, or error, is shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../svelte-loader.mjs';
import { FakeApi } from './fakes';
import type { ModelInfo } from '../../../app/contract';

const { app } = await import('../../../renderer/src/state/app.svelte');
const { models } = await import('../../../renderer/src/state/models.svelte');

const model = (id: string, active = false): ModelInfo => ({ id, name: id, dir: `/models/${id}`, builtin: false, active });

test('a slow, older refresh does not undo a newer one, nor does its error show', async () => {
  const answers: { resolve: (list: ModelInfo[]) => void; reject: (e: Error) => void }[] = [];
  app.connect(new FakeApi().on('models:list', () => new Promise<ModelInfo[]>((resolve, reject) => answers.push({ resolve, reject }))));
  const older = models.refresh();
  const newer = models.refresh();
  assert.equal(models.loading, true);
  answers[1]!.resolve([model('tilt-default', true), model('my-run')]);
  await newer;
  assert.equal(models.loading, false);
  answers[0]!.reject(new Error('the engine restarted'));
  await older;
  assert.deepEqual(models.list.map((m) => m.id), ['tilt-default', 'my-run']);
  assert.equal(models.active?.id, 'tilt-default');
  assert.equal(models.selected?.id, 'tilt-default', 'with nothing chosen, the first model is selected');
  assert.equal(models.error, null);

  const failing = models.refresh();
  answers[2]!.reject(new Error('the engine restarted'));
  await failing;
  assert.equal(models.error, 'the engine restarted');
  assert.equal(models.list.length, 2, 'a failed refresh keeps the list shown');
});
