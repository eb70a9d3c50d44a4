// Main and the server validate everything the renderer sends before it reaches the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHANNELS, DESKTOP_ONLY, isChannel, isEvent, type Channel } from '../../app/contract';
import { BadRequest, validateArgs } from '../../app/validate';

test('the channel list, desktop-only set and channel check are derived from the one declaration', () => {
  // A Record over Channel fails to compile when the contract gains a channel this table lacks.
  const all: Record<Channel, true> = {
    'app:info': true, 'backend:describe': true, 'separate:start': true, 'separate:export': true, 'separate:discard': true,
    'job:cancel': true, 'train:check': true, 'train:start': true, 'train:continue': true, 'train:pause': true, 'train:resume': true, 'train:cancel': true,
    'train:preview-weights': true, 'models:list': true, 'models:rename': true, 'models:delete': true, 'models:activate': true,
    'models:import': true, 'models:export': true, 'files:recent': true, 'jobs:list': true, 'dialog:open-audio': true, 'dialog:open-folder': true,
  };
  assert.deepEqual([...CHANNELS].sort(), Object.keys(all).sort());
  assert.deepEqual([...DESKTOP_ONLY].sort(), ['dialog:open-audio', 'dialog:open-folder']);
  assert.ok(CHANNELS.every(isChannel));
  for (const c of ['toString', '__proto__', 'constructor', 'app:exit', 42]) assert.equal(isChannel(c), false, String(c));
  assert.ok(isEvent('engine:event') && !isEvent('hasOwnProperty'));
});

const UUID = '123e4567-e89b-42d3-a456-426614174000';

test('hostile or malformed arguments are rejected with the field named', () => {
  const bad: [Channel, unknown, RegExp][] = [
    ['separate:start', { input: { kind: 'path', path: 'a\0b' } }, /path/],
    ['separate:start', { input: { kind: 'url', path: 'x' } }, /kind/],
    ['separate:start', { input: { kind: 'upload', id: '../../etc', name: 'x' } }, /id/],
    ['separate:start', { input: { kind: 'path', path: '/a.wav' }, modelId: '../escape' }, /modelId/],
    ['separate:export', { resultId: UUID, stems: ['../x'], format: 'wav16', rate: 'model' }, /stems/],
    ['separate:export', { resultId: UUID, stems: [], format: 'wav16', rate: 'model', overwrite: 'yes' }, /overwrite/],
    ['models:rename', { id: 'a', name: '' }, /name/],
    ['models:delete', { id: 'a/../../b' }, /id/],
    ['job:cancel', { jobId: 42 }, /jobId/],
    ['train:start', { name: 'x', baseModelId: 'm', data: { kind: 'folders', folders: [{ path: '/s', class: 'speech' }] }, reweighting: [], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5 }, /speech folder and one env folder/],
    ['train:start', { name: 'x', baseModelId: 'm', data: { kind: 'corpus' }, reweighting: [{ class: { music: 3 } }], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5 }, /music/],
    ['train:start', { name: 'x', baseModelId: 'm', data: { kind: 'corpus' }, reweighting: [], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5, download: 'yes' }, /download must be true or false/],
    ['train:check', { data: { kind: 'folders', folders: [] } }, /1 to 256 folders/],
    ['train:start', { name: 'x', baseModelId: 'm', data: { kind: 'corpus' }, reweighting: [], steps: 10, batchSize: 2, segmentSec: 0.1, lr: 0.001, seed: 0, validateEvery: 5 }, /segmentSec must be a number in \[0\.25, 60\]/],
    ['train:check', { data: { kind: 'corpus' }, steps: 5 }, /unexpected field steps/],
    ['train:preview-weights', { reweighting: [], step: 11, totalSteps: 10 }, /step/],
    ['train:continue', { modelId: '../other-folder' }, /modelId/],
    ['train:continue', { modelId: 'run', steps: 5 }, /unexpected field steps/],
    ['models:list', null, /must be an object/],
    ['models:activate', { id: 'run', checkpoint: 'first' }, /checkpoint must be one of best, last/],
    ['models:activate', { id: 'run', step: 20 }, /unexpected field step/],
  ];
  for (const [channel, args, why] of bad) {
    assert.throws(() => validateArgs(channel, args), (e: unknown) => e instanceof BadRequest && why.test(e.message), `${channel} ${JSON.stringify(args)}`);
  }
});

test('well-formed arguments pass unchanged', () => {
  const ok: [Channel, unknown][] = [
    ['separate:start', { input: { kind: 'upload', id: UUID, name: 'take 1.wav' } }],
    ['separate:export', { resultId: UUID, stems: ['speech'], format: 'flac', rate: 'input', outDir: '/tmp/x' }],
    ['train:start', { name: 'x', baseModelId: 'default', data: { kind: 'folders', folders: [{ path: '/s', class: 'speech' }, { path: '/e', class: 'env' }] }, reweighting: [{ robust: { alpha: 0.2 } }, { class: { speech: 3, env: 0 } }], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5 }],
    ['train:start', { name: 'x', baseModelId: 'default', data: { kind: 'corpus' }, reweighting: [], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5, download: true }],
    ['train:check', { data: { kind: 'folders', folders: [{ path: '~/voices', class: 'speech' }] } }],
    ['train:continue', { modelId: 'my-fine-tune-2' }],
    ['models:activate', { id: 'my-run' }],
    ['models:activate', { id: 'my-run', checkpoint: 'last' }],
    ['train:preview-weights', { reweighting: [{ curriculum: { beta0: -0.5, schedule: 'cosine' } }], step: 3, totalSteps: 10 }],
  ];
  for (const [channel, args] of ok) assert.deepEqual(validateArgs(channel, args), args);
});
