// Long held-out mixtures: a conversation of real speech clips with pauses over a run of real sounds
// from one package, levelled to the drawn SNR, the same for a seed.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../../fixtures/test-audio';
import { loadClips, type Clip } from '../../../core/data/mixer';
import { longMixtures } from '../../../core/data/longMixtures';
import { TURNS } from '../../../core/data/runs';
import { energy } from '../../../core/dsp/energy';
import { MODEL_RATE } from '../../../core/types';

let clips: Clip[];
let packageOf: Map<string, string>;
before(async () => {
  const m = await ensureTestAudio();
  clips = await loadClips(m.entries, { cacheDir: TEST_AUDIO_DIR, splits: ['test'] });
  packageOf = new Map(m.entries.map((e) => [e.file, e.package]));
});

/** The longest run of exact zeros. */
function longestSilence(x: Float32Array): number {
  let best = 0;
  let run = 0;
  for (const v of x) {
    run = v === 0 ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

test('long mixtures: the sum of a speech source with pauses between turns and an env source from one package, at the drawn SNR', () => {
  const seconds = 20;
  const T = seconds * MODEL_RATE;
  const set = longMixtures(clips, packageOf, 4, { seconds, snrRange: [-5, 5], seed: 3 });
  assert.equal(set.length, 4);
  const envPackages = [...new Set(clips.filter((c) => c.class === 'env').map((c) => packageOf.get(c.id)!))].sort();
  assert.ok(envPackages.length >= 2, 'the CI audio has sounds of more than one package');
  for (const [k, b] of set.entries()) {
    assert.deepEqual([b.batch, b.nSrc, b.time, b.classes, b.mixtureTypes], [1, 2, T, [['speech', 'env']], ['speech+env']]);
    const speech = b.sources.subarray(0, T);
    const env = b.sources.subarray(T);
    for (let t = 0; t < T; t++) assert.equal(b.mixture[t], Math.fround(speech[t]! + env[t]!));
    assert.ok(Math.abs(10 * Math.log10(energy(speech) / energy(env)) - b.snrDb[0]!) < 1e-3);
    assert.ok(b.snrDb[0]! >= -5 && b.snrDb[0]! <= 5);
    assert.ok(Math.abs(energy(speech) * energy(env) - seconds ** 2) < 1e-3 * seconds ** 2, 'unit energy per second before the SNR gains');
    assert.ok(longestSilence(speech) >= TURNS.gapSeconds[0] * MODEL_RATE, 'pauses between turns');
    // Speech is heard in every 4 s window: a conversation, not one clip in a long silence.
    for (let w = 0; w + 4 * MODEL_RATE <= T; w += 4 * MODEL_RATE) assert.ok(energy(speech.subarray(w, w + 4 * MODEL_RATE)) > 0, `window at ${w / MODEL_RATE} s`);
    const [speechClip, envClip] = b.clipIds[0]!;
    assert.equal(clips.find((c) => c.id === speechClip)?.class, 'speech');
    assert.equal(packageOf.get(envClip!), envPackages[k % envPackages.length], 'packages in turn');
  }
  // The same for a seed, and another seed draws other files.
  const again = longMixtures(clips, packageOf, 2, { seconds, snrRange: [-5, 5], seed: 3 });
  assert.deepEqual(again.map((b) => b.mixture), set.slice(0, 2).map((b) => b.mixture));
  const other = longMixtures(clips, packageOf, 1, { seconds, snrRange: [-5, 5], seed: 4 });
  assert.notDeepEqual(other[0]!.mixture, set[0]!.mixture);
});

test('long mixtures refuse no length and a split without one of the classes', () => {
  assert.throws(() => longMixtures(clips, packageOf, 1, { seconds: 0, snrRange: [0, 0], seed: 1 }), /0 s is no length/);
  assert.throws(() => longMixtures(clips.filter((c) => c.class === 'speech'), packageOf, 1, { seconds: 10, snrRange: [0, 0], seed: 1 }), /need speech clips and env clips/);
});
