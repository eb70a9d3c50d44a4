import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { writeContained, type Contained } from '../../../core/data/unpack';
import { PACKAGES, PACKAGE_SETS, UNPACKED_DIR } from '../../../core/data/packages';
import { encodeWav, parseWav } from '../../../core/io/wav';
import { makeDisk, speech } from './containers/skyDisk';

let tmp: string;
before(async () => { tmp = await mkdtemp(join(tmpdir(), 'tilt-unpack-')); });
after(async () => { await rm(tmp, { recursive: true, force: true }); });

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...await walk(p));
    else out.push(p);
  }
  return out.sort();
}

const files = async (root: string) => (await walk(root)).map((f) => relative(root, f));

function items(reads: string[]): Contained[] {
  return ['a/one.wav', 'a/two.wav', 'b/three.txt'].map((path) => ({
    path, read: () => { reads.push(path); return new TextEncoder().encode(path); },
  }));
}

test('writeContained writes what keep accepts once, and again only when that changes', async () => {
  const root = join(tmp, 'once');
  const reads: string[] = [];
  await writeContained(root, 'out', items(reads), (rel) => rel.endsWith('.wav'));
  assert.deepEqual(await files(root), ['out/.tilt-unpacked.json', 'out/a/one.wav', 'out/a/two.wav']);
  assert.equal(await readFile(join(root, 'out/a/two.wav'), 'utf8'), 'a/two.wav');
  assert.deepEqual(reads, ['a/one.wav', 'a/two.wav']);

  await writeContained(root, 'out', items(reads), (rel) => rel.endsWith('.wav'));
  assert.equal(reads.length, 2, 'nothing read again');

  await writeContained(root, 'out', items(reads), (rel) => rel === 'out/b/three.txt');
  assert.deepEqual(await files(root), ['out/.tilt-unpacked.json', 'out/b/three.txt']);
});

test('an interrupted run leaves nothing that passes for done, and the next run starts clean', async () => {
  const root = join(tmp, 'crash');
  // What a crash mid-way leaves: a scratch folder half written, or a target from before without its list.
  await mkdir(join(root, 'out.partial/a'), { recursive: true });
  await writeFile(join(root, 'out.partial/a/one.wav'), 'half');
  await mkdir(join(root, 'out/old'), { recursive: true });
  await writeFile(join(root, 'out/old/stale.wav'), 'stale');
  const failing: Contained[] = [...items([]), { path: 'a/zz.wav', read: () => { throw new Error('disk on fire'); } }];
  await assert.rejects(writeContained(root, 'out', failing, () => true), /disk on fire/);
  assert.deepEqual(await files(join(root, 'out')), ['old/stale.wav'], 'the old folder is untouched');

  await writeContained(root, 'out', items([]), () => true);
  assert.deepEqual(await files(root), ['out/.tilt-unpacked.json', 'out/a/one.wav', 'out/a/two.wav', 'out/b/three.txt']);
  assert.equal(await readFile(join(root, 'out/a/one.wav'), 'utf8'), 'a/one.wav');
});

test('paths that would leave the unpack folder are refused', async () => {
  const evil: Contained[] = [{ path: 'a/../../escape.wav', read: () => new Uint8Array(1) }];
  await assert.rejects(writeContained(join(tmp, 'evil'), 'out', evil, () => true), /unsafe path in container: a\/\.\.\/\.\.\/escape\.wav/);
});

test('Beneath a Steel Sky: speech lines become 8-bit 11025 Hz WAVs, intro lines under their speaker', async () => {
  const root = join(tmp, 'sky');
  const lines = { 50005: speech(400, 1), 50700: speech(300, 2), 59504: speech(500, 3), 59501: speech(768, 4), 59561: speech(200, 5) };
  const { dnr, dsk } = makeDisk(Object.entries(lines).map(([n, body]) => ({ number: Number(n), body, mode: 'packed' as const })));
  const data = join(root, 'usr/share/scummvm/beneath-a-steel-sky');
  await mkdir(data, { recursive: true });
  await writeFile(join(data, 'sky.dnr'), dnr);
  await writeFile(join(data, 'sky.dsk'), dsk);
  const pkg = PACKAGES['beneath-a-steel-sky']!;
  await pkg.unpack!(root);
  const out = (await files(join(root, UNPACKED_DIR))).filter((f) => f.endsWith('.wav'));
  // 59501 is an intro palette and 59561 an intro line the game never plays: neither is extracted.
  assert.deepEqual(out, ['sky/intro/shaman/59504.wav', 'sky/section-0/50005.wav', 'sky/section-1/50700.wav']);
  const w = parseWav(await readFile(join(root, UNPACKED_DIR, 'sky/intro/shaman/59504.wav')));
  assert.equal(w.sampleRate, 11025);
  assert.equal(w.bitsPerSample, 8);
  assert.deepEqual(w.channels[0]!.map((x) => Math.round(x * 128 + 128)), Float32Array.from(lines[59504]));
  assert.deepEqual(pkg.label(`${UNPACKED_DIR}/sky/intro/shaman/59504.wav`), { class: 'speech', label: 'sky-shaman', group: 'speaker:sky-shaman' });
  assert.deepEqual(pkg.label(`${UNPACKED_DIR}/sky/section-1/50700.wav`), { class: 'speech', label: 'sky-section-1', group: 'sky-section-1/507' });
});

