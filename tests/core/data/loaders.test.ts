import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, copyFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ensureTestAudio, pkgFile } from '../../fixtures/test-audio';
import { loadEsc50, loadSpeechFolders, loadClassFolders } from '../../../core/data/loaders';
import { readAudioFile, encodeAudio } from '../../../core/io/audio';

const ALLISON = 'usr/share/asterisk/sounds/en_US_f_Allison';
const allison = (n: string) => pkgFile('asterisk-core-sounds-en-wav', `${ALLISON}/${n}.wav`);
const scratch = (n: string) => pkgFile('scratch', `usr/share/scratch/Media/Sounds/${n}`);
const mt = (n: string) => pkgFile('minetest-data', `usr/share/games/minetest/games/minetest_game/mods/${n}`);

let root: string;
let cacheDir: string;
before(async () => {
  await ensureTestAudio();
  root = await mkdtemp(join(tmpdir(), 'tilt-loaders-'));
  cacheDir = join(root, 'cache');
});
after(() => rm(root, { recursive: true, force: true }));

/** Real clips re-encoded as the 44.1 kHz WAVs ESC-50 ships. */
async function asWav(src: string, dst: string): Promise<void> {
  const a = await readAudioFile(src);
  await writeFile(dst, await encodeAudio(a.channels, a.sampleRate, 'wav16'));
}

test('ESC-50 layout: categories become labels and folds become splits', async () => {
  const esc = join(root, 'esc50');
  await mkdir(join(esc, 'audio'), { recursive: true });
  await mkdir(join(esc, 'meta'));
  const rows = [
    ['1-100-A-0.wav', 1, 0, 'dog', scratch('Animal/Dog1.wav'), '100'],
    ['2-101-A-0.wav', 2, 0, 'dog', scratch('Animal/Dog2.wav'), '101'],
    ['3-102-A-5.wav', 3, 5, 'cat', scratch('Animal/Meow.wav'), '102'],
    ['4-103-A-5.wav', 4, 5, 'cat', scratch('Animal/Kitten.wav'), '103'],
    ['5-104-A-10.wav', 5, 10, 'rain', mt('default/sounds/default_water_footstep.1.ogg'), '104'],
  ] as const;
  for (const r of rows) await asWav(r[4], join(esc, 'audio', r[0]));
  await writeFile(join(esc, 'meta', 'esc50.csv'), ['filename,fold,target,category,esc10,src_file,take',
    ...rows.map((r) => `${r[0]},${r[1]},${r[2]},${r[3]},False,${r[5]},A`)].join('\n'));
  const { entries, skipped } = await loadEsc50(esc, { cacheDir });
  assert.deepEqual(skipped, []);
  assert.deepEqual(entries.map((e) => [e.label, e.split, e.class]), [
    ['dog', 'train', 'env'], ['dog', 'train', 'env'], ['cat', 'train', 'env'], ['cat', 'validation', 'env'], ['rain', 'test', 'env'],
  ]);
  assert.ok(entries.every((e) => e.duration > 0.1), 'durations');
  const custom = await loadEsc50(esc, { cacheDir, folds: { 1: 'test', 2: 'test', 3: 'train', 4: 'train', 5: 'validation' } });
  assert.deepEqual(custom.entries.map((e) => e.split), ['test', 'test', 'train', 'train', 'validation']);
  await writeFile(join(esc, 'meta', 'esc50.csv'), 'name,fold\nx.wav,1\n');
  await assert.rejects(loadEsc50(esc, { cacheDir }), /no "filename" column/);
});

