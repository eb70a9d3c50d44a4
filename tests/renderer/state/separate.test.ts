/// <reference types="svelte" />
// (The reference declares the runes the state modules use, for tsc.)
// The Separate view's queue: how the engine's events move each file from adding to done (events that
// overtake the reply naming their job included), how a reloaded page takes in the engine's jobs, and
// how an export reports progress, asks about a file already there, and writes the mix at the balance
// set. The API is a fake handed in through app.connect, as the shells hand in theirs.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import '../svelte-loader.mjs';
import { FakeApi, installStorage, nextTurn } from './fakes';
import { ApiError } from '../../../renderer/src/lib/api';
import type { EngineEvent, ExportResult, JobsSnapshot, RecentResult, SeparationResult } from '../../../app/contract';

// A saved window the menu does not offer (edited by hand, or from another version) is ignored.
const storage = installStorage({ 'tilt:export': { format: 'flac', rate: 'input', volumeDb: { speech: -6 } }, 'tilt:separate': { windowSeconds: 3, speechDenoiser: 0.3, rnnoiseBlend: 0 } });
const { app } = await import('../../../renderer/src/state/app.svelte');
const { adaptNote, blendLabel, blendNote, separation } = await import('../../../renderer/src/state/separate.svelte');

const api = new FakeApi().on('files:recent', () => []).on('separate:discard', () => ({ discarded: true }));
app.connect(api);

const result = (resultId: string, fileName = `${resultId}.wav`): SeparationResult => ({
  resultId, fileName, inputRate: 44100, inputChannels: 2, durationSec: 3, modelRate: 8000, model: { id: 'tilt-default', name: 'Tilt default' }, backend: 'wasm', windowSeconds: 8, rnnoiseBlend: 0, elapsedMs: 900,
  tracks: ['mixture', 'speech', 'env'].map((id) => ({ id, label: id, kind: id === 'mixture' ? 'mixture' : 'stem', channels: 2, peaks: [[0.5]], peaksPerSecond: 1, rmsDb: -20 })),
});
const progress = (jobId: string, stage: string, fraction: number | null, times: { etaSec?: number; elapsedSec?: number } = {}): EngineEvent =>
  ({ type: 'progress', jobId, kind: 'separate', stage, fraction, ...times });
const itemOf = (jobId: string) => separation.items.find((i) => i.jobId === jobId);

/** Starts separating `path` as job `jobId`. */
async function add(path: string, jobId: string): Promise<void> {
  api.on('separate:start', () => ({ jobId }));
  await separation.addRefs([{ kind: 'path', path }]);
}

test('a file goes from queued to running to done, and its result is selected', async () => {
  await add('/music/talk.wav', 's1');
  const item = itemOf('s1')!;
  assert.deepEqual([item.name, item.status], ['talk.wav', 'queued']);
  assert.equal(separation.selectedKey, item.key);
  assert.deepEqual(api.argsOf('separate:start').at(-1), { input: { kind: 'path', path: '/music/talk.wav' }, windowSeconds: 8, rnnoiseBlend: 'auto', adapt: false });
  assert.equal(separation.busy, true);

  separation.handle(progress('s1', 'separating', 0.4, { etaSec: 10, elapsedSec: 2 }));
  assert.deepEqual([item.status, item.stage, item.fraction, item.etaSec, item.elapsedSec], ['running', 'separating', 0.4, 10, 2]);
  separation.handle({ type: 'separate-done', jobId: 's1', result: result('s1') });
  assert.deepEqual([item.status, item.fraction, item.resultId], ['done', 1, 's1']);
  assert.deepEqual(separation.selectedResult, result('s1'));
  assert.equal(separation.busy, false);
  separation.handle(progress('s1', 'done', 1));
  assert.equal(item.status, 'done', 'a late progress event does not undo done');
});

test('events that overtake the reply starting their job are held and replayed once it names the job', async () => {
  api.on('separate:start', () => {
    separation.handle(progress('s2', 'separating', 0.5));
    separation.handle({ type: 'separate-done', jobId: 's2', result: result('s2') });
    return { jobId: 's2' };
  });
  await separation.addRefs([{ kind: 'upload', id: 'u7', name: 'field.flac' }]);
  const item = itemOf('s2')!;
  assert.deepEqual([item.name, item.status, item.resultId], ['field.flac', 'done', 's2']);
  assert.deepEqual(separation.results.s2, result('s2'));
});

