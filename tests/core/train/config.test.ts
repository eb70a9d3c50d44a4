import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseTrainConfig, trainConfigJson } from '../../../core/train/config';
import { mixtureSourceFor, splitMixer } from '../../../core/train/data';
import { DEFAULT_AUGMENT } from '../../../core/data/augment';
import { ConfigError } from '../../../core/schema';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';

test('a parsed config written back as JSON parses to the same config (what continuing a run starts from)', () => {
  const raws: unknown[] = [
    {},
    { name: 'fine', model: { from: '/models/base' }, data: { corpus: null, speechDirs: ['/s'], envDirs: ['/e'], snrDb: [-3, 7], mixtureTypes: { 'speech+env': 2, 'speech+speech': 1 } },
      optimizer: { lr: 3e-4, clipNorm: 2, schedule: { halveEvery: 3 } }, reweighting: { granularity: 'source', terms: [{ class: { speech: 3, env: 0 } }] } },
    { model: { preset: '0.5x', overrides: { nBlocks: 2 } }, optimizer: { schedule: { plateau: { patience: 4 } } }, reweighting: [{ robust: { alpha: 0.2 } }],
      validation: { mixtures: 8, batchSize: 4, seed: 9 }, rollbackAfter: 5, epochs: 3, stepsPerEpoch: 7 },
  ];
  for (const raw of raws) {
    const parsed = parseTrainConfig(raw);
    const json = JSON.parse(JSON.stringify(trainConfigJson(parsed))) as unknown;
    assert.deepEqual(parseTrainConfig(json), parsed, JSON.stringify(raw));
  }
  // The parsed form itself does not parse (its schedule has another shape): the conversion is needed.
  assert.throws(() => parseTrainConfig(JSON.parse(JSON.stringify(parseTrainConfig(raws[2])))), /optimizer\.schedule/);
});

function issuesOf(raw: unknown): string[] {
  try {
    parseTrainConfig(raw);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => `${i.path} ${i.message}`);
  }
  assert.fail(`parsed: ${JSON.stringify(raw)}`);
}

test('data.augment: absent or null is off, {} is DEFAULT_AUGMENT, fields override one by one', () => {
  assert.equal(parseTrainConfig({}).data.augment, null);
  assert.equal(parseTrainConfig({ data: { augment: null } }).data.augment, null);
  const defaults = parseTrainConfig({ data: { augment: {} } }).data.augment;
  assert.deepEqual(defaults, DEFAULT_AUGMENT);
  assert.notEqual(defaults, DEFAULT_AUGMENT, 'a copy');
  defaults!.speedRange[0] = 0.1;
  assert.equal(DEFAULT_AUGMENT.speedRange[0], 0.9, 'editing a parsed config leaves the defaults alone');
  const custom = parseTrainConfig({
    data: { augment: { reverb: 0.5, eqDb: 3, speedRange: [0.8, 1.25], envLayers: [1, 3], pauseFraction: [0.2, 0.2], bed: 0, codec: 1 } },
  }).data.augment;
  assert.deepEqual(custom, {
    ...DEFAULT_AUGMENT, reverb: 0.5, eqDb: 3, speedRange: [0.8, 1.25], envLayers: [1, 3], pauseFraction: [0.2, 0.2], bed: 0, codec: 1,
  });
  // A parsed config with augmentation writes back to JSON that parses to the same config.
  const withAug = parseTrainConfig({ data: { augment: { reverb: 0.1, layerGainDb: [-20, -6] } }, slots: 'pit' });
  assert.deepEqual(parseTrainConfig(JSON.parse(JSON.stringify(trainConfigJson(withAug))) as unknown), withAug);
});

test('data.augment.runs: a probability, off by default', () => {
  assert.equal(parseTrainConfig({ data: { augment: {} } }).data.augment!.runs, 0);
  assert.equal(parseTrainConfig({ data: { augment: { runs: 0.5 } } }).data.augment!.runs, 0.5);
  assert.equal(issuesOf({ data: { augment: { runs: 1.5 } } }).length, 1);
  assert.match(issuesOf({ data: { augment: { runs: -0.1 } } })[0]!, /^data\.augment\.runs /);
});

