// The desktop-only requests the main process answers itself (electron/desktop.ts), with a fake IPC
// event and webContents (the Electron binary is not installed here): a stem is dragged only for the
// Tilt window, only with arguments as the contract has them, and only as a file the engine wrote; a
// file is shown in its folder only if an export of the engine's wrote it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IpcMainInvokeEvent } from 'electron';
import { desktopHandlers, dragIconBitmap, DRAG_ICON_SIZE, parseStemDrag, type DesktopDeps } from '../../electron/desktop';
import { EngineError } from '../../core/engine/errors';
import type { ExportedFile, StemDrag } from '../../app/contract';

const RESULT = '123e4567-e89b-42d3-a456-426614174000';
let root: string;
let stem: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tilt-desktop-'));
  stem = join(root, 'talk.speech.tilt-default.16-bit.wav');
  await writeFile(stem, Buffer.alloc(44));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A window's IPC event: `trusted` says whether it is the Tilt window's page; its webContents records drags. */
function fakeEvent(o: { trusted?: boolean; destroyed?: boolean } = {}) {
  const drags: { file: string; icon: unknown }[] = [];
  const event = {
    trusted: o.trusted ?? true,
    sender: { startDrag: (item: { file: string; icon: unknown }) => drags.push(item), isDestroyed: () => o.destroyed ?? false },
  };
  return { event: event as unknown as IpcMainInvokeEvent, drags };
}

/** The engine as main sees it: the stem files it hands out and the files it wrote. */
function setup(o: { file?: () => Promise<ExportedFile>; produced?: string[] } = {}) {
  const asked: StemDrag[] = [];
  const revealed: string[] = [];
  const icon = { picture: 'drag icon' };
  const deps: DesktopDeps = {
    engine: {
      async stemFile(resultId, s, format, rate) {
        asked.push({ resultId, stem: s, format, rate });
        return o.file ? o.file() : { stem: s, fileName: 'talk.speech.tilt-default.16-bit.wav', path: stem, bytes: 44, sampleRate: 8000, channels: 1, frames: 0, format };
      },
      producedFile: async (path) => (o.produced ?? [stem]).includes(path),
    },
    trusted: (e) => (e as unknown as { trusted: boolean }).trusted,
    dragIcon: () => icon as never,
    showItemInFolder: (path) => revealed.push(path),
  };
  return { handlers: desktopHandlers(deps), asked, revealed, icon };
}

const drag = { resultId: RESULT, stem: 'speech', format: 'wav16', rate: 'input' } as const;

test('a drag from the Tilt window starts the system drag of the stem\'s file, with an icon; readying it does not', async () => {
  const { handlers, asked, icon } = setup();
  const ready = fakeEvent();
  assert.deepEqual(await handlers.stemDrag(ready.event, { ...drag, start: false }), { ok: true, value: { fileName: 'talk.speech.tilt-default.16-bit.wav' } });
  assert.deepEqual(ready.drags, []);
  const going = fakeEvent();
  assert.deepEqual(await handlers.stemDrag(going.event, { ...drag, start: true }), { ok: true, value: { fileName: 'talk.speech.tilt-default.16-bit.wav' } });
  assert.deepEqual(going.drags, [{ file: stem, icon }]);
  assert.deepEqual(asked, [drag, drag], 'the engine is asked for the stem by result, stem, format and rate: the renderer names no path');
  // The window closed while the stem was exported: nothing to drag from.
  const gone = fakeEvent({ destroyed: true });
  assert.equal((await handlers.stemDrag(gone.event, { ...drag, start: true })).ok, true);
  assert.deepEqual(gone.drags, []);
});