test('the window and the RNNoise blend chosen go with the files added next and are kept for the next visit (a saved value the menu does not offer is ignored)', async () => {
  separation.windowSeconds = 2;
  await add('/music/street.wav', 's20');
  assert.equal(api.argsOf('separate:start').at(-1)?.windowSeconds, 2);
  await nextTurn();
  assert.deepEqual(JSON.parse(storage.getItem('tilt:separate')!), { windowSeconds: 2, speechDenoiser: 'auto', adapt: false });
  separation.windowSeconds = 8;
  await nextTurn();
  assert.deepEqual(JSON.parse(storage.getItem('tilt:separate')!), { windowSeconds: 8, speechDenoiser: 'auto', adapt: false });
  // The RNNoise blend likewise (here turned off): the menu's value goes with the next files and is kept.
  separation.rnnoiseBlend = 0;
  await add('/music/field.wav', 's21');
  assert.equal(api.argsOf('separate:start').at(-1)?.rnnoiseBlend, 0);
  await nextTurn();
  assert.deepEqual(JSON.parse(storage.getItem('tilt:separate')!), { windowSeconds: 8, speechDenoiser: 0, adapt: false });
  separation.rnnoiseBlend = 'auto';
  // Adapting to each recording likewise.
  separation.adapt = true;
  await add('/music/street.wav', 's22');
  assert.equal(api.argsOf('separate:start').at(-1)?.adapt, true);
  await nextTurn();
  assert.deepEqual(JSON.parse(storage.getItem('tilt:separate')!), { windowSeconds: 8, speechDenoiser: 'auto', adapt: true });
  separation.adapt = false;
});

test('an adapted result says what it was tuned on, or why it was not', () => {
  assert.equal(adaptNote(undefined), null, 'not asked for, no note');
  assert.equal(adaptNote({ soundSeconds: 12.34, steps: 40, skipped: null }), 'Adapted first: tuned for 40 steps on 12.3 s of this recording\'s sound where nobody speaks.');
  assert.equal(adaptNote({ soundSeconds: 0.5, steps: 0, skipped: 'it has 0.5 s sound without voice (adapting needs 2 s)' }), 'Not adapted: it has 0.5 s sound without voice (adapting needs 2 s).');
});

test('a result\'s header names its blend: chosen per window, a fixed share (made with tilt separate --rnnoise W), or none', () => {
  assert.deepEqual([blendLabel('auto'), blendLabel(0.5), blendLabel(0.333), blendLabel(0)], ['auto', '50 %', '33 %', null]);
});

test('a blended result says how much of the speech Tilt and RNNoise disagreed on and how much of the speech stem is RNNoise\'s', () => {
  assert.equal(blendNote(undefined), null, 'no blend, no note');
  assert.equal(blendNote(null), 'The speech stem is silent: RNNoise had nothing to add.');
  assert.equal(blendNote({ disagreed: 0.104, rnnoiseShare: 0.036 }), 'Tilt and RNNoise disagreed on 10 % of the speech; RNNoise makes up 4 % of the speech stem.');
});

test('failed and cancelled jobs say so; training and other kinds of events, and unknown jobs, change nothing', async () => {
  await add('/music/broken.mp3', 's3');
  await add('/music/long.wav', 's4');
  separation.handle({ type: 'job-failed', jobId: 's3', kind: 'separate', error: { message: 'broken.mp3 is not audio', code: 'bad-input' } });
  separation.handle({ type: 'job-cancelled', jobId: 's4', kind: 'separate' });
  assert.deepEqual([itemOf('s3')!.status, itemOf('s3')!.error], ['failed', 'broken.mp3 is not audio']);
  assert.deepEqual([itemOf('s4')!.status, itemOf('s4')!.stage], ['cancelled', 'cancelled']);

  const before = JSON.stringify(separation.items);
  separation.handle({ type: 'progress', jobId: 's4', kind: 'train', stage: 'training', fraction: 0.5 });
  separation.handle({ type: 'train-state', jobId: 's4', state: 'paused' });
  // Nothing is being added: an unknown job's events are another window's, not held for later.
  separation.handle(progress('s5', 'separating', 0.7));
  assert.equal(JSON.stringify(separation.items), before);
  await add('/music/next.wav', 's5');
  assert.equal(itemOf('s5')!.status, 'queued');
});

