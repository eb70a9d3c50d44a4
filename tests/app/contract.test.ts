// Main and the server validate everything the renderer sends before it reaches the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHANNELS, DESKTOP_ONLY, isChannel, isEvent, TRAIN_LIMITS as CONTRACT_LIMITS, type Channel, type TrainParams } from '../../app/contract';
import { BadRequest, validateArgs, validateStemDrag, validateStemFile } from '../../app/validate';
import { TRAIN_LIMITS } from '../../core/types';
import { parseTrainConfig } from '../../core/train/config';
import { parseReweightConfig } from '../../core/reweighting';
import { trainConfigFor } from '../../core/engine/training';

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
    ['separate:start', { input: { kind: 'path', path: '/a.wav' }, windowSeconds: 0.5 }, /windowSeconds/],
    ['separate:start', { input: { kind: 'path', path: '/a.wav' }, windowSeconds: 31 }, /windowSeconds/],
    ['separate:start', { input: { kind: 'path', path: '/a.wav' }, windowSeconds: '2' }, /windowSeconds/],
    ['separate:start', { input: { kind: 'path', path: '/a.wav' }, rnnoiseBlend: 1.5 }, /rnnoiseBlend/],
    ['separate:start', { input: { kind: 'path', path: '/a.wav' }, rnnoiseBlend: -0.5 }, /rnnoiseBlend/],
    ['separate:start', { input: { kind: 'path', path: '/a.wav' }, rnnoiseBlend: 'half' }, /rnnoiseBlend/],
    ['separate:export', { resultId: UUID, stems: ['../x'], format: 'wav16', rate: 'model' }, /stems/],
    ['separate:export', { resultId: UUID, stems: [], format: 'wav16', rate: 'model', overwrite: 'yes' }, /overwrite/],
    ['models:rename', { id: 'a', name: '' }, /name/],
    ['models:delete', { id: 'a/../../b' }, /id/],
    ['job:cancel', { jobId: 42 }, /jobId/],
    ['train:start', { name: 'x', baseModelId: 'm', data: { kind: 'folders', folders: [{ path: '/s', class: 'speech' }] }, reweighting: [], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5 }, /speech folder and one env folder/],
    ['train:start', { name: 'x', baseModelId: 'm', data: { kind: 'corpus' }, reweighting: [{ class: { music: 3 } }], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5 }, /music/],
    ['train:start', { name: 'x', baseModelId: 'm', data: { kind: 'corpus' }, reweighting: [], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5, download: 'yes' }, /download must be true or false/],
    ['train:check', { data: { kind: 'folders', folders: [] } }, /1 to 256 folders/],
    ['train:start', { name: 'x', baseModelId: 'm', data: { kind: 'corpus' }, reweighting: [], steps: 10, batchSize: 2, segmentSec: 0.1, lr: 0.001, seed: 0, validateEvery: 5 }, /^segmentSec must be >= 0\.25 \(got 0\.1\)$/],
    ['train:check', { data: { kind: 'corpus' }, steps: 5 }, /steps is not a known field \(expected "data"\)/],
    ['train:preview-weights', { reweighting: [], step: 11, totalSteps: 10 }, /step/],
    ['train:continue', { modelId: '../other-folder' }, /modelId/],
    ['train:continue', { modelId: 'run', steps: 5 }, /steps is not a known field/],
    ['models:list', null, /must be an object/],
    ['models:activate', { id: 'run', checkpoint: 'first' }, /checkpoint must be one of "best", "last" \(got "first"\)/],
    ['models:activate', { id: 'run', step: 20 }, /step is not a known field/],
  ];
  for (const [channel, args, why] of bad) {
    assert.throws(() => validateArgs(channel, args), (e: unknown) => e instanceof BadRequest && why.test(e.message), `${channel} ${JSON.stringify(args)}`);
  }
});