test('a drag from anything but the Tilt window, or with arguments the contract does not have, is refused before the engine is asked', async () => {
  const { handlers, asked } = setup();
  const other = fakeEvent({ trusted: false });
  assert.deepEqual(await handlers.stemDrag(other.event, { ...drag, start: true }), { ok: false, error: { message: 'Refused: the request did not come from the Tilt window', code: 'forbidden' } });
  assert.deepEqual(other.drags, []);
  const bad: [unknown, RegExp][] = [
    [null, /^Invalid request: desktop:stem-drag must be an object \(got null\)$/],
    [[drag], /^Invalid request: desktop:stem-drag must be an object \(got an array\)$/],
    [{ ...drag, start: true, path: '/etc/passwd' }, /^Invalid request: desktop:stem-drag\.path is not a known field \(expected "resultId", "stem", "format", "rate", "start"\)$/],
    [{ ...drag, start: true, resultId: '../../etc' }, /^Invalid request: resultId is not a valid id \(got "\.\.\/\.\.\/etc"\)$/],
    [{ ...drag, start: true, stem: '../speech' }, /^Invalid request: stem is not a valid stem name \(got "\.\.\/speech"\)$/],
    [{ ...drag, start: true, stem: 'x'.repeat(65) }, /^Invalid request: stem is not a valid stem name \(got "x{65}"\)$/],
    [{ ...drag, start: true, format: 'mp3' }, /^Invalid request: format must be one of "wav16", "wav24", "wav32f", "flac" \(got "mp3"\)$/],
    [{ ...drag, start: true, rate: 'fast' }, /^Invalid request: rate must be one of "model", "input" \(got "fast"\)$/],
    [{ ...drag }, /^Invalid request: start must be true or false \(got nothing\)$/],
    // Every bad field at once, as separate:export names them (one schema, app/validate.ts).
    [{ resultId: 'x', stem: 'speech', format: 'mp4', rate: 'input', start: 'yes' }, /^Invalid request: resultId is not a valid id \(got "x"\); format must be one of .* \(got "mp4"\); start must be true or false \(got "yes"\)$/],
  ];
  for (const [args, message] of bad) {
    const e = fakeEvent();
    const reply = await handlers.stemDrag(e.event, args);
    assert.ok(!reply.ok && reply.error.code === 'bad-request', JSON.stringify(args));
    assert.match(reply.ok ? '' : reply.error.message, message);
    assert.deepEqual(e.drags, []);
  }
  assert.deepEqual(asked, []);
  assert.deepEqual(parseStemDrag({ ...drag, start: false }), { ...drag, start: false });
});

test('only a file the engine wrote, and that is there, is dragged; the engine\'s refusals come back as they are', async () => {
  // The engine answered with a file it did not write (say, a result's source): not dragged.
  const foreign = setup({ produced: [] });
  const e1 = fakeEvent();
  const r1 = await foreign.handlers.stemDrag(e1.event, { ...drag, start: true });
  assert.ok(!r1.ok && r1.error.code === 'not-found', JSON.stringify(r1));
  assert.deepEqual(e1.drags, []);
  // Written, then deleted.
  const missing = join(root, 'gone.wav');
  const deleted = setup({ produced: [missing], file: async () => ({ stem: 'speech', fileName: 'gone.wav', path: missing, bytes: 44, sampleRate: 8000, channels: 1, frames: 0, format: 'wav16' }) });
  const e2 = fakeEvent();
  assert.match(JSON.stringify(await deleted.handlers.stemDrag(e2.event, { ...drag, start: true })), /gone\.wav is no longer there/);
  assert.deepEqual(e2.drags, []);
  // The engine refuses (an export of the result is going).
  const busy = setup({ file: () => Promise.reject(new EngineError('This result is being exported already: wait for that export or cancel it', 'busy')) });
  const e3 = fakeEvent();
  assert.deepEqual(await busy.handlers.stemDrag(e3.event, { ...drag, start: true }), { ok: false, error: { message: 'This result is being exported already: wait for that export or cancel it', code: 'busy' } });
  assert.deepEqual(e3.drags, []);
});

test('Show in folder shows a file an export wrote, and nothing else', async () => {
  const { handlers, revealed } = setup();
  assert.deepEqual(await handlers.reveal(fakeEvent().event, { path: stem }), { ok: true, value: { shown: true } });
  assert.deepEqual(await handlers.reveal(fakeEvent({ trusted: false }).event, { path: stem }), { ok: false, error: { message: 'Refused: the request did not come from the Tilt window', code: 'forbidden' } });
  const other = await handlers.reveal(fakeEvent().event, { path: '/home/u/.ssh/id_rsa' });
  assert.ok(!other.ok && other.error.code === 'forbidden' && /is not a file Tilt exported/.test(other.error.message), JSON.stringify(other));
  for (const args of [{}, { path: 7 }, { path: '' }, { path: 'a\0b' }, null]) {
    const r = await handlers.reveal(fakeEvent().event, args);
    assert.ok(!r.ok && r.error.code === 'bad-request', JSON.stringify(args));
  }
  assert.deepEqual(revealed, [stem]);
});

test('the drag icon is a non-empty BGRA picture (macOS refuses an empty one)', () => {
  const px = dragIconBitmap();
  assert.equal(px.length, DRAG_ICON_SIZE * DRAG_ICON_SIZE * 4);
  let opaque = 0;
  for (let i = 3; i < px.length; i += 4) if (px[i] === 0xff) opaque++;
  assert.ok(opaque > 200 && opaque < DRAG_ICON_SIZE * DRAG_ICON_SIZE, `${opaque} opaque pixels`);
});
