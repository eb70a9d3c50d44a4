import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobClock } from '../../../core/engine/eta';

test('elapsed time counts from the job\'s start; time left comes from the rate in the current stage, once it has run a second', () => {
  let now = 100;
  const clock = new JobClock(() => now);
  now = 100.5;
  assert.deepEqual(clock.at('decoding', 0.1), { elapsedSec: 0.5 }, 'too soon to tell');
  now = 102;
  // 0.4 of the stage in 2 s: 3 s for the 0.6 left.
  assert.deepEqual(clock.at('decoding', 0.4), { elapsedSec: 2, etaSec: 3 });
  now = 103;
  assert.deepEqual(clock.at('decoding', 1), { elapsedSec: 3, etaSec: 0 });
  // The next stage began when decoding last reported: its first report, half-way at 105, says 2 s are left.
  now = 105;
  assert.deepEqual(clock.at('separating', 0.5), { elapsedSec: 5, etaSec: 2 });
  now = 106;
  assert.deepEqual(clock.at('separating', 0.75), { elapsedSec: 6, etaSec: 1 });
  // A stage without a fraction has no time left.
  now = 110;
  assert.deepEqual(clock.at('writing', null), { elapsedSec: 10 });
  now = 110.5;
  assert.deepEqual(clock.at('checking', 0.9), { elapsedSec: 10.5 }, 'half a second into a stage is too soon');
  // A stage announced without a fraction starts there (loading the model before it is not its time).
  now = 113;
  assert.deepEqual(clock.at('decoding', null), { elapsedSec: 13 });
  now = 114.5;
  assert.deepEqual(clock.at('decoding', 0.5), { elapsedSec: 14.5, etaSec: 1.5 });
});
