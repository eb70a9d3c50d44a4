// Runs of clips: clips placed one after another at their drawn start, gaps and levels, cut where the
// room ends, faded at every edge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audibleClip, placeRun, type RunShape } from '../../../core/data/runs';
import type { Clip } from '../../../core/data/mixer';
import { Rng } from '../../../core/data/random';
import { energy } from '../../../core/dsp/energy';

const RATE = 8000;

function dc(id: string, seconds: number, level: number): Clip {
  return { id, class: 'env', label: id, split: 'test', audio: new Float32Array(Math.round(seconds * RATE)).fill(level) };
}

/** The stretches of non-zero samples: [start, end). */
function pieces(x: Float32Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i] === 0) continue;
    const start = i;
    while (i < x.length && x[i] !== 0) i++;
    out.push([start, i]);
  }
  return out;
}

test('a run: clips at unit RMS one after another from the drawn start, exactly the drawn gap apart, the last one cut at the end', () => {
  const shape: RunShape = { startSeconds: [0.25, 0.25], gapSeconds: [0.5, 0.5], gainDb: 0 };
  const dst = new Float32Array(4 * RATE).fill(7);
  const first = placeRun(dst, [dc('a', 1, 0.3)], new Rng(1), RATE, shape);
  assert.equal(first.id, 'a');
  // 0.25 s of silence, then 1 s clips every 1.5 s: at 0.25, 1.75 and 3.25 s (cut to 0.75 s).
  assert.deepEqual(pieces(dst), [[2000, 10000], [14000, 22000], [26000, 32000]]);
  // Unit RMS inside a clip (a constant 0.3 becomes 1), ramps of 10 ms at its edges.
  assert.ok(Math.abs(dst[5000]! - 1) < 1e-3);
  assert.ok(dst[2000]! < 0.02 && dst[9999]! < 0.02, 'faded in and out');
});

test('a clip longer than the room is cropped, gains stay within ±gainDb, inaudible clips are not placeable, and an empty pool is refused', () => {
  const shape: RunShape = { startSeconds: [0, 0], gapSeconds: [0, 0], gainDb: 6 };
  const dst = new Float32Array(RATE);
  placeRun(dst, [dc('long', 5, 0.1)], new Rng(2), RATE, shape);
  assert.deepEqual(pieces(dst), [[0, RATE]]);
  const rms = Math.sqrt(energy(dst.subarray(100, RATE - 100)) / (RATE - 200));
  assert.ok(rms >= 10 ** (-6 / 20) - 1e-3 && rms <= 10 ** (6 / 20) + 1e-3, `level ${rms}`);
  assert.equal(audibleClip(dc('quiet', 1, 1e-5)), false);
  assert.equal(audibleClip(dc('empty', 0, 1)), false);
  assert.equal(audibleClip(dc('heard', 1, 0.01)), true);
  assert.throws(() => placeRun(dst, [], new Rng(3), RATE, shape), /a run needs clips/);
});
