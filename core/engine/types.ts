// Plain, structured-cloneable data that crosses the engine boundary (worker <-> host <-> Electron
// IPC / HTTP). Tensors never appear here: the engine keeps them inside its worker.
import type { AudioFormat, SoundClass, MixtureType } from '../types';
import type { TermConfig, WeightDiagnostics } from '../reweighting';
import type { DataCheck } from '../train/check';
import type { BeforeAfterSummary } from '../train/beforeAfter';
import type { BlendWeight } from '../separate/defaults';
import type { BlendReport } from '../separate/blendReport';
import type { AdaptReport } from '../train/adapt';

export type { SoundClass, MixtureType, DataCheck, BeforeAfterSummary };

export type StemFormat = AudioFormat;
/** Export at the input file's rate (full band, the default) or at the model's 8 kHz. */
export type ExportRate = 'model' | 'input';

export interface BackendDescription {
  /** Which of Tilt's choices runs (tfjs-node-gpu, tfjs-node, wasm, cpu). */
  choice: string;
  /** Human-readable, naming the backends that could not start. */
  label: string;
  skipped: { choice: string; reason: string }[];
}

/** An audio file the engine can read: a path on the engine's machine, or an upload held by the server. */
export type InputRef = { kind: 'path'; path: string } | { kind: 'upload'; id: string; name: string };

export interface SeparateParams {
  input: InputRef;
  /** Model id from models.list; the active model when absent. */
  modelId?: string;
  /** Seconds of audio the model hears at once (WINDOW_SECONDS_RANGE); the separation default when absent. */
  windowSeconds?: number;
  /** RNNoise's share of the speech stem: 'auto' (per window where the model's stems fit it, the default) or 0 (off) to 1: SeparateOptions.denoiserBlend. */
  rnnoiseBlend?: BlendWeight;
  /** Fine-tune a copy of the model on the recording's own sound first (SeparateOptions.adapt); default off. */
  adapt?: boolean;
}

export interface TrackInfo {
  /** 'mixture' or a stem name ('speech', 'env'). */
  id: string;
  label: string;
  kind: 'mixture' | 'stem';
  /** The input's: tracks keep its channels and rate. */
  channels: number;
  /** Max-abs envelope of each channel at `peaksPerSecond`, for drawing without decoding. */
  peaks: number[][];
  peaksPerSecond: number;
  /** RMS level in dBFS. */
  rmsDb: number;
}

export interface SeparationResult {
  resultId: string;
  fileName: string;
  /** The source file on the engine's machine (absent for uploads). */
  sourcePath?: string;
  /** The tracks are at the input's rate and channel count. */
  inputRate: number;
  inputChannels: number;
  durationSec: number;
  /** The rate the model separated at (mono), before the stems were carried back to the input's band and channels. */
  modelRate: number;
  /** `checkpoint`: which checkpoint of a training run separated, and the step of its weights. */
  model: { id: string; name: string; checkpoint?: { kind: CheckpointKind; step: number } };
  backend: string;
  /** The window the model heard at a time. */
  windowSeconds: number;
  /** RNNoise's share of the speech stem as separated (0: the model's alone, also where 'auto' did not fit the model; 'auto': chosen per window). */
  rnnoiseBlend: BlendWeight;
  /** With a blend: how much of the speech the model and RNNoise disagreed on, and RNNoise's share (null where the speech stem is silent). */
  blendReport?: BlendReport | null;
  /** When adapting was asked for: what it did. */
  adapt?: AdaptReport;
  tracks: TrackInfo[];
  elapsedMs: number;
}

export interface ExportParams {
  resultId: string;
  /** Stem ids to export; all stems when empty. */
  stems: string[];
  format: StemFormat;
  rate: ExportRate;
  /** Folder on the engine's machine; the engine's export folder when absent. */
  outDir?: string;
  /** Replace files of the same name. Names carry the model and format, so only a repeat export meets one. */
  overwrite?: boolean;
  /** When a name is taken, write under the next free one (`-2`, `-3`, ...) instead of failing with 'exists'. */
  keepBoth?: boolean;
  /** Stem id -> gain: writes ONE file, the stems summed with these gains (a rebalanced mix), instead of the stems. */
  mix?: Record<string, number>;
}

