// The one contract between the UI and the engine, shared by the Electron main process, the preload,
// the renderer and the serve-mode server. At run time it imports only core/types.ts's constants, so
// the sandboxed preload can bundle it. Everything here is plain structured-cloneable data.
// The data shapes are the engine's (type-only import: no engine code reaches the UI).
import type {
  BackendDescription, CheckpointKind, EngineEvent, ExportParams, ExportRate, ExportResult, InputRef, JobsSnapshot, ModelInfo, RecentResult,
  ReweightTerm, SeparateParams, StemFormat, TrainData, TrainParams, WeightsPreview,
} from '../core/engine/types';

export type * from '../core/engine/types';
/** The formats and training limits the UI offers are the ones the engine checks. */
export { AUDIO_FORMATS, TRAIN_LIMITS } from '../core/types';
export { TILT_PRESETS } from '../core/reweighting/presets';
export { SEPARATE_DEFAULTS } from '../core/separate/defaults';
export type { BlendWeight } from '../core/separate/defaults';
export type { BlendReport } from '../core/separate/blendReport';
export type { AdaptReport } from '../core/train/adapt';

/** A file in the desktop app's File > Open Recent menu. */
export interface RecentFile {
  path: string;
  name: string;
  openedAt: string;
}

type Empty = Record<string, never>;
/** A channel's argument and result types; `desktopOnly`: only the desktop shell can answer (the server replies 501). */
interface Spec<A, R> {
  readonly desktopOnly?: true;
  /** Never set: carries the types. */
  readonly types?: [A, R];
}
const spec = <A, R>(desktopOnly?: true): Spec<A, R> => (desktopOnly ? { desktopOnly } : {});

/**
 * The one declaration of the invoke channels: everything else (the channel list, argument and result
 * types, the server's 501s) is derived from it, and the validators and handlers are typed over it so
 * a channel missing from either does not compile. Every channel takes exactly one argument object.
 */
const CONTRACT = {
  'app:info': spec<Empty, { version: string; shell: 'electron' | 'web'; modelsDir: string; exportDir: string }>(),
  'backend:describe': spec<Empty, BackendDescription>(),
  'separate:start': spec<SeparateParams, { jobId: string }>(),
  /** Result is null when the user dismissed the folder dialog (Electron). */
  'separate:export': spec<ExportParams, ExportResult | null>(),
  'separate:discard': spec<{ resultId: string }, { discarded: boolean }>(),
  /** For an export the answer comes once it has ended: false when it finished before the cancel took. */
  'job:cancel': spec<{ jobId: string }, { cancelled: boolean }>(),
  /**
   * Checks a run's data before it starts: clips and hours per class and split, files left out and
   * why, problems, and what the built-in recordings would download. Answered by a train-data-check
   * event (progress events before it); job:cancel stops it.
   */
  'train:check': spec<{ data: TrainData }, { jobId: string }>(),
  /** `modelId`: the new model the run's checkpoints become. */
  'train:start': spec<TrainParams, { jobId: string; modelId: string }>(),
  /** Continues a cancelled or interrupted run (a model whose `run` has steps left) from its last checkpoint. */
  'train:continue': spec<{ modelId: string }, { jobId: string; modelId: string }>(),
  'train:pause': spec<{ jobId: string }, { paused: boolean }>(),
  'train:resume': spec<{ jobId: string }, { resumed: boolean }>(),
  'train:cancel': spec<{ jobId: string }, { cancelled: boolean }>(),
  'train:preview-weights': spec<{ reweighting: ReweightTerm[]; step: number; totalSteps: number }, WeightsPreview>(),
  'models:list': spec<Empty, ModelInfo[]>(),
  'models:rename': spec<{ id: string; name: string }, ModelInfo>(),
  'models:delete': spec<{ id: string }, { deleted: boolean }>(),
  /** `checkpoint`: for a training run, separate with its best or its last checkpoint. */
  'models:activate': spec<{ id: string; checkpoint?: CheckpointKind }, ModelInfo>(),
  /** `path` is a model folder on the engine's machine; Electron asks with a dialog when absent. */
  'models:import': spec<{ path?: string }, ModelInfo | null>(),
  /** `url`: serve mode's download of the exported folder as a zip. */
  'models:export': spec<{ id: string; destDir?: string }, { dir: string; url?: string } | null>(),
  /**
   * The recent results, newest first: kept by the engine in its data folder, so the list outlives it.
   * In serve mode each exported file that is still there has a download `url`.
   */
  'files:recent': spec<Empty, RecentResult[]>(),
  /** Reattaching (issue 16): the jobs going and the results held, for a window that reloads or reconnects. */
  'jobs:list': spec<Empty, JobsSnapshot>(),
  /** Native open dialog for audio files. */
  'dialog:open-audio': spec<Empty, InputRef[]>(true),
  /** Native folder dialog (training data folders). */
  'dialog:open-folder': spec<Empty, string | null>(true),
} as const;

