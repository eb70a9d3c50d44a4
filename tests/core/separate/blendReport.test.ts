// The report of a blended separation: energy-weighted over windows, "disagreed" where the model and
// RNNoise agree less than at auto's midpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlendTally } from '../../../core/separate/blendReport';
import { RNNOISE_AUTO } from '../../../core/separate/defaults';

test('the report weighs each window by its speech energy; windows below auto\'s midpoint agreement count as disagreeing', () => {
  const tally = new BlendTally();
  assert.equal(tally.report(), null, 'nothing blended yet');
  tally.add({ agreementDb: RNNOISE_AUTO.agreementDb - 5, share: 0.6, speechEnergy: 1 });
  tally.add({ agreementDb: RNNOISE_AUTO.agreementDb + 5, share: 0, speechEnergy: 3 });
  tally.add({ agreementDb: RNNOISE_AUTO.agreementDb, share: 0.3, speechEnergy: 0 });
  const report = tally.report()!;
  assert.ok(Math.abs(report.disagreed - 0.25) < 1e-12, `disagreed ${report.disagreed}`);
  assert.ok(Math.abs(report.rnnoiseShare - 0.15) < 1e-12, `share ${report.rnnoiseShare}`);

  const silent = new BlendTally();
  silent.add({ agreementDb: 0, share: 0.6, speechEnergy: 0 });
  assert.equal(silent.report(), null, 'a silent speech stem has nothing to report');
});
