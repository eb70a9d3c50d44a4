// The model as scored is the model as users run it: the same separation, window included.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../core/backend';
import { modelSystem } from '../../../core/evaluation/systems';
import { separateSignal } from '../../../core/separate/separate';
import { BandSplitSeparator, longSpeech, maxAbsDiff } from '../separate/fixtures';

let speech20: Float32Array;

before(async () => {
  await initBackend('wasm');
  speech20 = longSpeech(20);
});

test('modelSystem separates in the window it is given (as `tilt separate --window`), the stems named by the model', async () => {
  const model = new BandSplitSeparator();
  // The stems' names in output order: the low band is called env here, the high band speech.
  const system = modelSystem('bands', model, ['env', 'speech'], { windowSec: 2 });
  const stems = await system.separate(speech20);
  // 2 s windows with 1.25 s hops (0.25 s margins and cross-fade) over 20 s: 16 chunks, one forward call each on wasm.
  assert.equal(model.calls, 16);
  const [low, high] = await separateSignal(model, speech20, { windowSec: 2 });
  assert.equal(maxAbsDiff(stems.env, low!), 0);
  assert.equal(maxAbsDiff(stems.speech, high!), 0);
  model.calls = 0;
  await modelSystem('bands', model, ['env', 'speech']).separate(speech20);
  // The default 8 s windows with 6 s hops: 3 chunks.
  assert.equal(model.calls, 3);
  model.dispose();
});
