// The speech shipped for adapting to a recording: five minutes from every training speech package
// in even shares, none from the held-out packages, each clip with its source and licence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { audible } from '../../../core/dsp/energy';
import { PACKAGE_SETS } from '../../../core/data/packages';
import { loadSpeechBank, SPEECH_BANK_DIR, SPEECH_BANK_INDEX, type SpeechBankIndex } from '../../../core/data/speechBank';
import { MODEL_RATE } from '../../../core/types';

test('the shipped speech bank: training packages only, in even shares, every clip audible and credited', async () => {
  const clips = await loadSpeechBank();
  const index = JSON.parse(await readFile(join(SPEECH_BANK_DIR, SPEECH_BANK_INDEX), 'utf8')) as SpeechBankIndex;
  assert.equal(clips.length, index.clips.length);
  const seconds = clips.reduce((s, c) => s + c.audio.length, 0) / MODEL_RATE;
  assert.ok(seconds >= 290 && seconds <= 310, `${seconds} s`);
  const byPackage = new Map<string, number>();
  for (const c of index.clips) byPackage.set(c.package, (byPackage.get(c.package) ?? 0) + c.length / MODEL_RATE);
  assert.ok(byPackage.size >= 8, [...byPackage.keys()].join());
  for (const [pkg, s] of byPackage) {
    assert.ok(PACKAGE_SETS.full.includes(pkg) && !PACKAGE_SETS.heldout.includes(pkg), pkg);
    assert.ok(Math.abs(s - seconds / byPackage.size) < 8, `${pkg}: ${s.toFixed(1)} s`);
  }
  for (const [i, c] of index.clips.entries()) {
    assert.ok(c.licence.length > 0 && !c.file.startsWith('/'), JSON.stringify(c));
    assert.ok(audible(clips[i]!.audio), c.file);
    assert.equal(clips[i]!.class, 'speech');
  }
  await assert.rejects(loadSpeechBank(join(SPEECH_BANK_DIR, 'missing')), /ENOENT/);
});
