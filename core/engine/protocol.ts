// Messages between the engine host (main thread) and its worker thread.
import type { RpcReply, RpcRequest } from '../workerRpc';
import type { BackendDescription, EngineErrorInfo, ExportParams, ExportResult, SeparationResult } from './types';
import type { BlendWeight } from '../separate/defaults';

/** A finished separation as the worker reports it; the host adds the job's id, file and model. */
export interface WorkerSeparation extends Omit<SeparationResult, 'resultId' | 'fileName' | 'sourcePath' | 'model'> {
  /** Track id -> float WAV file at the input's rate and channels, for playback and export. */
  files: Record<string, string>;
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

/** What the host asks the worker for, each answered with one reply (see core/workerRpc). */
export type EngineRequest = { op: 'backend' } | { op: 'export'; req: ExportRequest };

export type ToWorker =
  | RpcRequest<EngineRequest>
  | { type: 'separate'; jobId: string; path: string; fileName: string; modelDir: string; outDir: string; windowSeconds: number; rnnoiseBlend: BlendWeight; adapt: boolean; speechBankDir: string }
  | { type: 'cancel'; jobId: string };

export type FromWorker =
  | RpcReply<BackendDescription | ExportResult, EngineErrorInfo>
  | { type: 'progress'; jobId: string; stage: string; fraction: number | null }
  | { type: 'separated'; jobId: string; result: WorkerSeparation }
  | { type: 'failed'; jobId: string; error: EngineErrorInfo }
  | { type: 'cancelled'; jobId: string };