export interface ExportedFile {
  /** The stem id, or 'mix' for a rebalanced mix. */
  stem: string;
  fileName: string;
  path: string;
  bytes: number;
  sampleRate: number;
  channels: number;
  frames: number;
  format: StemFormat;
  /** Download URL (serve mode, where the files are on the server's machine). */
  url?: string;
}

export interface ExportResult {
  dir: string;
  files: ExportedFile[];
}

// ---- Training -------------------------------------------------------------------------------

/** One term of the logits F (terms add up): the training config's JSON, e.g.
 * [{"robust":{"alpha":0.2}},{"class":{"speech":3,"env":0}}]. An empty list is uniform. */
export type ReweightTerm = TermConfig;

export type TrainData =
  | { kind: 'corpus' }
  /** The user's folders, each labelled with the class its audio belongs to. */
  | { kind: 'folders'; folders: { path: string; class: SoundClass }[] };

export interface TrainParams {
  /** Name of the new model the run produces. */
  name: string;
  baseModelId: string;
  data: TrainData;
  reweighting: ReweightTerm[];
  steps: number;
  batchSize: number;
  segmentSec: number;
  lr: number;
  seed: number;
  /** Validate (and checkpoint) every this many steps. */
  validateEvery: number;
  /**
   * The user agreed to download the built-in recordings (after the data check told the size); a run
   * that needs the download is refused without it.
   */
  download?: boolean;
}

/** Entropy, effective batch size (1 / sum p^2), max weight, mass per class and mixture type. */
export type WeightsDiagnostics = WeightDiagnostics;

/** What a sample batch would get under a reweighting config (the Train view's live preview). */
export interface WeightsPreview {
  examples: { classes: SoundClass[]; loss: number; weight: number }[];
  diagnostics: WeightsDiagnostics;
}

export interface ValidationMetrics {
  mean: number;
  std: number;
  perClass: Partial<Record<SoundClass, number>>;
  perMixtureType: Partial<Record<MixtureType, number>>;
  /** Percentile (1, 5, 10, 25, 50, 75, 90, 95, 99) -> SI-SDRi dB. */
  percentiles: Record<string, number>;
}

/** A training run's checkpoints: the weights that validated best, and the newest (what continuing resumes). */
export type CheckpointKind = 'best' | 'last';

export interface CheckpointInfo {
  kind: CheckpointKind;
  step: number;
  dir: string;
  /** Model id under which the checkpoint can be used for separation. */
  modelId: string;
  /** The validation SI-SDRi (dB) that made `best` best: of the favoured class's sources in a tilted run. */
  valSiSdri?: number;
}

// ---- Models --------------------------------------------------------------------------------

export interface ModelInfo {
  id: string;
  name: string;
  dir: string;
  /** Shipped with the app: read-only. */
  builtin: boolean;
  active: boolean;
  preset?: string;
  params?: number;
  sampleRate?: number;
  sources?: string[];
  createdAt?: string;
  /** The model card (markdown) when the folder has one. */
  card?: string;
  /** Headline metrics from training, when known. */
  metrics?: Record<string, number>;
  /** For a training run's folder, where its last checkpoint stands; Train continues it while step < totalSteps. */
  run?: { step: number; totalSteps: number };
  /** For a training run's folder: the checkpoint whose weights `dir` holds (the one chosen to separate, else best). */
  checkpoint?: CheckpointKind;
  /** For a training run's folder: its checkpoints and the step of each one's weights. */
  checkpoints?: { kind: CheckpointKind; step: number }[];
}

// ---- Jobs and events -----------------------------------------------------------------------

export interface SeriesPoint {
  step: number;
  value: number;
}

/** A training run as it stands: what a window that (re)connects needs to show it and control it. */
export interface TrainingSnapshot {
  jobId: string;
  /** The model the run's checkpoints become. */
  modelId: string;
  label: string;
  state: 'starting' | 'running' | 'paused';
  step: number;
  totalSteps: number;
  phase: { stage: string; fraction: number | null; etaSec?: number } | null;
  /** Decimated to a few hundred points each, whatever the run's length. */
  loss: SeriesPoint[];
  entropy: SeriesPoint[];
  effectiveBatch: SeriesPoint[];
  validations: { step: number; metrics: ValidationMetrics }[];
  checkpoints: CheckpointInfo[];
  /** The last step's batch weights. */
  lastWeights: WeightsDiagnostics | null;
}

