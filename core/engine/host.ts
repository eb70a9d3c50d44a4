// The engine host: the one object the Electron main process and `tilt serve` drive. It owns job ids,
// the separation queue, progress throttling, cancel and the results on disk, and runs all tensor
// work in a worker thread so the caller's event loop never blocks.
import { SPEECH_BANK_DIR } from '../data/speechBank';
import type { Worker } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { chmodSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { startWorker } from '../worker';
import { RpcCalls } from '../workerRpc';
import { EngineError, toErrorInfo } from './errors';
import { JobClock } from './eta';
import { ModelStore } from './models';
import { removeStaleWorkDirs } from './paths';
import { previewWeights } from './preview';
import { RecentResults } from './recent';
import { dataConfigFor, PHASE_STAGES, runToContinue, TrainingRun, trainConfigFor } from './training';
import { DataCheckJob } from '../train/host';
import { SEPARATE_DEFAULTS, type BlendWeight } from '../separate/defaults';
import { corpusCheck } from '../train/check';
import { parseTrainConfig } from '../train/config';
import type { RunSoFar, TrainingDefaults } from './training';
import type { EngineRequest, ExportRequest, FromWorker, ToWorker, WorkerSeparation } from './protocol';
import type {
  BackendDescription, EngineErrorInfo, EngineEvent, ExportedFile, ExportParams, ExportRate, ExportResult, InputRef, JobsSnapshot, ModelInfo,
  RecentResult, ReweightTerm, SeparateParams, SeparationResult, StemFormat, TrainData, TrainParams, WeightsPreview,
} from './types';

export interface EngineConfig {
  /** The user's models folder. */
  modelsDir: string;
  /** Read-only folders of shipped models (assets/models). */
  builtinModelsDirs?: string[];
  /** The shipped speech bank that adapting to a recording uses (assets/speech-bank); SPEECH_BANK_DIR when absent. */
  speechBankDir?: string;
  /** Where settings (active model) are kept. */
  settingsFile: string;
  /** Where the recent results are kept (they outlive the engine); recent.json beside `settingsFile` when absent. */
  recentFile?: string;
  /** Scratch space for uploads and separation results; removed on close. */
  workDir: string;
  /** Default export folder when a request names none. */
  exportDir: string;
  /** Forces a tfjs backend (as TILT_BACKEND). */
  backend?: string;
  /** The worker script; defaults to ./worker.ts next to this file (run through tsx). */
  workerUrl?: URL;
  /** The training worker script; defaults to core/train/worker.ts (run through tsx). */
  trainWorkerUrl?: URL;
  /** At most one progress event per job per this many ms (stage changes always pass). */
  progressIntervalMs?: number;
  /** How long a running job may take to notice a cancel before its worker is terminated. */
  cancelGraceMs?: number;
  /** Corpus and validation set of training runs. */
  training?: TrainingDefaults;
}

interface SepJob {
  jobId: string;
  path: string;
  fileName: string;
  model: SeparationResult['model'] & { dir: string };
  fromUpload: boolean;
  windowSeconds: number;
  rnnoiseBlend: BlendWeight;
  adapt: boolean;
  state: 'queued' | 'running';
  /** The last progress, for windows that attach while it runs. */
  stage: string;
  fraction: number | null;
  /** From when it started running: elapsed time and time left. */
  clock?: JobClock;
  cancelRequested?: boolean;
  cancelTimer?: NodeJS.Timeout;
}

interface StoredResult {
  result: SeparationResult;
  inputPath: string;
  files: Record<string, string>;
  dir: string;
  /** The last export shown to the user (what "Exported to" shows, also after a reload). */
  lastExport?: ExportResult;
  /** Stems exported in this session, newest first, with the rate asked for: a drag hands out one of these when it is still there. */
  exportedStems: { file: ExportedFile; rate: ExportRate }[];
}

/** An export going; its job id is its result's id. */
interface ExportJob {
  clock: JobClock;
  /** Cancel asked before the worker has it. */
  cancelled: boolean;
  /** Asked for by the user (listed, with events); not a drag's export into the scratch folder. */
  shown: boolean;
  mix: boolean;
  stage: string;
  fraction: number | null;
  etaSec?: number;
  /** Settles when the export has ended: true when it stopped on a cancel and wrote no file. */
  ended: Promise<boolean>;
}

/** Stem exports kept per result for drags. */
const EXPORTED_STEMS_KEPT = 32;

type Listener = (e: EngineEvent) => void;

/** What a separation records of its model: for a training run, the checkpoint and the step of its weights. */
function modelOfJob(m: ModelInfo): SepJob['model'] {
  const step = m.checkpoints?.find((c) => c.kind === m.checkpoint)?.step;
  return { id: m.id, name: m.name, dir: m.dir, ...(m.checkpoint && step !== undefined ? { checkpoint: { kind: m.checkpoint, step } } : {}) };
}

/** A model's part of export names: a run's last checkpoint carries its step, so it never takes its best's names. */
function modelTag(model: SeparationResult['model']): string {
  return model.checkpoint?.kind === 'last' ? `${model.id}.step-${model.checkpoint.step}` : model.id;
}

/**
 * A failed separation as the user should read it: the file's own name instead of the path of its
 * upload copy, no header bytes, and what to do about it.
 */
function readableFailure(job: SepJob, error: EngineErrorInfo): EngineErrorInfo {
  let message = error.message.split(job.path).join(job.fileName).replace(/\s*\(starts with [0-9a-f ]+\)/, '');
  if (error.code === 'bad-input') message += '. Tilt reads WAV, FLAC, Ogg Vorbis and MP3: check that the file plays, or convert it to WAV or FLAC and add it again.';
  return { message, code: error.code, ...(job.fromUpload ? {} : { file: job.path }) };
}

export class Engine {
  readonly models: ModelStore;
  private readonly listeners = new Set<Listener>();
  private worker: Worker | null = null;
  private readonly calls = new RpcCalls<EngineRequest, BackendDescription | ExportResult, EngineErrorInfo>(
    (m) => this.post(m),
    (e) => new EngineError(e.message, e.code, e.file),
  );
  private readonly queue: SepJob[] = [];
  private readonly results = new Map<string, StoredResult>();
  private readonly uploads = new Map<string, { path: string; name: string }>();
  private readonly lastProgress = new Map<string, { t: number; stage: string }>();
  private readonly runs = new Map<string, TrainingRun>();
  private readonly checks = new Map<string, DataCheckJob>();
  /** Exports going, by result id (their job id). */
  private readonly exports = new Map<string, ExportJob>();
  /** Drags' exports going, by result/stem/format/rate: a second drag of the same waits for the first. */
  private readonly stemExports = new Map<string, Promise<ExportedFile>>();
  /** Every file this engine's exports wrote (resolved paths). */
  private readonly produced = new Set<string>();
  private readonly recent: RecentResults;
  private closed = false;

  constructor(private readonly config: EngineConfig) {
    this.models = new ModelStore({
      userDir: config.modelsDir,
      builtinDirs: config.builtinModelsDirs ?? [],
      settingsFile: config.settingsFile,
    });
    this.recent = new RecentResults(config.recentFile ?? join(dirname(config.settingsFile), 'recent.json'));
    // Uploads and results are the user's audio: readable by the user alone.
    mkdirSync(config.workDir, { recursive: true, mode: 0o700 });
    chmodSync(config.workDir, 0o700);
    mkdirSync(join(config.workDir, 'results'), { recursive: true, mode: 0o700 });
    mkdirSync(join(config.workDir, 'uploads'), { recursive: true, mode: 0o700 });
    void removeStaleWorkDirs(config.workDir);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get exportDir(): string {
    return this.config.exportDir;
  }

  async backend(): Promise<BackendDescription> {
    return (await this.request({ op: 'backend' })) as BackendDescription;
  }

  /** Reserves a file for an upload (serve mode); the caller writes the bytes, then uses the ref. */
  async createUpload(name: string): Promise<{ ref: Extract<InputRef, { kind: 'upload' }>; path: string }> {
    const id = randomUUID();
    const safe = basename(name).replace(/[^\w .()+-]/g, '_').slice(0, 120);
    // "." and ".." would name the uploads folder itself or its parent.
    if (!/[^.\s]/.test(safe)) throw new EngineError(`"${name}" is not a file name: name the upload like recording.wav`, 'bad-input');
    const dir = join(this.config.workDir, 'uploads', id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, safe);
    this.uploads.set(id, { path, name: safe });
    return { ref: { kind: 'upload', id, name: safe }, path };
  }

  /** Forgets an upload and removes its file (an upload that did not arrive whole). */
  async dropUpload(id: string): Promise<void> {
    this.uploads.delete(id);
    await rm(join(this.config.workDir, 'uploads', id), { recursive: true, force: true });
  }

  async separate(params: SeparateParams): Promise<{ jobId: string }> {
    const { path, fileName } = await this.resolveInput(params.input);
    const fromUpload = params.input.kind === 'upload';
    const model = params.modelId ? await this.models.get(params.modelId) : await this.models.active();
    const jobId = randomUUID();
    const windowSeconds = params.windowSeconds ?? SEPARATE_DEFAULTS.windowSec;
    const rnnoiseBlend = params.rnnoiseBlend ?? 'auto';
    const adapt = params.adapt ?? false;
    this.queue.push({ jobId, path, fileName, model: modelOfJob(model), fromUpload, windowSeconds, rnnoiseBlend, adapt, state: 'queued', stage: 'queued', fraction: 0 });
    this.emit({ type: 'job-started', jobId, kind: 'separate', label: fileName });
    this.emit({ type: 'progress', jobId, kind: 'separate', stage: 'queued', fraction: 0 });
    this.pump();
    return { jobId };
  }

  cancel(jobId: string): boolean {
    const check = this.checks.get(jobId);
    if (check) {
      check.cancel();
      return true;
    }
    // An export stops at its next block; its call then fails with 'cancelled'.
    const exporting = this.exports.get(jobId);
    if (exporting) {
      exporting.cancelled = true;
      this.post({ type: 'cancel', jobId });
      return true;
    }
    const i = this.queue.findIndex((j) => j.jobId === jobId);
    if (i < 0) return false;
    const job = this.queue[i]!;
    if (job.state === 'queued') {
      this.queue.splice(i, 1);
      this.emit({ type: 'job-cancelled', jobId, kind: 'separate' });
      return true;
    }
    job.cancelRequested = true;
    this.post({ type: 'cancel', jobId });
    // A job stuck inside a long synchronous kernel cannot see the abort: end its worker instead.
    job.cancelTimer ??= setTimeout(() => {
      if (this.queue[0]?.jobId !== jobId) return;
      this.restartWorker(new EngineError('cancelled', 'cancelled'));
    }, this.config.cancelGraceMs ?? 3000);
    return true;
  }

  /**
   * cancel(), for a caller that needs the outcome: an export answers once it has ended, true when
   * it stopped without writing a file, false when it had finished first. A page that follows an
   * export it did not start learns how it ended from this answer even if the event is lost.
   */
  async cancelAndSettle(jobId: string): Promise<boolean> {
    const exporting = this.checks.has(jobId) ? undefined : this.exports.get(jobId);
    if (!this.cancel(jobId)) return false;
    return exporting ? exporting.ended : true;
  }

  /** The jobs going and the results held now: what a window reattaches to after a reload or a lost connection. */
  jobs(): JobsSnapshot {
    const run = [...this.runs.values()][0];
    return {
      separations: this.queue.map((j) => ({ jobId: j.jobId, label: j.fileName, state: j.state, stage: j.stage, fraction: j.fraction })),
      results: [...this.results.values()].map((r) => r.result),
      exports: [...this.exports].filter(([, x]) => x.shown).map(([jobId, x]) => ({
        jobId, mix: x.mix, stage: x.stage, fraction: x.fraction, elapsedSec: x.clock.elapsedSec(), ...(x.etaSec === undefined ? {} : { etaSec: x.etaSec }),
      })),
      exported: [...this.results.values()].flatMap((r) => (r.lastExport ? [{ resultId: r.result.resultId, ...structuredClone(r.lastExport) }] : [])),
      training: run ? run.snapshot() : null,
    };
  }

  result(resultId: string): SeparationResult | undefined {
    return this.results.get(resultId)?.result;
  }

  /** The WAV file of one track of a result, for streaming to the UI. */
  trackFile(resultId: string, trackId: string): string | undefined {
    return this.results.get(resultId)?.files[trackId];
  }

  async discard(resultId: string): Promise<boolean> {
    const r = this.results.get(resultId);
    if (!r) return false;
    this.results.delete(resultId);
    await rm(r.dir, { recursive: true, force: true });
    await rm(join(this.config.workDir, 'drag', resultId), { recursive: true, force: true });
    return true;
  }

  /** The recent results (kept in the data folder across restarts), newest first. */
  recentResults(): Promise<RecentResult[]> {
    return this.recent.list((resultId) => this.results.has(resultId));
  }

  /** Whether `path` is a file this engine's exports wrote: in this session, or for a result in the recent list. */
  async producedFile(path: string): Promise<boolean> {
    return this.produced.has(resolve(path)) || this.recent.wrote(path);
  }

  /**
   * Writes the stems (or, with `mix`, one file of them summed) of a result. A job of its result:
   * progress events of kind 'export', job:cancel with the result's id, and export-done (or
   * job-failed / job-cancelled) at the end, for windows that reattached while it ran.
   */
  exportStems(p: ExportParams): Promise<ExportResult> {
    return this.runExport(p, true);
  }

  /**
   * One stem of a result as a file in this format and rate, to drag out of the app or download:
   * the file an export of this session wrote, when it is still there as written, else a new export
   * into the scratch folder (removed with the result, or when the engine closes).
   */
  async stemFile(resultId: string, stem: string, format: StemFormat, rate: ExportRate): Promise<ExportedFile> {
    const stored = this.results.get(resultId);
    if (!stored) throw new EngineError('That separation is no longer available: separate the file again', 'not-found');
    for (const { file, rate: r } of stored.exportedStems) {
      if (file.stem !== stem || file.format !== format || r !== rate) continue;
      if ((await stat(file.path).catch(() => null))?.size === file.bytes) return file;
    }
    const key = `${resultId}/${stem}/${format}/${rate}`;
    let going = this.stemExports.get(key);
    if (!going) {
      const outDir = join(this.config.workDir, 'drag', resultId);
      going = this.runExport({ resultId, stems: [stem], format, rate, outDir, overwrite: true }, false)
        .then((out) => out.files[0]!)
        .finally(() => this.stemExports.delete(key));
      this.stemExports.set(key, going);
    }
    return going;
  }

  private async runExport(p: ExportParams, shown: boolean): Promise<ExportResult> {
    const stored = this.results.get(p.resultId);
    if (!stored) throw new EngineError('That separation is no longer available: separate the file again', 'not-found');
    const stemIds = stored.result.tracks.filter((t) => t.kind === 'stem').map((t) => t.id);
    const unknown = p.stems.filter((s) => !stemIds.includes(s));
    if (unknown.length) throw new EngineError(`Unknown stem ${unknown.join(', ')} (this result has ${stemIds.join(', ')})`, 'bad-input');
    if (this.exports.has(p.resultId)) throw new EngineError('This result is being exported already: wait for that export or cancel it', 'busy');
    let ended!: (cancelled: boolean) => void;
    const exporting: ExportJob = {
      clock: new JobClock(), cancelled: false, shown, mix: !!p.mix, stage: 'starting', fraction: null, ended: new Promise((r) => (ended = r)),
    };
    this.exports.set(p.resultId, exporting);
    let out: ExportResult;
    try {
      const outDir = resolve(p.outDir ?? this.config.exportDir);
      await mkdir(outDir, { recursive: true });
      if (exporting.cancelled) throw new EngineError('Export cancelled: no file was written', 'cancelled');
      out = (await this.request({ op: 'export', req: this.exportRequest(stored, p, stemIds, outDir) })) as ExportResult;
    } catch (e) {
      const error = toErrorInfo(e);
      if (shown) this.emit(error.code === 'cancelled' ? { type: 'job-cancelled', jobId: p.resultId, kind: 'export' } : { type: 'job-failed', jobId: p.resultId, kind: 'export', error });
      ended(error.code === 'cancelled');
      throw e;
    } finally {
      this.exports.delete(p.resultId);
      this.lastProgress.delete(p.resultId);
    }
    for (const f of out.files) this.produced.add(resolve(f.path));
    if (!p.mix) stored.exportedStems = [...out.files.map((file) => ({ file: { ...file }, rate: p.rate })), ...stored.exportedStems].slice(0, EXPORTED_STEMS_KEPT);
    if (shown) {
      stored.lastExport = structuredClone(out);
      void this.recent.noteExport(p.resultId, out);
      this.emit({ type: 'export-done', jobId: p.resultId, result: structuredClone(out) });
    }
    ended(false);
    return out;
  }

  private exportRequest(stored: StoredResult, p: ExportParams, stemIds: string[], outDir: string): ExportRequest {
    return {
      jobId: p.resultId,
      stems: p.stems.length ? p.stems : stemIds,
      format: p.format,
      rate: p.rate,
      overwrite: p.overwrite ?? false,
      ...(p.keepBoth ? { keepBoth: true } : {}),
      ...(p.mix ? { mix: p.mix } : {}),
      modelTag: modelTag(stored.result.model),
      outDir,
      inputPath: stored.inputPath,
      files: stored.files,
    };
  }

  /**
   * Starts fine-tuning a model. The run lives in a new folder of the models folder named after
   * `params.name`: its best checkpoint (else its last) is a model from the first checkpoint on.
   */
  async train(params: TrainParams): Promise<{ jobId: string; modelId: string }> {
    this.assertCanTrain();
    const base = await this.models.get(params.baseModelId);
    const name = params.name.trim() || `${base.name} fine-tune`;
    await this.models.pinActive();
    const { id, dir } = await this.models.reserve(name, { name, createdAt: new Date().toISOString(), baseModelId: base.id });
    let config: Record<string, unknown>;
    try {
      config = trainConfigFor(params, base.dir, id, this.config.training);
      await this.assertDownloadAgreed(config, params);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    return this.startRun(name, id, dir, config);
  }

  /**
   * Continues a cancelled or interrupted run (a model whose `run` has steps left) in its folder,
   * from its last checkpoint to the end it was planned for.
   */
  async continueTraining(modelId: string): Promise<{ jobId: string; modelId: string }> {
    this.assertCanTrain();
    const model = await this.models.get(modelId);
    const dir = await this.models.writable(model.id);
    const { config, soFar } = await runToContinue(dir, model.id, model.name);
    return this.startRun(model.name, model.id, dir, config, soFar);
  }

  /**
   * Checks a run's data before it starts (decoding the user's folders off this thread): the check
   * arrives as a train-data-check event. Cancel it with job:cancel.
   */
  checkData(data: TrainData): { jobId: string } {
    if (this.closed) throw new EngineError('The engine is shut down', 'internal');
    const section = dataConfigFor(data, this.config.training);
    const jobId = randomUUID();
    this.emit({ type: 'job-started', jobId, kind: 'check', label: 'data check' });
    const job = new DataCheckJob({ data: section, ...(this.config.trainWorkerUrl ? { workerUrl: this.config.trainWorkerUrl } : {}) }, (p) => {
      this.emit({ type: 'progress', jobId, kind: 'check', stage: PHASE_STAGES[p.phase], fraction: p.fraction, ...(p.etaSeconds === null ? {} : { etaSec: p.etaSeconds }) });
    });
    this.checks.set(jobId, job);
    job.done.then(
      (check) => this.emit(check ? { type: 'train-data-check', jobId, check } : { type: 'job-cancelled', jobId, kind: 'check' }),
      (e: unknown) => this.emit({ type: 'job-failed', jobId, kind: 'check', error: toErrorInfo(e) }),
    ).finally(() => this.checks.delete(jobId));
    return { jobId };
  }

  /** The built-in recordings are downloaded only when the user agreed to it, having been told the size. */
  private async assertDownloadAgreed(config: Record<string, unknown>, params: TrainParams): Promise<void> {
    if (params.download) return;
    const corpus = await corpusCheck(parseTrainConfig({ data: config.data }).data);
    const download = corpus?.check.download;
    if (download) {
      throw new EngineError(`The built-in recordings are not downloaded yet: ${Math.round(download.mb)} MB in ${download.packages.length} packages. Agree to the download to start.`, 'needs-download');
    }
  }

  private assertCanTrain(): void {
    if (this.closed) throw new EngineError('The engine is shut down', 'internal');
    if (this.runs.size) throw new EngineError('A training run is already going: pause or cancel it first', 'busy');
  }

  private startRun(label: string, modelId: string, runDir: string, config: Record<string, unknown>, continues?: RunSoFar): { jobId: string; modelId: string } {
    const jobId = randomUUID();
    this.emit({ type: 'job-started', jobId, kind: 'train', label });
    const run = new TrainingRun({
      jobId, label, modelId, runDir, config, emit: (e) => this.emit(e),
      ...(continues ? { continues } : {}),
      ...(this.config.backend ? { backend: this.config.backend } : {}),
      ...(this.config.trainWorkerUrl ? { workerUrl: this.config.trainWorkerUrl } : {}),
      finish: async ({ bestSiSdri, beforeAfter }) => {
        this.runs.delete(jobId);
        const overall = beforeAfter?.rows[0];
        const metrics = {
          ...(bestSiSdri !== null ? { valSiSdri: bestSiSdri } : {}),
          ...(overall ? { heldOutSiSdriBase: overall.before, heldOutSiSdri: overall.after } : {}),
        };
        if (Object.keys(metrics).length) await this.models.setMeta(modelId, { metrics }).catch(() => undefined);
        // A run that stopped before its first checkpoint leaves nothing to use.
        if (!(await this.models.has(modelId))) await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
      },
    });
    this.runs.set(jobId, run);
    return { jobId, modelId };
  }

  pauseTraining(jobId: string): boolean {
    return this.run(jobId).pause();
  }

  resumeTraining(jobId: string): boolean {
    return this.run(jobId).resume();
  }

  cancelTraining(jobId: string): boolean {
    this.run(jobId).cancel();
    return true;
  }

  /** The models folder entry a running training writes to may not be deleted under it. */
  async deleteModel(id: string): Promise<void> {
    if ([...this.runs.values()].some((r) => r.modelId === id)) throw new EngineError('This model is being trained: cancel the run first', 'busy');
    await this.models.delete(id);
  }

  private run(jobId: string): TrainingRun {
    const run = this.runs.get(jobId);
    if (!run) throw new EngineError('That training run is no longer going', 'not-found');
    return run;
  }

  /** Pure arithmetic on a sample batch: answered here, without waiting for the worker. */
  previewWeights(reweighting: ReweightTerm[], step: number, totalSteps: number): WeightsPreview {
    return previewWeights(reweighting, step, totalSteps);
  }

  async close(): Promise<void> {
    this.closed = true;
    const checks = [...this.checks.values()].map((c) => {
      c.cancel();
      return c.done.catch(() => null);
    });
    // Cancelling saves each run's last checkpoint, so quitting keeps the work done.
    const stopping = [...this.runs.values()].map((r) => {
      r.cancel();
      return r.done;
    });
    await Promise.all([...stopping, ...checks]);
    for (const j of this.queue) clearTimeout(j.cancelTimer);
    this.queue.length = 0;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    await this.recent.flush();
    await rm(this.config.workDir, { recursive: true, force: true });
  }

  // ---- internals ---------------------------------------------------------------------------

  private emit(e: EngineEvent): void {
    if (e.type === 'progress') {
      const last = this.lastProgress.get(e.jobId);
      const now = Date.now();
      const due = !last || last.stage !== e.stage || e.fraction === 1 || now - last.t >= (this.config.progressIntervalMs ?? 100);
      if (!due) return;
      this.lastProgress.set(e.jobId, { t: now, stage: e.stage });
    } else if (e.type !== 'job-started') {
      this.lastProgress.delete(e.jobId);
    }
    for (const l of this.listeners) l(e);
  }

  private async resolveInput(input: InputRef): Promise<{ path: string; fileName: string }> {
    if (input.kind === 'upload') {
      const u = this.uploads.get(input.id);
      if (!u) throw new EngineError(`Upload ${input.name} is no longer available: add the file again`, 'not-found');
      return { path: u.path, fileName: u.name };
    }
    const path = resolve(input.path);
    const st = await stat(path).catch(() => null);
    if (!st) throw new EngineError(`${basename(path)}: file not found (${path})`, 'not-found', path);
    if (!st.isFile()) throw new EngineError(`${basename(path)} is a folder, not an audio file`, 'bad-input', path);
    return { path, fileName: basename(path) };
  }

  private pump(): void {
    const job = this.queue[0];
    if (!job || job.state === 'running' || this.closed) return;
    job.state = 'running';
    job.clock = new JobClock();
    const outDir = join(this.config.workDir, 'results', job.jobId);
    this.post({ type: 'separate', jobId: job.jobId, path: job.path, fileName: job.fileName, modelDir: job.model.dir, outDir, windowSeconds: job.windowSeconds, rnnoiseBlend: job.rnnoiseBlend, adapt: job.adapt, speechBankDir: this.config.speechBankDir ?? SPEECH_BANK_DIR });
  }

  private finishJob(jobId: string): SepJob | undefined {
    const i = this.queue.findIndex((j) => j.jobId === jobId);
    if (i < 0) return undefined;
    const [job] = this.queue.splice(i, 1);
    clearTimeout(job!.cancelTimer);
    setImmediate(() => this.pump());
    return job;
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'reply':
        this.calls.settle(m);
        return;
      case 'progress': {
        const exporting = this.exports.get(m.jobId);
        if (exporting) {
          const times = exporting.clock.at(m.stage, m.fraction);
          Object.assign(exporting, { stage: m.stage, fraction: m.fraction, etaSec: times.etaSec });
          if (exporting.shown) this.emit({ type: 'progress', jobId: m.jobId, kind: 'export', stage: m.stage, fraction: m.fraction, ...times });
          return;
        }
        const job = this.queue.find((j) => j.jobId === m.jobId);
        if (job) Object.assign(job, { stage: m.stage, fraction: m.fraction });
        this.emit({ type: 'progress', jobId: m.jobId, kind: 'separate', stage: m.stage, fraction: m.fraction, ...job?.clock?.at(m.stage, m.fraction) });
        return;
      }
      case 'separated': {
        const job = this.finishJob(m.jobId);
        if (!job) return;
        // Finished before it saw the cancel: the user still asked for it to go away.
        if (job.cancelRequested) {
          void rm(join(this.config.workDir, 'results', job.jobId), { recursive: true, force: true });
          this.emit({ type: 'job-cancelled', jobId: job.jobId, kind: 'separate' });
          return;
        }
        this.storeResult(job, m.result);
        return;
      }
      case 'failed': {
        const job = this.finishJob(m.jobId);
        if (job) this.emit({ type: 'job-failed', jobId: m.jobId, kind: 'separate', error: readableFailure(job, m.error) });
        return;
      }
      case 'cancelled':
        if (this.finishJob(m.jobId)) this.emit({ type: 'job-cancelled', jobId: m.jobId, kind: 'separate' });
        return;
    }
  }

  private storeResult(job: SepJob, r: WorkerSeparation): void {
    const resultId = job.jobId;
    const { files, ...separated } = r;
    const result: SeparationResult = {
      ...separated,
      resultId,
      fileName: job.fileName,
      model: { id: job.model.id, name: job.model.name, ...(job.model.checkpoint ? { checkpoint: job.model.checkpoint } : {}) },
    };
    if (!job.fromUpload) result.sourcePath = job.path;
    this.results.set(resultId, { result, inputPath: job.path, files, dir: join(this.config.workDir, 'results', job.jobId), exportedStems: [] });
    void this.recent.add(result);
    this.emit({ type: 'progress', jobId: job.jobId, kind: 'separate', stage: 'done', fraction: 1 });
    this.emit({ type: 'separate-done', jobId: job.jobId, result });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const url = this.config.workerUrl ?? new URL('./worker.ts', import.meta.url);
    const w = startWorker(url, { ...process.env, ...(this.config.backend ? { TILT_BACKEND: this.config.backend } : {}) });
    w.on('message', (m: FromWorker) => this.onMessage(m));
    w.on('error', (e) => this.restartWorker(e));
    w.on('exit', (code) => {
      if (this.worker === w && !this.closed) this.restartWorker(new EngineError(`The engine stopped unexpectedly (exit code ${code})`, 'internal'));
    });
    this.worker = w;
    return w;
  }

  /** Fails whatever the worker was doing (or reports it cancelled) and lets the next use start a fresh one. */
  private restartWorker(cause: Error): void {
    const w = this.worker;
    this.worker = null;
    if (w) void w.terminate();
    const info = toErrorInfo(cause);
    this.calls.failAll(new EngineError(info.message, info.code));
    const running = this.queue[0]?.state === 'running' ? this.queue[0] : undefined;
    if (running) {
      this.finishJob(running.jobId);
      if (info.code === 'cancelled') this.emit({ type: 'job-cancelled', jobId: running.jobId, kind: 'separate' });
      else this.emit({ type: 'job-failed', jobId: running.jobId, kind: 'separate', error: info });
    }
  }

  private post(m: ToWorker): void {
    this.ensureWorker().postMessage(m);
  }

  private request(m: EngineRequest): Promise<BackendDescription | ExportResult> {
    if (this.closed) return Promise.reject(new EngineError('The engine is shut down', 'internal'));
    return this.calls.call(m);
  }
}

