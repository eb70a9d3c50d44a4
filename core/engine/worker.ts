// The engine's worker thread: all tensor work (model loading, separation) and audio encoding runs
// here, so the thread that owns the UI or the server's sockets never blocks.
import { parentPort } from 'node:worker_threads';
import { mkdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { initBackend, describeBackend } from '../backend';
import { FORMAT_EXTENSIONS } from '../io/audio';
import { openModelInput } from '../io/input';
import { createAudioWriter, openAudio, resampledReader, type AudioInput, type AudioWriter, type FrameReader } from '../io/stream';
import { loadModel } from '../models/io';
import type { Separator } from '../models/types';
import { denoiserBlendFor, stemNamesOf } from '../separate/stems';
import { BlendTally } from '../separate/blendReport';
import { residualStem, separateAudio, type BlockSink } from '../separate/pipeline';
import { MODEL_RATE } from '../types';
import { loadSpeechBank } from '../data/speechBank';
import type { Clip } from '../data/mixer';
import type { AdaptReport } from '../train/adapt';
import { EngineError, toErrorInfo } from './errors';
import { answer } from '../workerRpc';
import { TrackMeter, trackLabel } from './tracks';
import type { ExportRequest, FromWorker, ToWorker, WorkerSeparation } from './protocol';
import type { BackendDescription, ExportResult, StemFormat, TrackInfo } from './types';
import { exists } from '../io/fs';

const port = parentPort;
if (!port) throw new Error('core/engine/worker.ts must run in a worker thread');
const send = (m: FromWorker) => port.postMessage(m);

let backendDesc: Promise<BackendDescription> | null = null;
function backend(): Promise<BackendDescription> {
  backendDesc ??= initBackend().then((info) => ({ choice: info.choice, label: describeBackend(info), skipped: info.skipped }));
  return backendDesc;
}

/**
 * The last model used stays loaded: separating a queue of files reuses it. A training run saves its
 * checkpoints anew in the same folder, so the folder's model.json (replaced with each save) is part
 * of the key.
 */
let loaded: { key: string; model: Separator; stems: string[] } | null = null;
async function model(dir: string): Promise<{ model: Separator; stems: string[] }> {
  const saved = await stat(join(dir, 'model.json')).catch(() => null);
  const key = `${dir}\0${saved?.ino}:${saved?.mtimeMs}`;
  if (loaded?.key === key) return loaded;
  loaded?.model.dispose();
  loaded = null;
  const m = await loadModel(dir);
  let stems: string[];
  try {
    stems = stemNamesOf(m.metadata, m.model.nSources);
  } catch (e) {
    m.model.dispose();
    throw e;
  }
  loaded = { key, model: m.model, stems };
  return loaded;
}

const running = new Map<string, AbortController>();

let bank: { dir: string; clips: Promise<Clip[]> } | null = null;
/** The shipped speech that adapting mixes with a recording's sound, read on first use. */
function speechBank(dir: string): Promise<Clip[]> {
  if (bank?.dir !== dir) {
    const clips = loadSpeechBank(dir);
    bank = { dir, clips };
    clips.catch(() => bank?.clips === clips && (bank = null));
  }
  return bank.clips;
}

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
    // A compressed input is decoded into scratch files in the job's folder (removed with the engine's
    // work folder even after a crash); a cancel stops the decoding between blocks.
    await mkdir(m.outDir, { recursive: true });
    const onDecode = (f: number) => {
      abort.signal.throwIfAborted();
      progress('decoding', f);
    };
    const source = await openModelInput(m.path, { onDecode, scratchParent: m.outDir });
    const { input } = source;
    try {
      // Tracks at the input's rate and channels, in float so that exporting to any format loses nothing.
      const ids = ['mixture', ...stemNames];
      const files: Record<string, string> = Object.fromEntries(ids.map((id) => [id, join(m.outDir, `${id}.wav`)]));
      const meters = ids.map(() => new TrackMeter(input.sampleRate, input.frames, input.channels));
      for (const id of ids) writers.push(await createAudioWriter(files[id]!, input.channels, input.sampleRate, 'wav32f', { overwrite: true }));
      const [mixture, ...stems] = writers.map((w, i) => meteredTrack(w, meters[i]!));
      const denoiserBlend = denoiserBlendFor(m.rnnoiseBlend, stemNames, net.fixedSlots ?? false);
      const tally = denoiserBlend ? new BlendTally() : null;
      let adapted: AdaptReport | undefined;
      await separateAudio(net, source, stems, {
        residual: residualStem(stemNames),
        rate: 'input',
        signal: abort.signal,
        scratchParent: m.outDir,
        windowSec: m.windowSeconds,
        denoiserBlend,
        ...(tally ? { onWindowBlend: tally.add } : {}),
        adapt: m.adapt ? { speech: await speechBank(m.speechBankDir) } : null,
        onAdapted: (report) => (adapted = report),
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
        windowSeconds: m.windowSeconds,
        rnnoiseBlend: denoiserBlend?.weight ?? 0,
        ...(tally ? { blendReport: tally.report() } : {}),
        ...(adapted ? { adapt: adapted } : {}),
        files,
        tracks,
        elapsedMs: performance.now() - t0,
      };
      send({ type: 'separated', jobId: m.jobId, result });
    } finally {
      await source.close();
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

/** What an export's files are called: the model and format are in the name, so exports of other
 * models, formats or rates never take each other's names. */
const FORMAT_TAGS: Record<StemFormat, string> = { wav16: '16-bit', wav24: '24-bit', wav32f: '32-bit-float', flac: 'flac' };

function exportFileName(r: ExportRequest, what: string): string {
  const base = basename(r.inputPath, extname(r.inputPath));
  const tags = [what, r.modelTag, ...(r.rate === 'model' ? ['8k'] : []), ...(r.format === 'flac' ? [] : [FORMAT_TAGS[r.format]])];
  return `${base}.${tags.join('.')}.${FORMAT_EXTENSIONS[r.format]}`;
}

/** The stems summed with the given gains, block by block (the rebalanced mix). */
function mixReader(inputs: readonly AudioInput[], gains: readonly number[]): FrameReader {
  const first = inputs[0]!;
  return {
    sampleRate: first.sampleRate,
    channels: first.channels,
    frames: first.frames,
    async read(start, count) {
      const parts = await Promise.all(inputs.map((i) => i.read(start, count)));
      const out = parts[0]!.map((c) => new Float32Array(c.length));
      parts.forEach((chans, k) => chans.forEach((c, ch) => {
        const o = out[ch]!;
        for (let i = 0; i < c.length; i++) o[i]! += gains[k]! * c[i]!;
      }));
      return out;
    },
  };
}

async function exportRequest(r: ExportRequest): Promise<ExportResult> {
  const inputs: AudioInput[] = [];
  const writers: AudioWriter[] = [];
  const abort = new AbortController();
  running.set(r.jobId, abort);
  const progress = (stage: string, fraction: number) => {
    if (abort.signal.aborted) throw new EngineError('Export cancelled: no file was written', 'cancelled');
    send({ type: 'progress', jobId: r.jobId, stage, fraction });
  };
  try {
    for (const s of r.stems) {
      const file = r.files[s];
      if (!file) throw new EngineError(`No stem named ${s}`, 'bad-input');
      inputs.push(await openAudio(file));
    }
    const gains = r.mix ? r.stems.map((s) => r.mix![s] ?? 0) : null;
    const mixName = gains ? `mix-${r.stems.map((s, i) => `${s}${Math.round(gains[i]! * 100)}`).join('-')}` : '';
    const jobs = gains
      ? [{ stem: 'mix', reader: mixReader(inputs, gains), name: exportFileName(r, mixName) }]
      : inputs.map((reader, i) => ({ stem: r.stems[i]!, reader, name: exportFileName(r, r.stems[i]!) }));
    // Every name is settled before the first file is written: a refused export leaves nothing behind.
    for (const j of jobs) {
      if (r.overwrite || !(await exists(join(r.outDir, j.name)))) continue;
      if (!r.keepBoth) throw new EngineError(`${j.name} is already in ${r.outDir}: replace it, or keep both (the new file gets a number)`, 'exists', j.name);
      const stem = j.name.slice(0, -extname(j.name).length);
      let n = 2;
      while (await exists(join(r.outDir, `${stem}-${n}${extname(j.name)}`))) n++;
      j.name = `${stem}-${n}${extname(j.name)}`;
    }
    const readers = jobs.map((j) => resampledReader(j.reader, r.rate === 'input' ? j.reader.sampleRate : MODEL_RATE));
    for (const [i, rd] of readers.entries()) writers.push(await createAudioWriter(join(r.outDir, jobs[i]!.name), rd.channels, rd.sampleRate, r.format, { overwrite: true, frames: rd.frames }));
    const total = readers.reduce((n, rd) => n + rd.frames, 0);
    let done = 0;
    progress('exporting', 0);
    for (const [i, rd] of readers.entries()) {
      const block = 10 * rd.sampleRate;
      for (let at = 0; at < rd.frames; at += block) {
        await writers[i]!.write(await rd.read(at, block));
        done += Math.min(block, rd.frames - at);
        progress('exporting', done / total);
      }
    }
    for (const w of writers) await w.close();
    writers.length = 0;
    const files = [];
    for (const [i, j] of jobs.entries()) {
      const path = join(r.outDir, j.name);
      // Read back what was written: the reply reports the file as it is on disk (a FLAC is decoded again).
      const written = await openAudio(path, (f) => send({ type: 'progress', jobId: r.jobId, stage: 'checking', fraction: (i + f) / jobs.length }));
      files.push({ stem: j.stem, fileName: j.name, path, bytes: (await stat(path)).size, sampleRate: written.sampleRate, channels: written.channels, frames: written.frames, format: r.format });
      await written.close();
    }
    return { dir: r.outDir, files };
  } finally {
    running.delete(r.jobId);
    await Promise.all(writers.map((w) => w.abort()));
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
  answer(send, m.reqId, m.op === 'backend' ? backend() : exportRequest(m.req), toErrorInfo);
});

