import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainConfig, trainConfigJson } from '../../../core/train/config';

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
