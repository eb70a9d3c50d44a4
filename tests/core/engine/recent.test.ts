// The recent results list the engine keeps in its data folder: newest first, capped, written whole
// (atomically) on every change, read back by a new engine (a restart), and a file that cannot be read
// leaves an empty list, a note in the log and the bad file kept aside.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_RECENT, MAX_RECENT_EXPORTS, RecentResults } from '../../../core/engine/recent';
import type { ExportResult, SeparationResult } from '../../../core/engine/types';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tilt-recent-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const separated = (resultId: string, o: Partial<SeparationResult> = {}): SeparationResult => ({
  resultId, fileName: `${resultId}.wav`, sourcePath: `/music/${resultId}.wav`, inputRate: 44100, inputChannels: 2, durationSec: 12.5, modelRate: 8000,
  model: { id: 'tilt-default', name: 'Tilt default' }, backend: 'wasm', windowSeconds: 8, rnnoiseBlend: 0, tracks: [], elapsedMs: 900, ...o,
});
const exported = (dir: string, name: string, bytes: number): ExportResult => ({
  dir, files: [{ stem: 'speech', fileName: name, path: join(dir, name), bytes, sampleRate: 44100, channels: 2, frames: 10, format: 'wav16' }],
});

test('a separation and its exports are listed newest first and read back by a new engine, with what is still there', async () => {
  const file = join(root, 'a', 'recent.json');
  const out = join(root, 'out');
  const logs: string[] = [];
  const recent = new RecentResults(file, (m) => logs.push(m));
  await recent.add(separated('r1'), new Date('2026-12-01T10:00:00Z'));
  await recent.add(separated('r2', { sourcePath: undefined, fileName: 'phone.mp3' }), new Date('2026-12-01T11:00:00Z'));
  await writeFile(join(root, 'kept.wav'), Buffer.alloc(44));
  await recent.noteExport('r1', exported(root, 'kept.wav', 44), new Date('2026-12-01T12:00:00Z'));
  await recent.noteExport('r1', exported(out, 'gone.wav', 44), new Date('2026-12-01T13:00:00Z'));
  await recent.noteExport('nope', exported(out, 'x.wav', 1));

  const list = await recent.list((id) => id === 'r2');
  assert.deepEqual(list.map((r) => [r.resultId, r.available]), [['r2', true], ['r1', false]]);
  assert.equal(list[0]!.sourcePath, undefined, 'an upload has no source to open again');
  assert.deepEqual(list[1], {
    resultId: 'r1', fileName: 'r1.wav', sourcePath: '/music/r1.wav', model: { id: 'tilt-default', name: 'Tilt default' },
    separatedAt: '2026-12-01T10:00:00.000Z', durationSec: 12.5, available: false,
    exports: [
      { dir: out, at: '2026-12-01T13:00:00.000Z', files: [{ stem: 'speech', fileName: 'gone.wav', path: join(out, 'gone.wav'), format: 'wav16', present: false }] },
      { dir: root, at: '2026-12-01T12:00:00.000Z', files: [{ stem: 'speech', fileName: 'kept.wav', path: join(root, 'kept.wav'), format: 'wav16', present: true }] },
    ],
  });
  assert.ok(await recent.wrote(join(root, 'out', '..', 'kept.wav')), 'an export\'s file, by any spelling of its path');
  assert.ok(!(await recent.wrote('/etc/passwd')));

  // A restart: a new list on the same file has it all.
  const again = new RecentResults(file, (m) => logs.push(m));
  assert.deepEqual(await again.list((id) => id === 'r2'), list);
  // Written whole: no temporary file is left beside it.
  assert.deepEqual(await readdir(join(root, 'a')), ['recent.json']);
  assert.deepEqual(logs, []);
});

test('the same file separated again by the same model takes the old entry\'s place and keeps where its stems went', async () => {
  const recent = new RecentResults(join(root, 'again.json'));
  await recent.add(separated('first', { sourcePath: '/music/talk.wav' }));
  await recent.noteExport('first', exported(root, 'talk.speech.wav', 1));
  await recent.add(separated('other', { sourcePath: '/music/talk.wav', model: { id: 'mine', name: 'Mine' } }));
  await recent.add(separated('second', { sourcePath: '/music/talk.wav' }));
  const list = await recent.list(() => true);
  assert.deepEqual(list.map((r) => r.resultId), ['second', 'other'], 'another model\'s separation of it stays');
  assert.deepEqual(list[0]!.exports.map((x) => x.files[0]!.fileName), ['talk.speech.wav']);
});

