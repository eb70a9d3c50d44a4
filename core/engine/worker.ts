// The engine's worker thread: all tensor work (model loading, separation) and audio encoding runs
// here, so the thread that owns the UI or the server's sockets never blocks.
import { parentPort } from 'node:worker_threads';
import { mkdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { initBackend, describeBackend } from '../backend';
import { readAudioFile, resample, writeAudioFile } from '../io/audio';
import { loadModel } from '../models/io';
import type { Separator } from '../models/types';
import { defaultStemNames, exportStems } from '../separate/files';
import { separateSignal } from '../separate/separate';
import { MODEL_RATE } from '../types';
import { EngineError, toErrorInfo } from './errors';
import { peaksOf, rmsDb, trackLabel } from './tracks';
import type { ExportRequest, FromWorker, ToWorker, WorkerSeparation } from './protocol';
import type { BackendDescription, ExportResult, TrackInfo } from './types';

const port = parentPort;
if (!port) throw new Error('core/engine/worker.ts must run in a worker thread');
const send = (m: FromWorker) => port.postMessage(m);

let backendDesc: Promise<BackendDescription> | null = null;
function backend(): Promise<BackendDescription> {
  backendDesc ??= initBackend().then((info) => ({ choice: info.choice, label: describeBackend(info), skipped: info.skipped }));
  return backendDesc;
}

/** The last model used stays loaded: separating a queue of files reuses it. */
let loaded: { dir: string; model: Separator; stems: string[] } | null = null;
async function model(dir: string): Promise<{ model: Separator; stems: string[] }> {
  if (loaded?.dir === dir) return loaded;
  loaded?.model.dispose();
  loaded = null;
  const m = await loadModel(dir);
  // Models trained with class-ordered outputs name their stems in metadata (e.g. ["speech", "env"]).
  const named = m.metadata?.stems;
  const stems = Array.isArray(named) && named.length === m.model.nSources && named.every((n) => typeof n === 'string')
    ? (named as string[])
    : defaultStemNames(m.model.nSources);
  loaded = { dir, model: m.model, stems };
  return loaded;
}

function downmix(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 0) throw new EngineError('the file has no audio channels', 'bad-input');
  if (channels.length === 1) return channels[0]!;
  const mono = new Float32Array(channels[0]!.length);
  for (const ch of channels) for (let t = 0; t < mono.length; t++) mono[t]! += ch[t]! / channels.length;
  return mono;
}

const running = new Map<string, AbortController>();

async function separate(m: Extract<ToWorker, { type: 'separate' }>): Promise<void> {
  const abort = new AbortController();
  running.set(m.jobId, abort);
  const t0 = performance.now();
  const progress = (stage: string, fraction: number | null) => send({ type: 'progress', jobId: m.jobId, stage, fraction });
  try {
    progress('loading model', null);
    const desc = await backend();
    const { model: net, stems: stemNames } = await model(m.modelDir);
    progress('decoding', null);
    const info = await stat(m.path);
    if (info.size === 0) throw new EngineError(`${m.fileName}: the file is empty`, 'bad-input', m.path);
    const audio = await readAudioFile(m.path);
    const channels = audio.channels.length;
    const inputRate = audio.sampleRate;
    const mono = downmix(audio.channels);
    const mixture = inputRate === MODEL_RATE ? mono : await resample(mono, inputRate, MODEL_RATE);
    if (abort.signal.aborted) throw new EngineError('cancelled', 'cancelled');
    progress('separating', 0);
    const stems = await separateSignal(net, mixture, {
      sampleRate: MODEL_RATE,
      signal: abort.signal,
      onProgress: (f) => progress('separating', f),
    });
    progress('writing', null);
    await mkdir(m.outDir, { recursive: true });
    const files: Record<string, string> = {};
    const tracks: TrackInfo[] = [];
    const all: [string, Float32Array][] = [['mixture', mixture], ...stemNames.map((n, i) => [n, stems[i]!] as [string, Float32Array])];
    for (const [id, signal] of all) {
      files[id] = join(m.outDir, `${id}.wav`);
      await writeAudioFile(files[id], [signal], MODEL_RATE, 'wav32f', { overwrite: true });
      const { peaks, peaksPerSecond } = peaksOf(signal, MODEL_RATE);
      tracks.push({ id, label: trackLabel(id), kind: id === 'mixture' ? 'mixture' : 'stem', peaks, peaksPerSecond, rmsDb: rmsDb(signal) });
    }
    const result: WorkerSeparation = {
      inputRate,
      inputChannels: channels,
      durationSec: mixture.length / MODEL_RATE,
      modelRate: MODEL_RATE,
      backend: desc.label,
      files,
      tracks,
      elapsedMs: performance.now() - t0,
    };
    send({ type: 'separated', jobId: m.jobId, result });
  } catch (e) {
    const error = toErrorInfo(e);
    if (abort.signal.aborted || error.code === 'cancelled') send({ type: 'cancelled', jobId: m.jobId });
    else send({ type: 'failed', jobId: m.jobId, error: { ...error, file: error.file ?? m.path } });
  } finally {
    running.delete(m.jobId);
  }
}

async function exportRequest(r: ExportRequest): Promise<ExportResult> {
  const stems: Float32Array[] = [];
  for (const s of r.stems) {
    const file = r.files[s];
    if (!file) throw new EngineError(`No stem named ${s}`, 'bad-input');
    stems.push((await readAudioFile(file)).channels[0]!);
  }
  const paths = await exportStems({
    inputPath: r.inputPath,
    stems,
    stemNames: r.stems,
    outDir: r.outDir,
    format: r.format,
    rate: r.rate,
    inputRate: r.inputRate,
    modelRate: MODEL_RATE,
    overwrite: r.overwrite ?? false,
  });
  const files = [];
  for (const [i, path] of paths.entries()) {
    // Read back what was written: the reply reports the file as it is on disk.
    const written = await readAudioFile(path);
    files.push({ stem: r.stems[i]!, fileName: basename(path), path, bytes: (await stat(path)).size, sampleRate: written.sampleRate, frames: written.channels[0]!.length, format: r.format });
  }
  return { dir: r.outDir, files };
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') {
    running.get(m.jobId)?.abort();
    return;
  }
  if (m.type === 'separate') {
    void separate(m);
    return;
  }
  const work: Promise<BackendDescription | ExportResult> = m.op === 'backend' ? backend() : exportRequest(m.req);
  work.then(
    (value) => send({ type: 'reply', reqId: m.reqId, ok: true, value }),
    (e: unknown) => send({ type: 'reply', reqId: m.reqId, ok: false, error: toErrorInfo(e) }),
  );
});