test('a file the engine refuses is failed with the reason, the others go on', async () => {
  api.on('separate:start', ({ input }) => {
    if (input.kind === 'path' && input.path.endsWith('.txt')) throw new ApiError({ message: 'notes.txt is not audio', code: 'bad-input' });
    return { jobId: 's6' };
  });
  await separation.addRefs([{ kind: 'path', path: '/music/notes.txt' }, { kind: 'path', path: '/music/song.wav' }]);
  const refused = separation.items.find((i) => i.name === 'notes.txt')!;
  assert.deepEqual([refused.status, refused.error], ['failed', 'notes.txt is not audio']);
  assert.equal(itemOf('s6')!.status, 'queued');
});

test('a reloaded page takes in the engine\'s results and jobs, and fails what ended unseen', () => {
  const lost = itemOf('s5')!;
  separation.handle(progress('s5', 'separating', 0.2));
  separation.restore({
    separations: [{ jobId: 's6', label: 'song.wav', state: 'running', stage: 'separating', fraction: 0.6 }, { jobId: 's9', label: 'other.wav', state: 'queued', stage: 'queued', fraction: null }],
    results: [result('s1'), result('s8', 'earlier.wav')],
    exports: [],
    exported: [],
    training: null,
  });
  assert.equal(lost.status, 'failed');
  assert.match(lost.error!, /ended while the page was not connected/);
  assert.deepEqual([itemOf('s6')!.status, itemOf('s6')!.fraction], ['running', 0.6]);
  assert.deepEqual([itemOf('s8')!.name, itemOf('s8')!.status, itemOf('s8')!.resultId], ['earlier.wav', 'done', 's8']);
  assert.deepEqual([itemOf('s9')!.name, itemOf('s9')!.status], ['other.wav', 'queued']);
  assert.equal(separation.items.filter((i) => i.jobId === 's1').length, 1, 'a result on screen is not added twice');
  assert.deepEqual(Object.keys(separation.results).sort(), ['s1', 's2', 's8']);
});

test('an export shows its own progress, asks about a file already there, and keeps both when told to', async () => {
  separation.selectedKey = itemOf('s1')!.key;
  const written: ExportResult = { dir: '/exports', files: [{ stem: 'speech', fileName: 'talk.speech.tilt-default.flac', path: '/exports/talk.speech.tilt-default.flac', bytes: 10, sampleRate: 44100, channels: 2, frames: 3, format: 'flac' }] };
  let seen: unknown = null;
  api.on('separate:export', (p) => {
    if (!p.keepBoth) throw new ApiError({ message: 'talk.speech.tilt-default.flac is there already', code: 'exists' });
    separation.handle({ type: 'progress', jobId: 's1', kind: 'export', stage: 'writing', fraction: 0.5, etaSec: 1, elapsedSec: 1 });
    separation.handle({ type: 'progress', jobId: 's2', kind: 'export', stage: 'writing', fraction: 0.9 });
    seen = separation.exportProgress;
    return written;
  });
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    await separation.exportStems(['speech']);
    assert.deepEqual(separation.conflict, { params: { resultId: 's1', stems: ['speech'], format: 'flac', rate: 'input' }, message: 'talk.speech.tilt-default.flac is there already' });
    assert.equal(separation.exporting, false);
    await separation.resolveConflict('keepBoth');
    assert.deepEqual(api.argsOf('separate:export').at(-1), { resultId: 's1', stems: ['speech'], format: 'flac', rate: 'input', keepBoth: true });
    assert.deepEqual(seen, { stage: 'writing', fraction: 0.5, etaSec: 1, elapsedSec: 1 });
    assert.equal(separation.exportProgress, null);
    assert.equal(separation.conflict, null);
    assert.deepEqual(separation.exportShown, written);
    assert.deepEqual(api.delivered, written.files);
    assert.deepEqual(app.toasts.map((t) => [t.kind, t.message]), [['success', 'Exported 1 stem to /exports']]);
  } finally {
    mock.timers.reset();
  }
});

