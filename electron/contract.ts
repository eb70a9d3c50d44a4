// The one contract between the UI and the engine, shared by the Electron main process, the preload,
// the renderer and the serve-mode server. Everything here is plain structured-cloneable data.
// The data shapes are the engine's (type-only import: no engine code reaches the UI).
import type {
  BackendDescription, EngineEvent, ExportParams, ExportResult, InputRef, ModelInfo, ReweightTerm,
  SeparateParams, TrainData, TrainParams, WeightsPreview,
} from '../core/engine/types';

export type * from '../core/engine/types';

export interface RecentFile {
  path: string;
  name: string;
  openedAt: string;
}

/** channel -> [argument, result]. Every channel takes exactly one argument object. */
export interface InvokeMap {
  'app:info': [Record<string, never>, { version: string; shell: 'electron' | 'web'; modelsDir: string; exportDir: string }];
  'backend:describe': [Record<string, never>, BackendDescription];
  'separate:start': [SeparateParams, { jobId: string }];
  /** Result is null when the user dismissed the folder dialog (Electron). */
  'separate:export': [ExportParams, ExportResult | null];
  'separate:discard': [{ resultId: string }, { discarded: boolean }];
  'job:cancel': [{ jobId: string }, { cancelled: boolean }];
  /**
   * Checks a run's data before it starts: clips and hours per class and split, files left out and
   * why, problems, and what the built-in recordings would download. Answered by a train-data-check
   * event (progress events before it); job:cancel stops it.
   */
  'train:check': [{ data: TrainData }, { jobId: string }];
  /** `modelId`: the new model the run's checkpoints become. */
  'train:start': [TrainParams, { jobId: string; modelId: string }];
  /** Continues a cancelled or interrupted run (a model whose `run` has steps left) from its last checkpoint. */
  'train:continue': [{ modelId: string }, { jobId: string; modelId: string }];
  'train:pause': [{ jobId: string }, { paused: boolean }];
  'train:resume': [{ jobId: string }, { resumed: boolean }];
  'train:cancel': [{ jobId: string }, { cancelled: boolean }];
  'train:preview-weights': [{ reweighting: ReweightTerm[]; step: number; totalSteps: number }, WeightsPreview];
  'models:list': [Record<string, never>, ModelInfo[]];
  'models:rename': [{ id: string; name: string }, ModelInfo];
  'models:delete': [{ id: string }, { deleted: boolean }];
  'models:activate': [{ id: string }, ModelInfo];
  /** `path` is a model folder on the engine's machine; Electron asks with a dialog when absent. */
  'models:import': [{ path?: string }, ModelInfo | null];
  'models:export': [{ id: string; destDir?: string }, { dir: string } | null];
  'files:recent': [Record<string, never>, RecentFile[]];
  /** Electron only: native open dialog for audio files. */
  'dialog:open-audio': [Record<string, never>, InputRef[]];
  /** Electron only: native folder dialog (training data folders). */
  'dialog:open-folder': [Record<string, never>, string | null];
}

export type Channel = keyof InvokeMap;
export type ArgsOf<C extends Channel> = InvokeMap[C][0];
export type ResultOf<C extends Channel> = InvokeMap[C][1];

export const CHANNELS: readonly Channel[] = [
  'app:info', 'backend:describe', 'separate:start', 'separate:export', 'separate:discard', 'job:cancel',
  'train:check', 'train:start', 'train:continue', 'train:pause', 'train:resume', 'train:cancel', 'train:preview-weights',
  'models:list', 'models:rename', 'models:delete', 'models:activate', 'models:import', 'models:export',
  'files:recent', 'dialog:open-audio', 'dialog:open-folder',
];

/** Channels only the desktop shell can answer (the server replies 501). */
export const DESKTOP_ONLY: readonly Channel[] = ['dialog:open-audio', 'dialog:open-folder'];

export type View = 'separate' | 'train' | 'models';
/** Menu commands the window carries out: they act on its state (the result on screen, the models list). */
export type AppCommand = 'import-model' | 'export-stems';

/** event name -> payload, main/server -> renderer. */
export interface EventMap {
  'engine:event': EngineEvent;
  /** The menu, the dock or a second launch asked to open files. */
  'app:open-files': { inputs: InputRef[] };
  'app:navigate': { view: View };
  'app:command': { command: AppCommand };
}
export type EventName = keyof EventMap;
export const EVENTS: readonly EventName[] = ['engine:event', 'app:open-files', 'app:navigate', 'app:command'];

/** Errors cross IPC/HTTP as this shape (Electron strips custom error fields). */
export interface WireError {
  message: string;
  code: string;
  file?: string;
}

export type Reply<T> = { ok: true; value: T } | { ok: false; error: WireError };
type Call<C extends Channel> = (args: ArgsOf<C>) => Promise<Reply<ResultOf<C>>>;

/** What the preload exposes as `window.tilt`: one named method per channel, replies as envelopes
 * (Electron would strip an Error's code on the way through). */
export interface PreloadApi {
  info: Call<'app:info'>;
  backend: Call<'backend:describe'>;
  separate: Call<'separate:start'>;
  exportStems: Call<'separate:export'>;
  discardResult: Call<'separate:discard'>;
  cancelJob: Call<'job:cancel'>;
  train: {
    check: Call<'train:check'>;
    start: Call<'train:start'>;
    continue: Call<'train:continue'>;
    pause: Call<'train:pause'>;
    resume: Call<'train:resume'>;
    cancel: Call<'train:cancel'>;
    previewWeights: Call<'train:preview-weights'>;
  };
  models: {
    list: Call<'models:list'>;
    rename: Call<'models:rename'>;
    delete: Call<'models:delete'>;
    activate: Call<'models:activate'>;
    import: Call<'models:import'>;
    export: Call<'models:export'>;
  };
  recentFiles: Call<'files:recent'>;
  dialogs: { openAudio: Call<'dialog:open-audio'>; openFolder: Call<'dialog:open-folder'> };
  /** Engine events (job progress, training metrics); returns the unsubscribe. */
  onProgress(listener: (event: EngineEvent) => void): () => void;
  onOpenFiles(listener: (payload: EventMap['app:open-files']) => void): () => void;
  onNavigate(listener: (payload: EventMap['app:navigate']) => void): () => void;
  onCommand(listener: (payload: EventMap['app:command']) => void): () => void;
  /** Path of a dropped or chosen File (Electron's webUtils), '' when it has none. */
  pathForFile(file: File): string;
  /** URL the renderer's media elements load a result track from. */
  mediaUrl(resultId: string, trackId: string): string;
}

/**
 * Preload -> main (sendSync): the path of a file dropped on or chosen in the window, which the
 * preload read with webUtils.getPathForFile (a page script cannot make up such a File).
 */
export const GRANT_DROPPED = 'files:grant-dropped';

/** The custom scheme that serves result audio to the Electron renderer. */
export const MEDIA_SCHEME = 'tilt-media';
/** The scheme the Electron renderer itself is loaded from. */
export const APP_SCHEME = 'tilt-app';
