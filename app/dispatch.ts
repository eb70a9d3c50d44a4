// Routes contract channels to the engine, for both shells (Electron main and `tilt serve`).
// Every argument is validated first; every failure becomes a readable WireError.
import type { Engine } from '../core/engine/host';
import { EngineError, toErrorInfo } from '../core/engine/errors';
import type { ArgsOf, Channel, InputRef, Reply, ResultOf, WireError } from './contract';
import { BadRequest, validateArgs } from './validate';

/** What a path is picked for: reading, or writing into. */
export type Access = 'read' | 'write';

/** What differs between the desktop shell and the server. */
export interface Shell {
  kind: 'electron' | 'web';
  version: string;
  /** Asks the user for a folder (Electron); absent in serve mode, where the engine's folders are used. */
  chooseFolder?(purpose: 'export' | 'import-model' | 'export-model' | 'training-data'): Promise<string | null>;
  openAudio?(): Promise<InputRef[]>;
  /** Called with each local file the user separated (the desktop app's File > Open Recent menu). */
  noteOpened?(path: string): void;
  /**
   * Whether the renderer may use `path` (Electron: only what the user picked; see electron/grants.ts). Absent
   * in serve mode, where the token grants the engine's access to the machine.
   */
  allowsPath?(path: string, access: Access): boolean;
}

type Handlers = { [C in Channel]: (args: ArgsOf<C>) => Promise<ResultOf<C>> };

function desktopOnly(): never {
  throw new EngineError('Only the desktop app can open native dialogs', 'unsupported');
}

export function createDispatcher(engine: Engine, shell: Shell) {
  /** Refuses a path the renderer names unless the shell allows it. */
  function checkPath(path: string | undefined, access: Access): void {
    if (path === undefined || !shell.allowsPath || shell.allowsPath(path, access)) return;
    throw new EngineError(`${path} was not chosen in a Tilt dialog: add it with Add Audio Files, a folder button or by dropping it on the window`, 'forbidden', path);
  }

  const handlers: Handlers = {
    'app:info': async () => ({ version: shell.version, shell: shell.kind, modelsDir: engine.models.userDir, exportDir: engine.exportDir }),
    'backend:describe': () => engine.backend(),
    'separate:start': async (a) => {
      if (a.input.kind === 'path') checkPath(a.input.path, 'read');
      const job = await engine.separate(a);
      if (a.input.kind === 'path') shell.noteOpened?.(a.input.path);
      return job;
    },
    'separate:export': async (a) => {
      let outDir = a.outDir;
      if (!outDir && shell.chooseFolder) {
        outDir = (await shell.chooseFolder('export')) ?? undefined;
        if (!outDir) return null;
      }
      checkPath(outDir, 'write');
      return engine.exportStems({ ...a, ...(outDir ? { outDir } : {}) });
    },
    'separate:discard': async (a) => ({ discarded: await engine.discard(a.resultId) }),
    'job:cancel': async (a) => ({ cancelled: await engine.cancelAndSettle(a.jobId) }),
    'train:check': async (a) => {
      if (a.data.kind === 'folders') for (const f of a.data.folders) checkPath(f.path, 'read');
      return engine.checkData(a.data);
    },
    'train:start': (a) => {
      if (a.data.kind === 'folders') for (const f of a.data.folders) checkPath(f.path, 'read');
      return engine.train(a);
    },
    'train:continue': (a) => engine.continueTraining(a.modelId),
    'train:pause': async (a) => ({ paused: engine.pauseTraining(a.jobId) }),
    'train:resume': async (a) => ({ resumed: engine.resumeTraining(a.jobId) }),
    'train:cancel': async (a) => ({ cancelled: engine.cancelTraining(a.jobId) }),
    'train:preview-weights': async (a) => engine.previewWeights(a.reweighting, a.step, a.totalSteps),
    'models:list': () => engine.models.list(),
    'models:rename': (a) => engine.models.rename(a.id, a.name.trim()),
    'models:delete': async (a) => {
      await engine.deleteModel(a.id);
      return { deleted: true };
    },
    'models:activate': (a) => engine.models.activate(a.id, a.checkpoint),
    'models:import': async (a) => {
      const path = a.path ?? (shell.chooseFolder ? await shell.chooseFolder('import-model') : desktopOnly());
      checkPath(path ?? undefined, 'read');
      return path ? engine.models.import(path) : null;
    },
    'models:export': async (a) => {
      // Serve mode writes into the engine's export folder, a new folder each time: its download is what the user gets.
      const byServer = !a.destDir && !shell.chooseFolder;
      const dest = a.destDir ?? (shell.chooseFolder ? await shell.chooseFolder('export-model') : engine.exportDir);
      checkPath(dest ?? undefined, 'write');
      return dest ? { dir: await engine.models.export(a.id, dest, byServer) } : null;
    },
    'files:recent': () => engine.recentResults(),
    'jobs:list': async () => engine.jobs(),
    'dialog:open-audio': async () => (shell.openAudio ? shell.openAudio() : desktopOnly()),
    'dialog:open-folder': async () => (shell.chooseFolder ? shell.chooseFolder('training-data') : desktopOnly()),
  };

  return async function dispatch<C extends Channel>(channel: C, rawArgs: unknown): Promise<Reply<ResultOf<C>>> {
    try {
      const args = validateArgs(channel, rawArgs);
      const value = await (handlers[channel] as (a: ArgsOf<C>) => Promise<ResultOf<C>>)(args);
      return { ok: true, value };
    } catch (e) {
      const error: WireError = e instanceof BadRequest ? { message: `Invalid request: ${e.message}`, code: 'bad-request' } : toErrorInfo(e);
      return { ok: false, error };
    }
  };
}

export type Dispatch = ReturnType<typeof createDispatcher>;