test('data.augment.absentSpeech / absentEnv: probabilities summing to at most 1, with fixed slots', () => {
  const config = parseTrainConfig({ data: { augment: { absentSpeech: 0.1, absentEnv: 0.05 } } });
  assert.equal(config.data.augment!.absentSpeech, 0.1);
  assert.equal(config.data.augment!.absentEnv, 0.05);
  assert.equal(parseTrainConfig({ data: { augment: {} } }).data.augment!.absentSpeech, 0, 'off by default');
  assert.deepEqual(issuesOf({ data: { augment: { absentSpeech: 0.7, absentEnv: 0.5 } } }), ['data.augment must have absentSpeech + absentEnv <= 1']);
  assert.deepEqual(issuesOf({ data: { augment: { absentSpeech: 0.1 } }, slots: 'pit' }), ['data.augment needs slots "fixed" for absentSpeech and absentEnv']);
});

test('data.augment: every bad field is named with its path and what it got', () => {
  assert.deepEqual(issuesOf({ data: { augment: { reverb: 2 } } }), ['data.augment.reverb must be <= 1 (got 2)']);
  assert.deepEqual(issuesOf({ data: { augment: { eq: -0.1 } } }), ['data.augment.eq must be >= 0 (got -0.1)']);
  assert.deepEqual(issuesOf({ data: { augment: { bed: '1' } } }), ['data.augment.bed must be a finite number (got "1")']);
  assert.deepEqual(issuesOf({ data: { augment: { eqDb: 30 } } }), ['data.augment.eqDb must be <= 24 (got 30)']);
  assert.deepEqual(issuesOf({ data: { augment: { speedRange: [1.2, 0.8] } } }),
    ['data.augment.speedRange must be [low, high] with 0.5 <= low <= high <= 2 (got [1.2,0.8])']);
  assert.deepEqual(issuesOf({ data: { augment: { reverbSeconds: [0.2, 5] } } }),
    ['data.augment.reverbSeconds must be [low, high] with 0.05 <= low <= high <= 3 (got [0.2,5])']);
  assert.match(issuesOf({ data: { augment: { pauseFraction: 0.3 } } })[0]!, /^data\.augment\.pauseFraction must be \[low, high\].*\(got 0\.3\)$/);
  assert.match(issuesOf({ data: { augment: { layerGainDb: [-6] } } })[0]!, /^data\.augment\.layerGainDb must be \[low, high\]/);
  assert.deepEqual(issuesOf({ data: { augment: { envLayers: [0.5, 2] } } }), ['data.augment.envLayers must be whole numbers (got [0.5,2])']);
  assert.match(issuesOf({ data: { augment: { reverbs: 1 } } })[0]!, /^data\.augment\.reverbs is not a known field \(expected "eq", .*"absentEnv"\)$/);
  assert.deepEqual(issuesOf({ data: { augment: 3 } }), ['data.augment must be an object (got 3)']);
  assert.deepEqual(issuesOf({ data: { augment: true } }), ['data.augment must be an object (got true)']);
  // All problems at once, each with its own path.
  const all = issuesOf({ data: { augment: { reverb: 2, speedRange: [1.2, 0.8], bedGainDb: [-3, -15] } }, slots: 'perm' });
  assert.equal(all.length, 4, all.join('; '));
  assert.deepEqual(all.map((i) => i.split(' ')[0]), ['data.augment.reverb', 'data.augment.speedRange', 'data.augment.bedGainDb', 'slots']);
});

test('slots defaults to fixed, takes pit, rejects anything else', () => {
  assert.equal(parseTrainConfig({}).slots, 'fixed');
  assert.equal(parseTrainConfig({ slots: 'fixed' }).slots, 'fixed');
  assert.equal(parseTrainConfig({ slots: 'pit' }).slots, 'pit');
  assert.deepEqual(issuesOf({ slots: 'perm' }), ['slots must be one of "fixed", "pit" (got "perm")']);
  assert.deepEqual(issuesOf({ slots: 1 }), ['slots must be one of "fixed", "pit" (got 1)']);
  assert.deepEqual(issuesOf({ slots: null }), ['slots must be one of "fixed", "pit" (got null)']);
});