test('a stem file of a result is held to one schema: separate:export, the desktop drag and the stem download', () => {
  const file = { resultId: UUID, stem: 'speech', format: 'wav24', rate: 'model' } as const;
  assert.deepEqual(validateStemFile(file, 'stem download'), file);
  assert.deepEqual(validateStemDrag({ ...file, start: true }), { ...file, start: true });
  // [the change, the problem named, as separate:export names it where it differs]
  const bad: [Record<string, unknown>, RegExp, RegExp?][] = [
    [{ resultId: '../../etc' }, /^resultId is not a valid id \(got "\.\.\/\.\.\/etc"\)$/],
    [{ resultId: 'default' }, /^resultId is not a valid id/],
    [{ stem: '../x' }, /^stem is not a valid stem name \(got "\.\.\/x"\)$/, /^stems\[0\] is not a valid stem name \(got "\.\.\/x"\)$/],
    [{ stem: 'x'.repeat(65) }, /^stem is not a valid stem name/, /^stems\[0\] is not a valid stem name/],
    [{ stem: '' }, /^stem is not a valid stem name/, /^stems\[0\] is not a valid stem name/],
    [{ format: 'mp3' }, /^format must be one of "wav16", "wav24", "wav32f", "flac" \(got "mp3"\)$/],
    [{ rate: 'fast' }, /^rate must be one of "model", "input" \(got "fast"\)$/],
    [{ path: '/etc/passwd' }, /\.path is not a known field \(expected "resultId", "stem", "format", "rate"/, /^separate:export\.path is not a known field \(expected "resultId", "format", "rate", "stems"/],
  ];
  for (const [change, why, whyExport = why] of bad) {
    const args = { ...file, ...change };
    const refuses = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof BadRequest && re.test(e.message), JSON.stringify(change));
    refuses(() => validateStemFile(args, 'stem download'), why);
    refuses(() => validateStemDrag({ ...args, start: false }), why);
    // separate:export names its stems in a list, by the same stem rule.
    const { stem, ...rest } = args;
    refuses(() => validateArgs('separate:export', { ...rest, stems: [stem] }), whyExport);
  }
  assert.throws(() => validateStemFile(null, 'stem download'), /^BadRequest: stem download must be an object \(got null\)$/);
  assert.throws(() => validateStemFile({ ...file, start: true }, 'stem download'), /stem download\.start is not a known field/);
  assert.throws(() => validateStemDrag(file), /^BadRequest: start must be true or false \(got nothing\)$/);
});

test('well-formed arguments pass unchanged', () => {
  const ok: [Channel, unknown][] = [
    ['separate:start', { input: { kind: 'upload', id: UUID, name: 'take 1.wav' } }],
    ['separate:start', { input: { kind: 'path', path: '/a.wav' }, windowSeconds: 2 }],
    ['separate:start', { input: { kind: 'path', path: '/a.wav' }, rnnoiseBlend: 0.5 }],
    ['separate:start', { input: { kind: 'path', path: '/a.wav' }, rnnoiseBlend: 'auto' }],
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

test('every bad field of a request is named at once, each with its path and what it got', () => {
  const args = { name: 'x', baseModelId: '../m', data: { kind: 'folders', folders: [{ path: '/s', class: 'music' }] }, reweighting: [{ robust: { alpha: -1 } }], steps: 10, batchSize: 0, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5, download: 'yes' };
  assert.throws(() => validateArgs('train:start', args), (e: unknown) => {
    assert.ok(e instanceof BadRequest);
    assert.deepEqual(e.issues.map((i) => `${i.path} ${i.message}`), [
      'baseModelId is not a valid id (got "../m")',
      'data.folders[0].class must be one of "speech", "env" (got "music")',
      'reweighting[0].robust.alpha must be >= 0 (got -1)',
      'batchSize must be >= 1 (got 0)',
      'download must be true or false (got "yes")',
    ]);
    return true;
  });
});

test('a request from the app is held to the same limits as `tilt train`\'s config and the Train view', () => {
  // The renderer reads its inputs' limits from the contract: they are core's.
  assert.equal(CONTRACT_LIMITS, TRAIN_LIMITS);
  const params: TrainParams = { name: 'x', baseModelId: 'm', data: { kind: 'corpus' }, reweighting: [], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5 };
  const accepts = (f: () => unknown) => {
    try {
      f();
      return true;
    } catch {
      return false;
    }
  };
  const edges = (l: { min: number; max: number }, step: number) => [l.min - step, l.min, l.max, l.max + step];
  const values: Record<string, number[]> = {
    segmentSec: edges(TRAIN_LIMITS.segmentSeconds, 0.01),
    batchSize: [...edges(TRAIN_LIMITS.batchSize, 1), 2.5],
    lr: edges(TRAIN_LIMITS.lr, 1e-8),
    seed: [-1, 0, 2 ** 31, 1.5],
    validateEvery: [0, 1, 10, 2.5],
  };
  for (const [field, vs] of Object.entries(values)) {
    for (const v of vs) {
      const p: TrainParams = { ...params, [field]: v };
      const request = accepts(() => validateArgs('train:start', p));
      // The run's config, checked the way `tilt train --config` checks one (the memory check aside: no preset here).
      const config = accepts(() => parseTrainConfig(trainConfigFor(p, '/models/base', 'run')));
      assert.equal(request, config, `${field} ${v}: the request ${request ? 'accepts' : 'refuses'} it, the config ${config ? 'accepts' : 'refuses'} it`);
    }
  }
  // A request the run's config would refuse (more validations than a run's epochs) is refused up front.
  const often = { ...params, steps: TRAIN_LIMITS.steps.max, validateEvery: 10 };
  assert.throws(() => parseTrainConfig(trainConfigFor(often, '/models/base', 'run')), /^ConfigError: epochs must be <= 100000/);
  assert.throws(() => validateArgs('train:start', often), /^BadRequest: validateEvery must be >= 100 for 10000000 steps/);
  assert.doesNotThrow(() => validateArgs('train:start', { ...often, validateEvery: 100 }));
  assert.doesNotThrow(() => parseTrainConfig(trainConfigFor({ ...often, validateEvery: 100 }, '/models/base', 'run')));
});

test('a request\'s reweighting terms are checked by the config\'s term schema: same verdicts, same reasons', () => {
  const terms: unknown[] = [
    { uniform: {} }, { robust: { alpha: 0.2 } }, { robust: { alpha: -1 } }, { class: { speech: 3 } }, { class: { music: 1 } },
    { curriculum: { beta0: -0.5, schedule: 'cosine' } }, { curriculum: { beta0: -0.5, schedule: 'linear', rate: 2 } }, { robustt: {} }, 'robust',
  ];
  for (const term of terms) {
    let config = 'ok';
    try {
      parseReweightConfig([term]);
    } catch (e) {
      config = (e as Error).message.replace(/^terms\[0\]/, 'reweighting[0]');
    }
    let request = 'ok';
    try {
      validateArgs('train:preview-weights', { reweighting: [term], step: 0, totalSteps: 10 });
    } catch (e) {
      request = (e as Error).message;
    }
    assert.equal(request, config, JSON.stringify(term));
  }
});