test('OpenSFX: jingles, voices and cartoon mixes stay in the archive; the rest are labelled by title', async () => {
  const root = join(tmp, 'opensfx');
  const wav = encodeWav([Float32Array.from({ length: 200 }, (_, i) => Math.sin(i))], 44100, { bits: 16, float: false });
  const names = ['"Good Year". Jingle.', '"Bad Year".', '"Splat (rail builds)". Original "kick_1.wav".', '"Tropical: Bird (1)". By someone.'];
  const table = Buffer.alloc(names.length * 8);
  const bodies: Buffer[] = [];
  let offset = table.length;
  for (const [i, n] of names.entries()) {
    const body = Buffer.concat([Buffer.from([n.length]), Buffer.from(n, 'latin1'), wav]);
    table.writeUInt32LE((offset | 0x80000000) >>> 0, i * 8);
    table.writeUInt32LE(wav.length, i * 8 + 4);
    bodies.push(body);
    offset += body.length;
  }
  const dir = join(root, 'usr/share/games/openttd/baseset/opensfx');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'opensfx.cat'), Buffer.concat([table, ...bodies]));
  const pkg = PACKAGES['openttd-opensfx']!;
  await pkg.unpack!(root);
  const out = (await files(join(root, UNPACKED_DIR))).filter((f) => f.endsWith('.wav'));
  assert.deepEqual(out, ['opensfx/02-splat-rail-builds.wav', 'opensfx/03-bird-1.wav']);
  assert.deepEqual(await readFile(join(root, UNPACKED_DIR, 'opensfx/03-bird-1.wav')), Buffer.from(wav));
  assert.equal(pkg.label(`${UNPACKED_DIR}/opensfx/03-bird-1.wav`)?.label, 'bird');
});

test('label rules of the other unpacked packages', () => {
  const label = (pkg: string, rel: string) => PACKAGES[pkg]!.label(`${UNPACKED_DIR}/${rel}`)?.label ?? null;
  assert.equal(label('openarena-data', 'sound/world/fire1.wav'), 'fire');
  assert.equal(label('openarena-data', 'sound/world/neonhum.wav'), null);
  assert.equal(label('openarena-data', 'sound/world/new/moan1.wav'), null);
  assert.equal(label('openarena-data', 'sound/player/footsteps/boot3.wav'), 'footsteps boot');
  assert.equal(label('openarena-data', 'sound/player/footsteps/energy1.wav'), null);
  assert.equal(label('openarena-data', 'sound/movers/doors/dr1_end.wav'), 'door');
  assert.equal(label('openarena-data', 'sound/weapons/rocket/rocklf1a.wav'), null);
  const gc = 'memory-sound/gcompris/src/activities/memory-sound/resource';
  assert.equal(label('gcompris-qt-data', `${gc}/LRFrogsInPondDuringStormLACut.ogg`), 'frogs in pond during storm');
  assert.equal(label('gcompris-qt-data', `${gc}/LRBark_3_LA_cut.ogg`), 'bark');
  assert.equal(label('gcompris-qt-data', `${gc}/guitar_son1.ogg`), null);
  assert.equal(label('gcompris-qt-data', `${gc}/LRWeird_2_LA.ogg`), null);
  assert.equal(label('gcompris-qt-data', 'canal_lock/gcompris/src/activities/canal_lock/resource/water_fill.wav'), 'water fill');
  assert.equal(label('0ad-data', 'audio/ambient/weather/rain_11.ogg'), 'rain');
  assert.equal(label('0ad-data', 'audio/attack/fire/sz11.ogg'), 'fire');
  assert.equal(label('0ad-data', 'audio/actor/singlesteps/fs_gravel3.ogg'), 'footstep gravel');
  for (const v of ['17', '17b']) {
    assert.deepEqual(PACKAGES['0ad-data']!.label(`${UNPACKED_DIR}/audio/attack/weapon/swordhit_${v}.ogg`),
      { class: 'env', label: 'swordhit', group: 'attack/weapon/swordhit' }, 'variants share a group');
  }
  assert.equal(label('0ad-data', 'audio/ambient/building/amb_trade_10.ogg'), null);
  assert.equal(label('0ad-data', 'audio/actor/human/death/male_death_01.ogg'), null);
  assert.equal(label('0ad-data', 'audio/voice/greek/civ/civ_male_attack_1.ogg'), null);
  assert.equal(label('0ad-data', 'audio/music/hellenic/Elysian_Fields.ogg'), null);
  assert.equal(label('0ad-data', 'audio/interface/alarm/alarm_attacked_gaia.ogg'), null);
  // Only files under the unpack folder count: the containers themselves are never clips.
  assert.equal(PACKAGES['0ad-data']!.label('usr/share/games/0ad/mods/public/audio/ambient/weather/rain_11.ogg'), null);
});

test('the new packages are in their sets: three for training, three held out', () => {
  for (const p of ['gcompris-qt-data', '0ad-data', 'btanks-data']) assert.ok(PACKAGE_SETS.full.includes(p), p);
  assert.ok(!PACKAGE_SETS.ci.includes('btanks-data') && !PACKAGE_SETS.heldout.includes('btanks-data'));
  assert.deepEqual(PACKAGE_SETS.heldout, ['beneath-a-steel-sky', 'openttd-opensfx', 'openarena-data']);
  for (const p of PACKAGE_SETS.heldout) assert.ok(!PACKAGE_SETS.full.includes(p) && !PACKAGE_SETS.ci.includes(p), p);
});
