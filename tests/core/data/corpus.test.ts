import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ensureTestAudio, TEST_AUDIO_DIR, pkgFile } from '../../fixtures/test-audio';
import { prepareCorpus, readPcm, type Manifest } from '../../../core/data/manifest';
import { assignSplits, SPLITS, type Splittable } from '../../../core/data/split';
import { parseDep5, licenceForPath, summariseLicence } from '../../../core/data/licence';
import { PACKAGES } from '../../../core/data/packages';

let m: Manifest;
before(async () => { m = await ensureTestAudio(); });

test('the ci manifest labels real clips by the rules and records licence, duration and split', async () => {
  assert.deepEqual(m.packages.map((p) => p.name), ['asterisk-core-sounds-en-wav', 'minetest-data', 'scratch']);
  const speech = m.entries.filter((e) => e.class === 'speech');
  const env = m.entries.filter((e) => e.class === 'env');
  assert.ok(speech.length > 500 && env.length > 100, `${speech.length} speech, ${env.length} env`);
  assert.ok(speech.every((e) => e.label === 'Allison' && e.package === 'asterisk-core-sounds-en-wav'), 'speaker from the voice folder');
  assert.ok(!m.entries.some((e) => /\/silence\/|Music Loops|\/Vocals\/|\/Instruments\//.test(e.file)), 'excluded folders');
  assert.ok(env.some((e) => e.label === 'dog') && env.some((e) => e.label === 'fire large'), 'labels from file names');
  assert.ok(m.entries.every((e) => e.licence.length > 0 && !/unknown/.test(e.licence)), 'licences');
  assert.ok(m.skipped.every((s) => /duplicate of/.test(s.reason)), 'only exact duplicates were dropped');
  // Duration is the length of the cached 8 kHz audio, and that audio is the real clip.
  const e = m.entries.find((x) => x.file.endsWith('en_US_f_Allison/activated.wav'))!;
  const pcm = await readPcm(join(TEST_AUDIO_DIR, e.pcm!));
  assert.equal(pcm.length, e.duration * 8000);
  assert.equal(pcm.length, 8512);
});

test('no voice group or source group crosses splits, and each split holds both classes', () => {
  const splitOf = new Map<string, string>();
  for (const e of m.entries) {
    const key = e.class === 'speech' ? `file:${e.file}` : e.group; // one speaker here: split by clip
    assert.equal(splitOf.get(key) ?? e.split, e.split, key);
    splitOf.set(key, e.split);
    assert.equal(splitOf.get(`file:${e.file}`) ?? e.split, e.split);
  }
  for (const cls of ['speech', 'env'] as const) {
    const total = m.entries.filter((e) => e.class === cls).reduce((s, e) => s + e.duration, 0);
    for (const s of SPLITS) {
      const share = m.entries.filter((e) => e.class === cls && e.split === s).reduce((a, e) => a + e.duration, 0) / total;
      assert.ok(share > (s === 'train' ? 0.6 : 0.04), `${cls} ${s} share ${share.toFixed(3)}`);
    }
  }
});

test('split assignment is deterministic, seeded, and holds out whole speakers when there are enough', () => {
  // Splits are keyed by paths inside the cache, so they do not depend on where the cache lives.
  const items: Splittable[] = m.entries.map((e) => ({ class: e.class, group: e.group, file: relative(TEST_AUDIO_DIR, e.file), duration: e.duration }));
  assert.deepEqual(assignSplits(items, { seed: 0 }), m.entries.map((e) => e.split));
  assert.notDeepEqual(assignSplits(items, { seed: 1 }), assignSplits(items, { seed: 0 }));
  // Ten speakers made from the real clips' durations: each speaker lands in exactly one split.
  const many = items.filter((i) => i.class === 'speech').map((i, k) => ({ ...i, group: `speaker:${k % 10}` }));
  const s = assignSplits(many, { seed: 3 });
  for (let k = 0; k < 10; k++) {
    const mine = new Set(s.filter((_, i) => i % 10 === k));
    assert.equal(mine.size, 1, `speaker ${k} in ${[...mine].join(', ')}`);
  }
  assert.deepEqual(new Set(s), new Set(SPLITS));
});

test('rebuilding the manifest reuses fetched packages and cached audio and gives the same result', async () => {
  const t0 = Date.now();
  const again = await prepareCorpus('ci', { cacheDir: TEST_AUDIO_DIR, seed: 0 });
  assert.deepEqual(again.entries, m.entries);
  assert.ok(Date.now() - t0 < 30_000, 'no re-download or re-decode');
  await assert.rejects(prepareCorpus(['no-such-package'], { cacheDir: TEST_AUDIO_DIR }), /unknown corpus package/);
});

test('licences come from the packages\' own Debian copyright files', async () => {
  const minetest = await readFile(pkgFile('minetest-data', 'usr/share/doc/minetest-data/copyright'), 'utf8');
  const stanzas = parseDep5(minetest);
  assert.equal(licenceForPath(stanzas, 'usr/share/games/minetest/games/minetest_game/mods/fire/sounds/fire_large.ogg'), 'CC-BY-SA-3.0');
  assert.equal(summariseLicence(minetest), 'LGPL-2.1+');
  assert.equal(summariseLicence('is free software; you can redistribute it under the GNU General Public License as published by the FSF; either version 2'), 'GPL-2+');
});

test('labelling rules leave out voice lines, spoken descriptions and music', () => {
  assert.equal(PACKAGES['megaglest-data']!.label('usr/share/games/megaglest/techs/megapack/factions/tech/units/worker/sounds/worker_ack1.wav'), null);
  assert.equal(PACKAGES['megaglest-data']!.label('usr/share/games/megaglest/techs/megapack/factions/tech/units/worker/sounds/worker_select2.wav'), null);
  assert.equal(PACKAGES['megaglest-data']!.label('usr/share/games/megaglest/tilesets/forest/sounds/rain.ogg')?.label, 'rain');
  assert.equal(PACKAGES['tuxpaint-stamps-default']!.label('usr/share/tuxpaint/stamps/animals/amphibians/frog-1_desc_be.ogg'), null);
  assert.equal(PACKAGES['tuxpaint-stamps-default']!.label('usr/share/tuxpaint/stamps/animals/amphibians/frog-1.ogg')?.label, 'frog');
  assert.equal(PACKAGES['widelands-data']!.label('usr/share/games/widelands/data/music/ingame_00.ogg'), null);
  const cs = PACKAGES['fillets-ng-data-cs']!.label('usr/share/games/fillets-ng/sound/airplane/cs/let-m-divna.ogg');
  assert.deepEqual(cs, { class: 'speech', label: 'fillets-cs-m', group: 'speaker:fillets-cs-m' });
  assert.equal(PACKAGES['asterisk-core-sounds-es-wav']!.label('usr/share/asterisk/sounds/es_MX_f_Allison/digits/1.wav')?.label, 'Allison');
});
test('flightgear and red eclipse keep their recordings and leave out callouts and synthesised sounds', () => {
  const fg = (rel: string) => PACKAGES['flightgear-data-base']!.label(`usr/share/games/flightgear/${rel}`);
  assert.equal(fg('Sounds/engine-prop.wav')?.label, 'engine prop');
  assert.equal(fg('Sounds/thunder2.wav')?.group, fg('Sounds/thunder3.wav')?.group);
  assert.equal(fg('Aircraft/c172p/Sounds/tires-rolling-gravel.wav')?.class, 'env');
  for (const dropped of ['Sounds/mk-viii/glideslope.wav', 'Sounds/tcas/female/climb.wav', 'Aircraft/c172p/Sounds/checklist1.wav',
    'Sounds/avionics-400Hz.wav', 'Sounds/beep.wav', 'Sounds/stall.wav', 'Sounds/wind-8khz.wav']) assert.equal(fg(dropped), null, dropped);
  const re = (rel: string) => PACKAGES['redeclipse-data']!.label(`usr/share/games/redeclipse/data/sounds/${rel}`)?.label ?? null;
  assert.equal(re('ambience/waterfall2.ogg'), 'waterfall');
  assert.equal(re('ambience/distant_cars.ogg'), 'distant traffic');
  assert.equal(re('ambience/morph/stormrain.ogg'), 'rain');
  for (const dropped of ['ambience/jumppad1.ogg', 'ambience/hum.ogg', 'ambience/morph/machine3.ogg', 'music/title.ogg', 'voice/yes.ogg']) {
    assert.equal(re(dropped), null, dropped);
  }
});
test('battle tanks keeps its ambiences, vehicles and fire and leaves out music, voices and synthesised effects', () => {
  const bt = (rel: string) => PACKAGES['btanks-data']!.label(`usr/share/games/btanks/data/${rel}`);
  assert.deepEqual(bt('sounds/train.ogg'), { class: 'env', label: 'train', group: 'btanks/train' });
  assert.equal(bt('sounds/ambient/city.ogg')?.label, 'city traffic');
  assert.equal(bt('sounds/helicopter.ogg')?.label, 'helicopter');
  assert.equal(bt('sounds/fire-fadeout.ogg')?.group, bt('sounds/fire.ogg')?.group, 'a fire and its tail stay together');
  assert.equal(bt('sounds/building-explosion2.ogg')?.group, bt('sounds/nuke-explosion.ogg')?.group);
  for (const dropped of ['tunes/glory.ogg', 'sounds/ambient/horror.ogg', 'sounds/ambient/space.ogg', 'sounds/submarine.ogg',
    'sounds/laugh01.ogg', 'sounds/deadman1.ogg', 'sounds/zombie.ogg', 'sounds/menu/select.ogg', 'sounds/klaxon.ogg',
    'sounds/vehicle-explosion2.ogg', 'sounds/tank-move.ogg']) assert.equal(bt(dropped), null, dropped);
});