test('Export mix writes the stems at the balance set, which was kept from the last session', async () => {
  api.on('separate:export', () => null);
  await separation.exportMix();
  assert.deepEqual(api.argsOf('separate:export').at(-1), { resultId: 's1', stems: ['speech', 'env'], format: 'flac', rate: 'input', mix: { speech: 10 ** (-6 / 20), env: 1 } });
});

test('removing a done file drops its result in the engine and moves the selection on', async () => {
  const key = itemOf('s1')!.key;
  separation.selectedKey = key;
  await separation.remove(key);
  assert.equal(itemOf('s1'), undefined);
  assert.equal(separation.results.s1, undefined);
  assert.deepEqual(api.argsOf('separate:discard').at(-1), { resultId: 's1' });
  assert.equal(separation.selectedKey, separation.items[0]!.key);
});

// ---- Exports across a reload (issue 16) -------------------------------------------------------

const snapshot = (more: Partial<JobsSnapshot>): JobsSnapshot => ({ separations: [], results: [], exports: [], exported: [], training: null, ...more });
const twoStems: ExportResult = {
  dir: '/exports',
  files: ['speech', 'env'].map((stem) => ({ stem, fileName: `earlier.${stem}.tilt-default.flac`, path: `/exports/earlier.${stem}.tilt-default.flac`, bytes: 10, sampleRate: 44100, channels: 2, frames: 3, format: 'flac' as const, url: `/api/download/${stem}` })),
};
/** Runs `fn` with the toasts' timers faked (they would hold the test open) and returns the toasts it made. */
async function toastsOf(fn: () => void | Promise<void>): Promise<[string, string][]> {
  app.toasts = [];
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    await fn();
    return app.toasts.map((t) => [t.kind, t.message]);
  } finally {
    mock.timers.reset();
    app.toasts = [];
  }
}

test('a reloaded page follows an export still being written: its progress and time left, Cancel, and how it ended', async () => {
  separation.selectedKey = itemOf('s8')!.key;
  separation.restore(snapshot({ results: [result('s8', 'earlier.wav')], exports: [{ jobId: 's8', mix: false, stage: 'exporting', fraction: 0.4, etaSec: 12, elapsedSec: 3 }] }));
  assert.equal(separation.exportingId, 's8');
  assert.equal(separation.exporting, true);
  assert.deepEqual(separation.exportProgress, { stage: 'exporting', fraction: 0.4, etaSec: 12, elapsedSec: 3 });
  // Its events go on moving it.
  separation.handle({ type: 'progress', jobId: 's8', kind: 'export', stage: 'exporting', fraction: 0.7, etaSec: 5, elapsedSec: 6 });
  assert.deepEqual(separation.exportProgress, { stage: 'exporting', fraction: 0.7, etaSec: 5, elapsedSec: 6 });
  // Cancel reaches the engine under the export's job id (its result's). The page did not start this
  // export, so no reply to a call of its own tells how it ended: the engine's event does, or the
  // cancel's answer, whichever comes first, and only once.
  api.on('job:cancel', () => {
    separation.handle({ type: 'job-cancelled', jobId: 's8', kind: 'export' });
    return { cancelled: true };
  });
  const told = await toastsOf(() => separation.cancelExport());
  assert.deepEqual(api.argsOf('job:cancel').at(-1), { jobId: 's8' });
  assert.deepEqual(told, [['info', 'Export cancelled: no file was written']]);
  assert.deepEqual([separation.exportingId, separation.exportProgress, separation.exporting], [null, null, false]);
  // The event lost (a connection that dropped): the answer tells it; a late event adds nothing.
  separation.restore(snapshot({ results: [result('s8', 'earlier.wav')], exports: [{ jobId: 's8', mix: false, stage: 'exporting', fraction: 0.9 }] }));
  api.on('job:cancel', () => ({ cancelled: true }));
  const answered = await toastsOf(async () => {
    await separation.cancelExport();
    separation.handle({ type: 'job-cancelled', jobId: 's8', kind: 'export' });
  });
  assert.deepEqual(answered, [['info', 'Export cancelled: no file was written']]);
  assert.equal(separation.exporting, false);
  // It finished before the cancel took, and its event was lost: the engine's list shows its files.
  separation.restore(snapshot({ results: [result('s8', 'earlier.wav')], exports: [{ jobId: 's8', mix: false, stage: 'checking', fraction: 0.9 }] }));
  api.on('job:cancel', () => ({ cancelled: false })).on('jobs:list', () => snapshot({ results: [result('s8', 'earlier.wav')], exported: [{ resultId: 's8', ...twoStems }] }));
  const late = await toastsOf(() => separation.cancelExport());
  assert.deepEqual(late, []);
  assert.equal(separation.exporting, false);
  assert.deepEqual(separation.exportsDone.s8, twoStems);
  separation.exportsDone = {};

  // Followed again, it finishes: "Exported to" under its result, with the links, and a toast.
  separation.restore(snapshot({ results: [result('s8', 'earlier.wav')], exports: [{ jobId: 's8', mix: false, stage: 'starting', fraction: null, elapsedSec: 1 }] }));
  assert.deepEqual(separation.exportProgress, { stage: 'starting', fraction: null, etaSec: undefined, elapsedSec: 1 });
  const done = await toastsOf(() => separation.handle({ type: 'export-done', jobId: 's8', result: twoStems }));
  assert.deepEqual(done, [['success', 'Exported 2 stems to /exports']]);
  assert.equal(separation.exportingId, null);
  assert.deepEqual(separation.exportShown, twoStems);
  assert.deepEqual(api.delivered.filter((f) => f.fileName.startsWith('earlier.')), [], 'a reattached export is not downloaded by itself: its links are shown');

  // A failure says why.
  separation.restore(snapshot({ exports: [{ jobId: 's8', mix: true, stage: 'exporting', fraction: 0.1 }] }));
  const failed = await toastsOf(() => separation.handle({ type: 'job-failed', jobId: 's8', kind: 'export', error: { message: 'The disk is full', code: 'ENOSPC' } }));
  assert.deepEqual(failed, [['error', 'The disk is full']]);
  assert.equal(separation.exporting, false);
});