export type Channel = keyof typeof CONTRACT;
type TypesOf<C extends Channel> = NonNullable<(typeof CONTRACT)[C]['types']>;
export type ArgsOf<C extends Channel> = TypesOf<C>[0];
export type ResultOf<C extends Channel> = TypesOf<C>[1];

export const CHANNELS = Object.keys(CONTRACT) as readonly Channel[];
/** Channels only the desktop shell can answer (the server replies 501). */
export const DESKTOP_ONLY: readonly Channel[] = CHANNELS.filter((c) => (CONTRACT[c] as Spec<unknown, unknown>).desktopOnly);

export function isChannel(c: unknown): c is Channel {
  return typeof c === 'string' && Object.hasOwn(CONTRACT, c);
}

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
/** The events the preload lets the renderer subscribe to (a Record, so a new event must be listed). */
const EVENT_SET: Record<EventName, true> = { 'engine:event': true, 'app:open-files': true, 'app:navigate': true, 'app:command': true };

export function isEvent(e: unknown): e is EventName {
  return typeof e === 'string' && Object.hasOwn(EVENT_SET, e);
}

/** Errors cross IPC/HTTP as this shape (Electron strips custom error fields). */
export interface WireError {
  message: string;
  code: string;
  file?: string;
}

export type Reply<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** What the preload exposes as `window.tilt`: the contract's channels and events and nothing else;
 * replies come as envelopes (Electron would strip an Error's code on the way through). */
export interface PreloadApi {
  invoke<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<Reply<ResultOf<C>>>;
  /** Subscribes to an event; returns the unsubscribe. */
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void;
  /** Path of a dropped or chosen File (Electron's webUtils), '' when it has none. */
  pathForFile(file: File): string;
  /** URL the renderer's media elements load a result track from. */
  mediaUrl(resultId: string, trackId: string): string;
  /**
   * The stem's file, exported first when this session has not exported it in this format and rate
   * (into a scratch folder): `start: false` readies it (on pointer down), `start: true` also begins the
   * system's drag of it (from dragstart).
   */
  stemDrag(drag: StemDrag, start: boolean): Promise<Reply<{ fileName: string }>>;
  /** Shows a file the engine wrote (an exported stem) in the system's file manager. */
  reveal(path: string): Promise<Reply<{ shown: boolean }>>;
}

/**
 * Preload -> main (sendSync): the path of a file dropped on or chosen in the window, which the
 * preload read with webUtils.getPathForFile (a page script cannot make up such a File).
 */
export const GRANT_DROPPED = 'files:grant-dropped';

/** A stem of a result in an export format and rate: what a stem row's drag handle hands out. */
export interface StemDrag {
  resultId: string;
  stem: string;
  format: StemFormat;
  rate: ExportRate;
}

/**
 * Desktop-only requests (preload -> main, invoke) that the main process answers itself, with the
 * operating system rather than the engine: dragging a stem's file out of the window, showing a file in
 * the file manager. A browser has neither (it downloads instead), so they are not CONTRACT channels: no
 * shell-neutral handler or server route exists for them. electron/desktop.ts checks the sender, the
 * arguments, and that every file is one the engine wrote.
 */
export const DESKTOP_CHANNELS = {
  /** StemDrag & { start } -> { fileName }: see PreloadApi.stemDrag. */
  stemDrag: 'desktop:stem-drag',
  /** { path } -> { shown }: see PreloadApi.reveal. */
  reveal: 'desktop:reveal',
} as const;

/** The custom scheme that serves result audio to the Electron renderer. */
export const MEDIA_SCHEME = 'tilt-media';
/** The scheme the Electron renderer itself is loaded from. */
export const APP_SCHEME = 'tilt-app';
