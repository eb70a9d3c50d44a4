// Percentages and time left for each phase of a run, from the rate so far in the phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, PhaseClock, throttled } from '../../../core/train/progress';
import type { PhaseProgress } from '../../../core/train/progress';

test('time left comes from the rate since the phase began, once it has run 2 s; a new phase or a pause starts the timing afresh', () => {
  let now = 100;
  const clock = new PhaseClock(() => now);
  assert.equal(clock.at('download', 0, '').etaSeconds, null);
  now = 101;
  assert.equal(clock.at('download', 0.1, '').etaSeconds, null, 'too early to tell');
  now = 104;
  assert.equal(clock.at('download', 0.4, '').etaSeconds, 6, '0.4 in 4 s: 0.6 more takes 6 s');
  now = 105;
  assert.equal(clock.at('decode', 0.5, '').etaSeconds, null, 'decoding is timed on its own');
  now = 110;
  assert.equal(clock.at('decode', 0.75, '').etaSeconds, 5, 'from where the phase started: 0.25 in 5 s');
  clock.restart();
  now = 200;
  clock.at('decode', 0.8, '');
  now = 204;
  assert.equal(clock.at('decode', 0.9, '').etaSeconds, 4, 'the pause is no part of the rate');
});

test('corpus progress becomes phases: packages already on disk are nothing to wait for', () => {
  const clock = new PhaseClock(() => 0);
  assert.equal(clock.prepare({ phase: 'fetch', fraction: 1, pkg: 'scratch', index: 0, total: 3, stage: 'cached' }), null);
  assert.deepEqual(clock.prepare({ phase: 'fetch', fraction: 0.25, pkg: 'scratch', index: 1, total: 3, stage: 'download', bytes: 5e6 }), {
    phase: 'download', fraction: 0.25, etaSeconds: null, detail: 'downloading scratch (package 2 of 3)',
  });
  assert.deepEqual(clock.prepare({ phase: 'decode', done: 30, total: 120, file: '/a.wav' }), { phase: 'decode', fraction: 0.25, etaSeconds: null, detail: '30 of 120 files' });
});

test('reports are thinned out between a phase\'s first and last, which always pass', () => {
  const sent: number[] = [];
  const send = throttled((p: PhaseProgress) => sent.push(p.fraction), 60_000);
  const at = (phase: PhaseProgress['phase'], fraction: number) => send({ phase, fraction, etaSeconds: null, detail: '' });
  at('decode', 0);
  at('decode', 0.5);
  at('decode', 1);
  at('training', 0.1);
  at('training', 0.2);
  assert.deepEqual(sent, [0, 1, 0.1]);
  assert.deepEqual(['45 s', '12 min', '1 h 04 min'], [45, 12 * 60, 64 * 60].map(formatDuration));
});