test('an export that finished while the page was away shows under its result; one the page followed and that ended is let go', () => {
  separation.exportsDone = {};
  separation.restore(snapshot({ exports: [{ jobId: 's8', mix: false, stage: 'exporting', fraction: 0.5 }] }));
  assert.equal(separation.exportingId, 's8');
  separation.restore(snapshot({ results: [result('s8', 'earlier.wav')], exported: [{ resultId: 's8', ...twoStems }] }));
  assert.deepEqual([separation.exportingId, separation.exportProgress], [null, null]);
  separation.selectedKey = itemOf('s8')!.key;
  assert.deepEqual(separation.exportShown, twoStems);
  // Another result's export is not shown under this one.
  separation.selectedKey = itemOf('s2')!.key;
  assert.equal(separation.exportShown, null);
});

test('the page that started an export hears how it ended from its reply, once: the events do not repeat it', async () => {
  separation.selectedKey = itemOf('s2')!.key;
  api.on('separate:export', (p) => {
    const out: ExportResult = { dir: '/exports', files: [{ ...twoStems.files[0]!, stem: 'mix', fileName: 'field.mix.flac', path: '/exports/field.mix.flac' }] };
    // The event overtakes the reply; a reconnect in between takes in the snapshot.
    separation.handle({ type: 'export-done', jobId: p.resultId, result: out });
    separation.restore(snapshot({ results: [result('s2')], exports: [] }));
    assert.equal(separation.exportingId, 's2', 'still this page\'s export');
    return out;
  });
  const told = await toastsOf(() => separation.exportMix());
  assert.deepEqual(told, [['success', 'Exported the mix to /exports']]);
  assert.equal(separation.exportShown?.files[0]?.fileName, 'field.mix.flac');
});

// ---- Recent results (issue 16) ------------------------------------------------------------------

const recentOf = (o: Partial<RecentResult> & { resultId: string }): RecentResult => ({
  fileName: `${o.resultId}.wav`, model: { id: 'tilt-default', name: 'Tilt default' }, separatedAt: '2026-12-01T10:00:00.000Z', durationSec: 3, exports: [], available: false, ...o,
});

