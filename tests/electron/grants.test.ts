// The desktop window's calls reach the engine only with paths the user picked in the main process's
// dialogs (or dropped on the window): the dispatch layer refuses the rest, so a script in the
// renderer cannot read or write other files. Serve mode has no such shell check (the token grants it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../core/engine/host';
import { createDispatcher } from '../../app/dispatch';
import { PathGrants } from '../../electron/grants';

let root: string;
let engine: Engine;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tilt-grants-'));
  engine = new Engine({ modelsDir: join(root, 'models'), settingsFile: join(root, 'settings.json'), workDir: join(root, 'work'), exportDir: join(root, 'exports'), builtinModelsDirs: [] });
});
after(async () => {
  await engine.close();
  await rm(root, { recursive: true, force: true });
});

test('grants cover what was picked and what is inside picked folders, for the access picked, after resolving ..', () => {
  const g = new PathGrants();
  g.grant('/home/u/take.wav', 'read');
  g.grant('/home/u/voices', 'read');
  g.grant('/home/u/out', 'write');
  assert.ok(g.allows('/home/u/take.wav', 'read'));
  assert.ok(g.allows('/home/u/voices/anna/1.wav', 'read'));
  assert.ok(g.allows('/home/u/out/', 'write'));
  assert.ok(!g.allows('/home/u/take.wav', 'write'));
  assert.ok(!g.allows('/home/u/out/x.wav', 'read'));
  assert.ok(!g.allows('/home/u/voices/../.ssh/id_rsa', 'read'));
  assert.ok(!g.allows('/home/u/voices-other/x.wav', 'read'));
  assert.ok(!g.allows('/home/u', 'read'));
});

test('the desktop dispatcher refuses every path the user did not pick, and lets picked ones through', async () => {
  const grants = new PathGrants();
  const dispatch = createDispatcher(engine, {
    kind: 'electron', version: 'test', chooseFolder: async () => null,
    allowsPath: (path, access) => grants.allows(path, access),
  });
  const secret = join(root, 'secret.wav');
  await writeFile(secret, 'RIFF');
  const outside = join(root, 'outside');
  await mkdir(outside);
  const refused: [Parameters<typeof dispatch>[0], unknown][] = [
    ['separate:start', { input: { kind: 'path', path: secret } }],
    ['separate:start', { input: { kind: 'path', path: join(root, 'picked', '..', 'secret.wav') } }],
    ['separate:export', { resultId: '123e4567-e89b-42d3-a456-426614174000', stems: [], format: 'wav16', rate: 'model', outDir: outside }],
    ['models:import', { path: outside }],
    ['models:export', { id: 'm', destDir: outside }],
    ['train:start', { name: 'x', baseModelId: 'm', data: { kind: 'folders', folders: [{ path: outside, class: 'speech' }, { path: outside, class: 'env' }] }, reweighting: [], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5 }],
    ['train:check', { data: { kind: 'folders', folders: [{ path: outside, class: 'speech' }] } }],
  ];
  for (const [channel, args] of refused) {
    const reply = await dispatch(channel, args);
    assert.ok(!reply.ok && reply.error.code === 'forbidden', `${channel}: ${JSON.stringify(reply)}`);
    assert.match(reply.ok ? '' : reply.error.message, /was not chosen in a Tilt dialog/);
  }
  // Granted: the call gets past the check to the engine (which then finds no model / no result).
  grants.grant(secret, 'read');
  grants.grant(outside, 'write');
  const started = await dispatch('separate:start', { input: { kind: 'path', path: secret } });
  assert.ok(!started.ok && started.error.code !== 'forbidden', JSON.stringify(started));
  const exported = await dispatch('separate:export', { resultId: '123e4567-e89b-42d3-a456-426614174000', stems: [], format: 'wav16', rate: 'model', outDir: join(outside, 'stems') });
  assert.ok(!exported.ok && exported.error.code === 'not-found', JSON.stringify(exported));
  const readOnlyUse = await dispatch('models:import', { path: outside });
  assert.ok(!readOnlyUse.ok && readOnlyUse.error.code === 'forbidden', 'a folder picked for writing is not readable through it');
});