test('data.corpus "heldout" parses (for evaluation) but is never trained on; unknown sets are named', async () => {
  const config = parseTrainConfig({ data: { corpus: 'heldout' } });
  assert.equal(config.data.corpus, 'heldout');
  await assert.rejects(mixtureSourceFor(config), /heldout.*never trained/);
  assert.equal(parseTrainConfig({ data: { corpus: 'full' } }).data.corpus, 'full');
  assert.deepEqual(issuesOf({ data: { corpus: 'huge' } }), ['data.corpus must be one of "ci", "full", "heldout" (got "huge")']);
});

test('the config augments the training split only: validation mixtures stay plain', async () => {
  const m = await ensureTestAudio();
  const data = parseTrainConfig({ data: { corpus: 'ci', segmentSeconds: 1, augment: {} } }).data;
  const plain = { ...data, augment: null };
  const validation = await splitMixer(data, m.entries, TEST_AUDIO_DIR, 'validation', 3);
  const validationPlain = await splitMixer(plain, m.entries, TEST_AUDIO_DIR, 'validation', 3);
  assert.deepEqual(validation.fixed(6, 'v'), validationPlain.fixed(6, 'v'));
  const trainMixer = await splitMixer(data, m.entries, TEST_AUDIO_DIR, 'train', 3);
  const trainPlain = await splitMixer(plain, m.entries, TEST_AUDIO_DIR, 'train', 3);
  assert.notDeepEqual(trainMixer.fixed(6, 't').sources, trainPlain.fixed(6, 't').sources);
});

test('folder paths may start with ~, the home folder (config files and text fields get no shell to expand it)', () => {
  const c = parseTrainConfig({
    model: { from: '~/models/base' },
    data: { corpus: null, speechDirs: ['~/voices', '/data/~speech'], envDirs: ['~'], esc50: '~/ESC-50', cacheDir: '~/.cache/tilt-x' },
  });
  const home = homedir();
  assert.deepEqual(c.model, { from: join(home, 'models/base') });
  assert.deepEqual(c.data.speechDirs, [join(home, 'voices'), '/data/~speech']);
  assert.deepEqual(c.data.envDirs, [home]);
  assert.equal(c.data.esc50, join(home, 'ESC-50'));
  assert.equal(c.data.cacheDir, join(home, '.cache/tilt-x'));
});

test('sizes that cannot train are rejected before any work, each naming its field', () => {
  const message = (raw: unknown) => {
    try {
      parseTrainConfig(raw);
      return 'accepted';
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
  };
  assert.match(message({ batchSize: 100000 }), /^batchSize must be <= 256 \(got 100000\)$/);
  assert.match(message({ model: { overrides: { encBasis: 1e8 } } }), /^model\.overrides\.encBasis must be <= 4096 \(got 100000000\)$/);
  assert.match(message({ model: { overrides: { nBlocks: 1e5 } } }), /^model\.overrides\.nBlocks must be <= 64/);
  assert.match(message({ model: { overrides: { nSources: 1 } } }), /^model\.overrides\.nSources must be >= 2 \(got 1\)$/);
  assert.match(message({ epochs: 1e9 }), /^epochs must be <= 100000/);
  // The same limits as the app's requests and the Train view (TRAIN_LIMITS).
  assert.match(message({ data: { segmentSeconds: 0.1 } }), /^data\.segmentSeconds must be >= 0\.25 \(got 0\.1\)$/);
  assert.match(message({ data: { segmentSeconds: 61 } }), /^data\.segmentSeconds must be <= 60 \(got 61\)$/);
  assert.match(message({ validation: { mixtures: 1e7 } }), /^validation\.mixtures must be <= 100000/);
  // Each field within its bounds, but together past the wasm heap: named with the estimate.
  assert.match(message({ batchSize: 200, data: { segmentSeconds: 30 } }), /^batchSize 200 x 30 s with this model needs about [\d.]+ GiB of activations per step, over the 3 GiB that fit/);
  // The paper's largest model on a batch of 4 x 4 s fits.
  assert.equal(message({ model: { preset: '1.0x' }, batchSize: 4, data: { segmentSeconds: 4 } }), 'accepted');
});
