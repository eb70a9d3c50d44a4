// Stem names come from a model's metadata once, checked the same way for the app, the CLI and the models list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultStemNames, denoiserBlendFor, SeparationInputError, stemNamesOf } from '../../../core/separate/stems';

test('a model without names gets source1, source2, ...', () => {
  assert.deepEqual(defaultStemNames(3), ['source1', 'source2', 'source3']);
  assert.deepEqual(stemNamesOf(undefined, 2), ['source1', 'source2']);
  assert.deepEqual(stemNamesOf({ name: 'm' }, 2), ['source1', 'source2']);
  // A checkpoint whose outputs took no class saves stems: null.
  assert.deepEqual(stemNamesOf({ stems: null }, 2), ['source1', 'source2']);
});

test('names from metadata are returned as a copy when they fit the model and make safe file names', () => {
  const metadata = { stems: ['speech', 'env'] };
  const names = stemNamesOf(metadata, 2);
  assert.deepEqual(names, ['speech', 'env']);
  names.push('x');
  assert.deepEqual(metadata.stems, ['speech', 'env']);
});

test('bad names in metadata are refused, saying why', () => {
  const bad: [unknown, RegExp][] = [
    ['speech', /metadata\.stems must be a list of names \(got "speech"\)/],
    [['speech', 3], /must be a list of names/],
    [['speech'], /1 stem names given for 2 stems/],
    [['../x', 'env'], /stem name "\.\.\/x" must be letters, digits/],
    [['env', 'env'], /must be distinct/],
  ];
  for (const [stems, why] of bad) {
    assert.throws(() => stemNamesOf({ stems }, 2), (e: unknown) => e instanceof SeparationInputError && e.code === 'bad-input' && why.test(e.message), JSON.stringify(stems));
  }
});

test('the RNNoise blend finds the speech stem among the model\'s own stems; auto passes over models it does not fit, a fixed share is left to separation to refuse', () => {
  assert.deepEqual(denoiserBlendFor(0.5, ['speech', 'env'], true), { weight: 0.5, speechSlot: 0 });
  assert.deepEqual(denoiserBlendFor(1, ['env', 'speech'], true), { weight: 1, speechSlot: 1 });
  assert.deepEqual(denoiserBlendFor('auto', ['env', 'speech'], true), { weight: 'auto', speechSlot: 1 });
  assert.equal(denoiserBlendFor(0, ['source1', 'source2'], false), null, 'a share of 0 is no blend, whatever the stems');
  for (const [stems, fixed] of [[['source1', 'source2'], true], [['speech', 'env'], false], [['speech', 'env', 'music'], true]] as const) {
    assert.equal(denoiserBlendFor('auto', stems, fixed), null, `auto on ${stems.join('+')}, fixed slots ${fixed}`);
  }
  assert.throws(() => denoiserBlendFor(0.5, ['source1', 'source2'], true), /needs a stem named speech; this model's stems are source1, source2/);
  // checkBlend refuses it when separating (tests/core/separate/separate.test.ts, and with the same message in the app and CLI: tests/cli/separate.test.ts).
  assert.deepEqual(denoiserBlendFor(0.5, ['speech', 'env'], false), { weight: 0.5, speechSlot: 0 });
});
