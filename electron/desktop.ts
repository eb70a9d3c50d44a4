// The desktop-only requests the main process answers itself (contract.ts, DESKTOP_CHANNELS): dragging
// a stem's file out of the window (webContents.startDrag) and showing an exported file in the file
// manager. Each checks that it came from the Tilt window, that its arguments are what the contract
// says, and that every file it hands to the system is one the engine wrote: the renderer names a
// result and a stem, never a path to drag, and a path it asks to reveal must be an export's.
// Free of electron at run time (types only), so it is tested with a fake event and webContents.
import type { IpcMainInvokeEvent, NativeImage } from 'electron';
import { stat } from 'node:fs/promises';
import type { Engine } from '../core/engine/host';
import { toErrorInfo } from '../core/engine/errors';
import type { Reply, StemDrag } from '../app/contract';
import { BadRequest, validateStemDrag } from '../app/validate';

export interface DesktopDeps {
  engine: Pick<Engine, 'stemFile' | 'producedFile'>;
  /** Whether the request came from the Tilt window's own page (main.ts's trustedSender). */
  trusted(e: IpcMainInvokeEvent): boolean;
  /** The picture the system shows under the pointer while a stem is dragged (non-empty: macOS needs one). */
  dragIcon(): NativeImage | string;
  showItemInFolder(path: string): void;
}

const refused = { ok: false, error: { message: 'Refused: the request did not come from the Tilt window', code: 'forbidden' } } as const;
const bad = (message: string) => ({ ok: false, error: { message: `Invalid request: ${message}`, code: 'bad-request' } }) as const;

/** The drag's arguments as the contract has them (app/validate.ts's one schema), or what is wrong with them. */
export function parseStemDrag(v: unknown): (StemDrag & { start: boolean }) | string {
  try {
    return validateStemDrag(v);
  } catch (e) {
    if (e instanceof BadRequest) return e.message;
    throw e;
  }
}

/** The drag icon's side, in pixels. */
export const DRAG_ICON_SIZE = 32;

/**
 * The picture under the pointer while a stem is dragged, as raw BGRA pixels for
 * nativeImage.createFromBitmap: a sheet in the app's accent blue with a waveform cut out of it.
 */
export function dragIconBitmap(): Buffer {
  const n = DRAG_ICON_SIZE;
  const px = Buffer.alloc(n * n * 4);
  const bars = [4, 9, 14, 7, 12, 5, 10];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const inSheet = x >= 5 && x < n - 5 && y >= 2 && y < n - 2;
      const bar = (x - 7) % 3 === 0 && x >= 7 && x < 7 + 3 * bars.length ? bars[(x - 7) / 3]! : -1;
      const cut = bar > 0 && Math.abs(y - n / 2) <= bar;
      if (!inSheet || cut) continue;
      const i = (y * n + x) * 4;
      // B, G, R, A: #7cc4ff.
      px[i] = 0xff;
      px[i + 1] = 0xc4;
      px[i + 2] = 0x7c;
      px[i + 3] = 0xff;
    }
  }
  return px;
}

/** A file the engine wrote that is there now. */
async function engineFile(engine: DesktopDeps['engine'], path: string): Promise<boolean> {
  return (await engine.producedFile(path)) && !!(await stat(path).catch(() => null))?.isFile();
}

export function desktopHandlers(d: DesktopDeps) {
  return {
    /** DESKTOP_CHANNELS.stemDrag: readies the stem's file (exporting it first if need be), and with `start` drags it. */
    async stemDrag(e: IpcMainInvokeEvent, args: unknown): Promise<Reply<{ fileName: string }>> {
      if (!d.trusted(e)) return refused;
      const drag = parseStemDrag(args);
      if (typeof drag === 'string') return bad(drag);
      try {
        const file = await d.engine.stemFile(drag.resultId, drag.stem, drag.format, drag.rate);
        if (!(await engineFile(d.engine, file.path))) return { ok: false, error: { message: `${file.fileName} is no longer there: export the stem again`, code: 'not-found' } };
        // The window may have gone while the export ran.
        if (drag.start && !e.sender.isDestroyed()) e.sender.startDrag({ file: file.path, icon: d.dragIcon() });
        return { ok: true, value: { fileName: file.fileName } };
      } catch (err) {
        return { ok: false, error: toErrorInfo(err) };
      }
    },

    /** DESKTOP_CHANNELS.reveal: shows an exported file in the file manager. */
    async reveal(e: IpcMainInvokeEvent, args: unknown): Promise<Reply<{ shown: boolean }>> {
      if (!d.trusted(e)) return refused;
      const path = (args as { path?: unknown } | null)?.path;
      if (typeof path !== 'string' || !path || path.length > 4096 || path.includes('\0')) return bad('path must be a file path');
      if (!(await d.engine.producedFile(path))) return { ok: false, error: { message: `${path} is not a file Tilt exported`, code: 'forbidden', file: path } };
      if (!(await engineFile(d.engine, path))) return { ok: false, error: { message: `${path} is no longer there (moved or deleted)`, code: 'not-found', file: path } };
      d.showItemInFolder(path);
      return { ok: true, value: { shown: true } };
    },
  };
}
