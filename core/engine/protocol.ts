// Messages between the engine host (main thread) and its worker thread.
import type { BackendDescription, EngineErrorInfo, ExportParams, ExportResult, TrackInfo } from './types';

/** A finished separation as the worker reports it: tracks are WAV files in `dir`. */
export interface WorkerSeparation {
  inputRate: number;
  inputChannels: number;
  durationSec: number;
  modelRate: number;
  backend: string;
  /** Track id -> float WAV file at the input's rate and channels, for playback and export. */
  files: Record<string, string>;
  tracks: TrackInfo[];
  elapsedMs: number;
}

export interface ExportRequest extends Omit<ExportParams, 'resultId' | 'outDir'> {
  /** Names its progress and its cancel (the result's id). */
  jobId: string;
  outDir: string;
  /** The recording the stems came from: its base name names the files. */
  inputPath: string;
  files: Record<string, string>;
  /** The model that separated it (and which checkpoint, when not a run's best): part of the exported files' names. */
  modelTag: string;
}

export type ToWorker =
  | { type: 'request'; reqId: number; op: 'backend' }
  | { type: 'request'; reqId: number; op: 'export'; req: ExportRequest }
  | { type: 'separate'; jobId: string; path: string; fileName: string; modelDir: string; outDir: string }
  | { type: 'cancel'; jobId: string };

export type FromWorker =
  | { type: 'reply'; reqId: number; ok: true; value: BackendDescription | ExportResult }
  | { type: 'reply'; reqId: number; ok: false; error: EngineErrorInfo }
  | { type: 'progress'; jobId: string; stage: string; fraction: number | null }
  | { type: 'separated'; jobId: string; result: WorkerSeparation }
  | { type: 'failed'; jobId: string; error: EngineErrorInfo }
  | { type: 'cancelled'; jobId: string };