test('speech folders: one folder per speaker, WAV and FLAC, split by speaker when asked', async () => {
  const sp = join(root, 'speech');
  const speakers = { anna: ['activated', 'added', 'agent-alreadyon'], ben: ['agent-incorrect', 'agent-loggedoff'], cleo: ['agent-loginok', 'agent-newlocation'] };
  for (const [name, clips] of Object.entries(speakers)) {
    await mkdir(join(sp, name, 'session1'), { recursive: true });
    for (const c of clips) await copyFile(allison(c), join(sp, name, 'session1', `${c}.wav`));
  }
  const a = await readAudioFile(allison('auth-thankyou'));
  await writeFile(join(sp, 'cleo', 'thanks.flac'), await encodeAudio(a.channels, a.sampleRate, 'flac'));
  await writeFile(join(sp, 'cleo', 'broken.wav'), new Uint8Array(0));
  const { entries, skipped } = await loadSpeechFolders(sp, { cacheDir, minSpeakers: 3, fractions: { train: 0.34, validation: 0.33, test: 0.33 } });
  assert.equal(entries.length, 8);
  assert.deepEqual(skipped.map((s) => [s.file.endsWith('broken.wav'), s.reason]), [[true, 'empty file']]);
  assert.ok(entries.every((e) => e.class === 'speech'), 'speech');
  assert.deepEqual([...new Set(entries.map((e) => e.label))].sort(), ['anna', 'ben', 'cleo']);
  const splitsOf = (who: string) => new Set(entries.filter((e) => e.label === who).map((e) => e.split));
  for (const who of ['anna', 'ben', 'cleo']) assert.equal(splitsOf(who).size, 1, who);
  assert.equal(new Set(entries.map((e) => e.split)).size, 3);
});

test('class folders: folder name is the label, "speech" is speech unless mapped otherwise', async () => {
  const cf = join(root, 'classes');
  for (const d of ['speech', 'dog', 'footsteps', 'music']) await mkdir(join(cf, d), { recursive: true });
  await copyFile(allison('activated'), join(cf, 'speech', 'a.wav'));
  await copyFile(allison('added'), join(cf, 'speech', 'b.wav'));
  await copyFile(scratch('Animal/Dog1.wav'), join(cf, 'dog', 'dog.1.wav'));
  await copyFile(scratch('Animal/Dog2.wav'), join(cf, 'dog', 'dog.2.wav'));
  await copyFile(mt('default/sounds/default_grass_footstep.1.ogg'), join(cf, 'footsteps', 'grass.ogg'));
  await copyFile(scratch('Effects/Typing.mp3'), join(cf, 'music', 'typing.mp3'));
  const { entries } = await loadClassFolders(cf, { cacheDir });
  const byLabel = Object.fromEntries(entries.map((e) => [e.label, e.class]));
  assert.deepEqual(byLabel, { speech: 'speech', dog: 'env', footsteps: 'env', music: 'env' });
  const dogs = entries.filter((e) => e.label === 'dog');
  assert.equal(dogs.length, 2);
  assert.equal(dogs[0]!.split, dogs[1]!.split); // numbered variants of one recording stay together
  const mapped = await loadClassFolders(cf, { cacheDir, classOf: (f) => (f === 'music' ? null : f === 'speech' ? 'speech' : 'env') });
  assert.ok(!mapped.entries.some((e) => e.label === 'music'), 'music folder left out');
});

const PROMPTS = ['activated', 'added', 'agent-alreadyon', 'agent-incorrect', 'agent-loggedoff', 'agent-loginok', 'agent-newlocation', 'agent-pass', 'agent-user', 'auth-thankyou'];