/** An export being written, as a window that (re)connects needs it: its job id is its result's id. */
export interface ExportSnapshot {
  jobId: string;
  /** One file of the stems summed (Export mix) rather than the stems. */
  mix: boolean;
  /** 'starting' until the worker reports, then its stages ('exporting', 'checking'). */
  stage: string;
  fraction: number | null;
  /** Seconds left in the stage (once the engine can tell) and since the export started. */
  etaSec?: number;
  elapsedSec?: number;
}

/** The engine's jobs and results now (jobs:list): a reloaded or reconnected window reattaches to them. */
export interface JobsSnapshot {
  /** Separations waiting or running, in queue order. */
  separations: { jobId: string; label: string; state: 'queued' | 'running'; stage: string; fraction: number | null }[];
  /** Finished separations the engine still holds, oldest first. */
  results: SeparationResult[];
  /** Exports being written. */
  exports: ExportSnapshot[];
  /** The last finished export of each result held: what "Exported to" shows, also to a window that was away when it finished. */
  exported: (ExportResult & { resultId: string })[];
  training: TrainingSnapshot | null;
}

/** One export of a recent result: where its files went. */
export interface RecentExport {
  dir: string;
  /** When it finished (ISO 8601). */
  at: string;
  files: {
    stem: string;
    fileName: string;
    path: string;
    format: StemFormat;
    /** The file is still there, the size it was written at (filled in when the list is read). */
    present: boolean;
    /** Download URL (serve mode). */
    url?: string;
  }[];
}

/**
 * A separation in the recent list, which the engine keeps in its data folder (beside the settings),
 * so that it outlives the engine process: newest first, at most 50.
 */
export interface RecentResult {
  resultId: string;
  fileName: string;
  /** The source file on the engine's machine; absent for an upload, which cannot be opened again. */
  sourcePath?: string;
  model: SeparationResult['model'];
  /** When it was separated (ISO 8601). */
  separatedAt: string;
  durationSec: number;
  /** Where its stems (or mixes) were exported, newest first (the last 10). */
  exports: RecentExport[];
  /**
   * The engine still holds the result (separated since it started, not removed): it plays and exports
   * without separating again. Filled in when the list is read.
   */
  available: boolean;
}

/**
 * 'check': checking a run's data before it starts (train:check). 'export': writing a result's stems
 * (separate:export); its job id is the result's id (one export of a result at a time).
 */
export type JobKind = 'separate' | 'train' | 'check' | 'export';

export interface EngineErrorInfo {
  message: string;
  /** Machine-readable: 'bad-input', 'unsupported', 'not-found', 'exists', 'cancelled', 'internal', ... */
  code: string;
  file?: string;
}

export type EngineEvent =
  | { type: 'job-started'; jobId: string; kind: JobKind; label: string }
  /** `etaSec`: seconds left in this stage, once it has run long enough to tell; `elapsedSec`: since the job started running. */
  | { type: 'progress'; jobId: string; kind: JobKind; stage: string; fraction: number | null; etaSec?: number; elapsedSec?: number }
  | { type: 'separate-done'; jobId: string; result: SeparationResult }
  /** An export finished (its job id is its result's id); a failed or cancelled one ends with job-failed / job-cancelled of kind 'export'. */
  | { type: 'export-done'; jobId: string; result: ExportResult }
  | { type: 'train-state'; jobId: string; state: 'running' | 'paused' }
  /** `weights` is null and `skipped` says why for a step that was skipped (non-finite loss or gradient). */
  | { type: 'train-step'; jobId: string; step: number; totalSteps: number; loss: number; lr: number; weights: WeightsDiagnostics | null; skipped?: string }
  | { type: 'train-validation'; jobId: string; step: number; metrics: ValidationMetrics }
  | { type: 'train-checkpoint'; jobId: string; checkpoint: CheckpointInfo }
  /** `beforeAfter`: a finished fine-tune's held-out scores, base model against the new one. */
  | { type: 'train-done'; jobId: string; checkpoints: CheckpointInfo[]; modelId: string; beforeAfter: BeforeAfterSummary | null }
  | { type: 'train-data-check'; jobId: string; check: DataCheck }
  | { type: 'train-warning'; jobId: string; message: string }
  | { type: 'job-cancelled'; jobId: string; kind: JobKind }
  | { type: 'job-failed'; jobId: string; kind: JobKind; error: EngineErrorInfo };