test(`at most ${MAX_RECENT} results and ${MAX_RECENT_EXPORTS} exports each are kept, the oldest dropped`, async () => {
  const file = join(root, 'cap.json');
  const recent = new RecentResults(file);
  for (let i = 0; i < MAX_RECENT + 5; i++) await recent.add(separated(`r${i}`));
  for (let i = 0; i < MAX_RECENT_EXPORTS + 3; i++) await recent.noteExport(`r${MAX_RECENT + 4}`, exported(root, `e${i}.wav`, 1));
  const list = await recent.list(() => false);
  assert.equal(list.length, MAX_RECENT);
  assert.equal(list[0]!.resultId, `r${MAX_RECENT + 4}`);
  assert.equal(list.at(-1)!.resultId, 'r5');
  assert.deepEqual(list[0]!.exports.map((x) => x.files[0]!.fileName), Array.from({ length: MAX_RECENT_EXPORTS }, (_, i) => `e${MAX_RECENT_EXPORTS + 2 - i}.wav`));
  const onDisk = JSON.parse(await readFile(file, 'utf8')) as { version: number; results: unknown[] };
  assert.deepEqual([onDisk.version, onDisk.results.length], [1, MAX_RECENT]);
});

test('a corrupt list starts empty, says so in the log and is kept aside; unreadable entries are left out', async () => {
  const file = join(root, 'corrupt.json');
  await writeFile(file, '{"version": 1, "results": [{"resultId": "r1", "fileN');
  const logs: string[] = [];
  const recent = new RecentResults(file, (m) => logs.push(m));
  assert.deepEqual(await recent.list(() => false), []);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /recent results list .*corrupt\.json is not readable \(.*\): starting an empty one \(the unreadable file is kept as .*corrupt\.json\.corrupt\)/);
  assert.equal(await readFile(`${file}.corrupt`, 'utf8'), '{"version": 1, "results": [{"resultId": "r1", "fileN');
  // The next change writes a good list over it.
  await recent.add(separated('r2'));
  assert.deepEqual((await new RecentResults(file).list(() => false)).map((r) => r.resultId), ['r2']);

  const partly = join(root, 'partly.json');
  const good = { resultId: 'ok', fileName: 'ok.wav', model: { id: 'm', name: 'M' }, separatedAt: '2026-12-01T10:00:00.000Z', durationSec: 1, exports: [] };
  await writeFile(partly, JSON.stringify({ version: 1, results: [good, { resultId: 7 }, { ...good, resultId: 'bad', exports: [{ dir: '/x', at: 'now', files: [{ path: '/x/y' }] }] }] }));
  const partLogs: string[] = [];
  assert.deepEqual((await new RecentResults(partly, (m) => partLogs.push(m)).list(() => false)).map((r) => r.resultId), ['ok']);
  assert.match(partLogs.join('\n'), /left out 2 unreadable entries/);

  const notAList = join(root, 'array.json');
  await writeFile(notAList, '[1, 2]');
  const arrayLogs: string[] = [];
  assert.deepEqual(await new RecentResults(notAList, (m) => arrayLogs.push(m)).list(() => false), []);
  assert.match(arrayLogs[0]!, /holds no "results" list/);
});

test('a list that cannot be written is reported, and the engine goes on with it in memory', async () => {
  // Its folder is a file: mkdir fails.
  const blocker = join(root, 'blocker');
  await writeFile(blocker, '');
  const logs: string[] = [];
  const recent = new RecentResults(join(blocker, 'recent.json'), (m) => logs.push(m));
  await recent.add(separated('r1'));
  assert.deepEqual((await recent.list(() => true)).map((r) => r.resultId), ['r1']);
  assert.match(logs.join('\n'), /cannot save the recent results list/);
});
