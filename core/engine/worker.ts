// The engine's worker thread: all tensor work (model loading, separation) and audio encoding runs
// here, so the thread that owns the UI or the server's sockets never blocks.
import { parentPort } from 'node:worker_threads';
import { mkdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { initBackend, describeBackend } from '../backend';
import { createAudioWriter, openAudio, type AudioInput, type AudioWriter } from '../io/stream';
import { loadModel } from '../models/io';
import type { Separator } from '../models/types';
import { defaultStemNames, exportStems } from '../separate/files';
import { residualStem, separateAudio, type BlockSink } from '../separate/pipeline';
import { MODEL_RATE } from '../types';
import { EngineError, toErrorInfo } from './errors';
import { TrackMeter, trackLabel } from './tracks';
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

const running = new Map<string, AbortController>();

/** A file writer that also measures what goes through it for the track's waveform. */
function meteredTrack(writer: AudioWriter, meter: TrackMeter): BlockSink {
  return {
    async write(block) {
      meter.add(block);
      await writer.write(block);
    },
  };
}

async function separate(m: Extract<ToWorker, { type: 'separate' }>): Promise<void> {
  const abort = new AbortController();
  running.set(m.jobId, abort);
  const t0 = performance.now();
  const progress = (stage: string, fraction: number | null) => send({ type: 'progress', jobId: m.jobId, stage, fraction });
  const writers: AudioWriter[] = [];
  try {
    progress('loading model', null);
    const desc = await backend();
    const { model: net, stems: stemNames } = await model(m.modelDir);
    progress('decoding', null);
    const info = await stat(m.path);
    if (info.size === 0) throw new EngineError(`${m.fileName}: the file is empty`, 'bad-input', m.path);
    const input = await openAudio(m.path);
    try {
      await mkdir(m.outDir, { recursive: true });
      // Tracks at the input's rate and channels, in float so that exporting to any format loses nothing.
      const ids = ['mixture', ...stemNames];
      const files: Record<string, string> = Object.fromEntries(ids.map((id) => [id, join(m.outDir, `${id}.wav`)]));
      const meters = ids.map(() => new TrackMeter(input.sampleRate, input.frames, input.channels));
      for (const id of ids) writers.push(await createAudioWriter(files[id]!, input.channels, input.sampleRate, 'wav32f', { overwrite: true }));
      const [mixture, ...stems] = writers.map((w, i) => meteredTrack(w, meters[i]!));
      await separateAudio(net, input, stems, {
        file: m.path,
        residual: residualStem(stemNames),
        rate: 'input',
        signal: abort.signal,
        scratchParent: m.outDir,
        mixture: mixture!,
        onProgress: (stage, f) => progress(stage, f),
      });
      for (const w of writers) await w.close();
      const tracks: TrackInfo[] = ids.map((id, i) => ({ id, label: trackLabel(id), kind: id === 'mixture' ? 'mixture' : 'stem', channels: input.channels, ...meters[i]!.result() }));
      const result: WorkerSeparation = {
        inputRate: input.sampleRate,
        inputChannels: input.channels,
        durationSec: input.frames / input.sampleRate,
        modelRate: MODEL_RATE,
        backend: desc.label,
        files,
        tracks,
        elapsedMs: performance.now() - t0,
      };
      send({ type: 'separated', jobId: m.jobId, result });
    } finally {
      await input.close();
    }
  } catch (e) {
    await Promise.all(writers.map((w) => w.abort()));
    const error = toErrorInfo(e);
    if (abort.signal.aborted || error.code === 'cancelled') send({ type: 'cancelled', jobId: m.jobId });
    else send({ type: 'failed', jobId: m.jobId, error: { ...error, file: error.file ?? m.path } });
  } finally {
    running.delete(m.jobId);
  }
}

async function exportRequest(r: ExportRequest): Promise<ExportResult> {
  const inputs: AudioInput[] = [];
  try {
    for (const s of r.stems) {
      const file = r.files[s];
      if (!file) throw new EngineError(`No stem named ${s}`, 'bad-input');
      inputs.push(await openAudio(file));
    }
    const paths = await exportStems({
      inputPath: r.inputPath,
      stems: inputs,
      stemNames: r.stems,
      outDir: r.outDir,
      format: r.format,
      rate: r.rate,
      overwrite: r.overwrite ?? false,
    });
    const files = [];
    for (const [i, path] of paths.entries()) {
      // Read back what was written: the reply reports the file as it is on disk.
      const written = await openAudio(path);
      files.push({ stem: r.stems[i]!, fileName: basename(path), path, bytes: (await stat(path)).size, sampleRate: written.sampleRate, channels: written.channels, frames: written.frames, format: r.format });
      await written.close();
    }
    return { dir: r.outDir, files };
  } finally {
    await Promise.all(inputs.map((i) => i.close()));
  }
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

