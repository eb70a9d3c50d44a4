// A recording as the model hears it: streamed in blocks (separation) or loaded whole (the corpora),
// the same samples and the same refusals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioFileError } from '../../../core/io/audio';
import { loadMono, openModelInput } from '../../../core/io/input';
import { MODEL_RATE } from '../../../core/types';
import { ensureTestAudio, pkgFile } from '../../fixtures/test-audio';

const SILENCE = () => pkgFile('asterisk-core-sounds-en-wav', 'usr/share/asterisk/sounds/en_US_f_Allison/silence/1.wav');
const OGG = () => pkgFile('minetest-data', 'usr/share/games/minetest/games/minetest_game/mods/fire/sounds/fire_large.ogg');

let dir: string;
before(async () => {
  await ensureTestAudio();
  dir = await mkdtemp(join(tmpdir(), 'tilt-input-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('read in blocks, a recording gives the model the samples loading it whole gives', async () => {
  const whole = await loadMono(OGG(), MODEL_RATE, { quality: 'fast' });
  const source = await openModelInput(OGG());
  try {
    assert.equal(source.mono.sampleRate, MODEL_RATE);
    assert.equal(source.mono.channels, 1);
    assert.equal(source.mono.frames, whole.length);
    assert.equal(source.input.sampleRate, 44100);
    const block = 3000;
    const parts: Float32Array[] = [];
    for (let at = 0; at < source.mono.frames; at += block) parts.push((await source.mono.read(at, block))[0]!);
    const streamed = new Float32Array(whole.length);
    parts.reduce((at, p) => (streamed.set(p, at), at + p.length), 0);
    let diff = 0;
    for (let i = 0; i < whole.length; i++) diff = Math.max(diff, Math.abs(whole[i]! - streamed[i]!));
    assert.ok(diff < 1e-6, `block reads differ from the whole by ${diff}`);
    source.rejectSilence();
  } finally {
    await source.close();
  }
});

test('silence is refused once read, in blocks or whole; a folder is refused by name', async () => {
  const silent = await openModelInput(SILENCE());
  try {
    await silent.mono.read(0, silent.mono.frames);
    assert.throws(() => silent.rejectSilence(), (e: unknown) => e instanceof AudioFileError && e.message === `${SILENCE()}: silence only`);
  } finally {
    await silent.close();
  }
  await assert.rejects(loadMono(SILENCE()), (e: unknown) => e instanceof AudioFileError && e.message === `${SILENCE()}: silence only`);
  await assert.rejects(openModelInput(dir), (e: unknown) => e instanceof AudioFileError && e.reason === 'is a directory');
});