test('the recent list comes from the engine; Open selects a result it still holds, Separate again re-separates the file, an upload asks for the file', async () => {
  const list = [
    recentOf({ resultId: 's8', fileName: 'earlier.wav', sourcePath: '/music/earlier.wav', available: true }),
    recentOf({ resultId: 'gone', fileName: 'interview.flac', sourcePath: '/music/interview.flac', exports: [{ dir: '/exports', at: '2026-12-01T10:01:00.000Z', files: [{ stem: 'speech', fileName: 'interview.speech.tilt-default.flac', path: '/exports/interview.speech.tilt-default.flac', format: 'flac', present: true }] }] }),
    recentOf({ resultId: 'upl', fileName: 'phone.mp3' }),
  ];
  api.on('files:recent', () => list);
  await separation.refreshRecent();
  assert.deepEqual(separation.recent, list);

  separation.selectedKey = itemOf('s2')!.key;
  const starts = api.argsOf('separate:start').length;
  await separation.openRecent(list[0]!);
  assert.equal(separation.selectedKey, itemOf('s8')!.key, 'held: selected, not separated again');
  assert.equal(api.argsOf('separate:start').length, starts);

  api.on('separate:start', () => ({ jobId: 's10' }));
  await separation.openRecent(list[1]!);
  assert.deepEqual(api.argsOf('separate:start').at(-1), { input: { kind: 'path', path: '/music/interview.flac' }, windowSeconds: 8, rnnoiseBlend: 'auto', adapt: false });
  assert.equal(separation.selectedKey, itemOf('s10')!.key, 'the new separation is the one on screen');

  const told = await toastsOf(() => separation.openRecent(list[2]!));
  assert.match(told[0]![1], /^phone\.mp3 was uploaded, and uploads are not kept: add the file again/);
  assert.equal(api.argsOf('separate:start').length, starts + 1);

  // A finished separation changes the list: it is asked for again.
  const asked = api.argsOf('files:recent').length;
  separation.handle({ type: 'separate-done', jobId: 's10', result: result('s10', 'interview.flac') });
  assert.equal(api.argsOf('files:recent').length, asked + 1);

  await separation.reveal('/exports/interview.speech.tilt-default.flac');
  assert.deepEqual(api.revealed, ['/exports/interview.speech.tilt-default.flac']);
});

// ---- A stem row's handle (issue 16) ---------------------------------------------------------------

test('a stem\'s handle is a download link of it in the chosen format in a browser, and a drag of its file on the desktop', async () => {
  separation.selectedKey = itemOf('s10')!.key;
  separation.format = 'wav24';
  separation.rate = 'model';
  assert.deepEqual(separation.stemHandle('speech'), { kind: 'download', href: '/api/stem/s10/speech?format=wav24&rate=model' });
  assert.equal(separation.stemHandle('drums'), null, 'no such stem');
  // In a browser nothing is dragged: the link is the handle.
  await separation.prepareDrag('speech');
  await separation.dragStem('env');
  assert.deepEqual(api.drags.filter((d) => d.start === false), []);

  api.shell = 'electron';
  try {
    assert.deepEqual(separation.stemHandle('speech'), { kind: 'drag' });
    // Pointer down readies the file (a first drag exports it), dragstart drags it.
    await separation.prepareDrag('speech');
    assert.equal(separation.preparingDrag, null);
    await separation.dragStem('speech');
    assert.deepEqual(api.drags.slice(-2), [
      { drag: { resultId: 's10', stem: 'speech', format: 'wav24', rate: 'model' }, start: false },
      { drag: { resultId: 's10', stem: 'speech', format: 'wav24', rate: 'model' }, start: true },
    ]);
    // A refused drag says why.
    api.dragAnswer = () => {
      throw new ApiError({ message: 'This result is being exported already: wait for that export or cancel it', code: 'busy' });
    };
    const told = await toastsOf(() => separation.dragStem('env'));
    assert.deepEqual(told, [['error', 'This result is being exported already: wait for that export or cancel it']]);
  } finally {
    api.shell = 'web';
    separation.format = 'flac';
    separation.rate = 'input';
  }
});
