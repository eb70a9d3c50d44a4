import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReweightConfig } from '../../../core/reweighting';
import { favouredClass, isTiltName, TILT_PRESETS, TILTS, tiltOf, withTilt } from '../../../core/reweighting/presets';
import { parseTrainConfig } from '../../../core/train/config';

test('every preset is a valid reweighting scheme that names itself, and favours the class it says', () => {
  for (const t of TILTS) {
    const parsed = parseReweightConfig(TILT_PRESETS[t].reweighting);
    assert.deepEqual(parsed, TILT_PRESETS[t].reweighting);
    assert.equal(tiltOf(parsed), t);
  }
  assert.equal(favouredClass(TILT_PRESETS.speech.reweighting.terms), 'speech');
  assert.equal(favouredClass(TILT_PRESETS.env.reweighting.terms), 'env');
  assert.equal(favouredClass(TILT_PRESETS.none.reweighting.terms), null);
  assert.equal(tiltOf({ granularity: 'source', terms: [{ class: { speech: 2, env: 0 } }] }), null, 'another gamma is not the preset');
});

test('favouredClass sums class terms and names no class on a tie or without them', () => {
  assert.equal(favouredClass([{ robust: { alpha: 0.2 } }]), null);
  assert.equal(favouredClass([{ class: { speech: 1, env: 1 } }]), null);
  assert.equal(favouredClass([{ class: { speech: 2 } }, { class: { env: 3 } }]), 'env');
  assert.equal(favouredClass([{ class: { speech: -1 } }]), 'env', 'a negative speech logit favours env');
});

test('withTilt replaces the reweighting and keeps every other field of the config', () => {
  const raw = { name: 'mine', batchSize: 4, reweighting: [{ robust: { alpha: 0.5 } }], data: { corpus: 'ci' } };
  const tilted = withTilt(raw, 'env');
  assert.deepEqual({ ...tilted, reweighting: undefined }, { ...raw, reweighting: undefined });
  const config = parseTrainConfig(tilted);
  assert.deepEqual(config.reweighting, TILT_PRESETS.env.reweighting);
  assert.deepEqual(raw.reweighting, [{ robust: { alpha: 0.5 } }], 'the input is not changed');
  assert.throws(() => withTilt([], 'speech'), /a training config is a JSON object/);
  assert.ok(isTiltName('none') && !isTiltName('sideways'));
});