test('a flat speech folder: every file is its own split unit, in seeded order; other files are reported, hidden ones ignored', async () => {
  const flat = join(root, 'flat-speech');
  await mkdir(flat, { recursive: true });
  for (const p of PROMPTS) await copyFile(allison(p), join(flat, `${p}.wav`));
  await writeFile(join(flat, 'notes.txt'), 'recorded at home');
  await writeFile(join(flat, '.DS_Store'), 'x');
  await writeFile(join(flat, '._activated.wav'), 'AppleDouble');
  const { entries, skipped, layout } = await loadSpeechFolders(flat, { cacheDir });
  assert.deepEqual(layout, { subfolders: [], looseFiles: 10 });
  assert.equal(entries.length, 10);
  assert.ok(entries.every((e) => e.class === 'speech' && e.label === 'flat-speech'));
  assert.equal(new Set(entries.map((e) => e.group)).size, 10, 'one split unit per file');
  assert.deepEqual(skipped.map((s) => [s.file.endsWith('notes.txt'), /not a format Tilt reads \(\.txt\)/.test(s.reason)]), [[true, true]]);
  const count = (s: string) => entries.filter((e) => e.split === s).length;
  assert.ok(count('train') >= 6 && count('validation') >= 1 && count('test') >= 1, JSON.stringify(entries.map((e) => e.split)));
  const again = await loadSpeechFolders(flat, { cacheDir });
  assert.deepEqual(again.entries.map((e) => e.split), entries.map((e) => e.split), 'the same seed gives the same split');
  const seeds = await Promise.all([1, 2, 3].map((seed) => loadSpeechFolders(flat, { cacheDir, seed })));
  assert.ok(seeds.some((r) => r.entries.some((e, i) => e.split !== entries[i]!.split)), 'the seed decides the split');
});

test('speakers in sub-folders and files beside them: sub-folders name speakers, loose files stay apart', async () => {
  const mixed = join(root, 'mixed-speech');
  await mkdir(join(mixed, 'anna'), { recursive: true });
  await mkdir(join(mixed, 'ben', 'take2'), { recursive: true });
  await copyFile(allison('activated'), join(mixed, 'anna', 'a.wav'));
  await copyFile(allison('added'), join(mixed, 'ben', 'take2', 'b.wav'));
  await copyFile(allison('agent-pass'), join(mixed, 'loose.wav'));
  const { entries, layout } = await loadSpeechFolders(mixed, { cacheDir });
  assert.deepEqual(layout, { subfolders: ['anna', 'ben'], looseFiles: 1 });
  assert.deepEqual(entries.map((e) => [e.label, e.group]), [['anna', 'speaker:anna'], ['ben', 'speaker:ben'], ['mixed-speech', 'file:mixed-speech/loose.wav']]);
});

test('a flat env folder: files labelled with the folder, numbered variants of a recording in one split', async () => {
  const env = join(root, 'street');
  await mkdir(env, { recursive: true });
  await copyFile(scratch('Animal/Dog1.wav'), join(env, 'dog.1.wav'));
  await copyFile(scratch('Animal/Dog2.wav'), join(env, 'dog.2.wav'));
  await copyFile(scratch('Animal/Duck.wav'), join(env, 'duck.wav'));
  await copyFile(mt('default/sounds/default_grass_footstep.1.ogg'), join(env, 'grass.ogg'));
  await writeFile(join(env, 'playlist.m3u'), '#EXTM3U');
  const { entries, skipped, layout } = await loadClassFolders(env, { cacheDir, classOf: () => 'env' });
  assert.deepEqual(layout, { subfolders: [], looseFiles: 4 });
  assert.deepEqual(entries.map((e) => [e.label, e.class]), Array(4).fill(['street', 'env']));
  const dogs = entries.filter((e) => e.file.includes('dog.'));
  assert.equal(dogs[0]!.split, dogs[1]!.split);
  assert.match(skipped[0]!.reason, /\.m3u/);
});

test('a moved folder keeps its splits: files are split by their paths inside it', async () => {
  const a = join(root, 'first-home', 'voices');
  await mkdir(a, { recursive: true });
  for (const p of PROMPTS) await copyFile(allison(p), join(a, `${p}.wav`));
  const before = await loadSpeechFolders(a, { cacheDir });
  const b = join(root, 'second-home', 'recordings', 'voices');
  await mkdir(join(root, 'second-home', 'recordings'), { recursive: true });
  await rename(a, b);
  const after = await loadSpeechFolders(b, { cacheDir });
  assert.deepEqual(after.entries.map((e) => [basename(e.file), e.split]), before.entries.map((e) => [basename(e.file), e.split]));
});
