// `npm run bench [-- --json] [-- --only fullband|memory|adapt]`: model size, separation speed and training
// speed on the active backend, and the speed of separating a 44.1 kHz stereo file into full-band
// stereo stems. `--only memory [--minutes N]` separates an N-minute (default 60) 48 kHz stereo file
// and follows the process's RSS through it; `--only adapt` times what adapting to a 60 s file adds. One measurement per function so new ones (e.g.
// reweight_overhead) slot in as a field.
// Timings are wall-clock medians on a possibly shared machine: treat them as noisy.
import { backendInfo, describeBackend, initBackend } from '../core/backend';
import { tf } from '../core/tf';
import type { Tensor2D, Tensor3D } from '../core/tf';
import { MODEL_RATE, type MixtureBatch } from '../core/types';
import { localSteps, trainStep } from '../core/train/step';
import type { StepRunner } from '../core/train/step';
import { parallelSteps } from '../core/train/parallel';
import { reweighterFromConfig } from '../core/reweighting';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAudioFile } from '../core/io/audio';
import { createAudioWriter } from '../core/io/stream';
import type { SeparationStage } from '../core/separate/pipeline';
import { loadModel } from '../core/models/io';
import { separateFile, stageSpan } from '../core/separate/files';
import { denoiserBlendFor } from '../core/separate/stems';
import type { BlendWeight } from '../core/separate/defaults';
import { Rng } from '../core/data/random';
import { defaultCacheDir } from '../core/data/fetch';
import { readManifest } from '../core/data/manifest';
import { loadClips, Mixer } from '../core/data/mixer';
import { loadSpeechBank } from '../core/data/speechBank';
import type { AdaptOptions } from '../core/train/adapt';
import { countParameters, createSudoRmRf, encoderStride, lengthMultiple, needsCheckpointing, PRESETS, type PresetName, type SudoRmRfConfig } from '../core/models/sudormrf';

const json = process.argv.includes('--json');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const log = (s: string) => {
  if (!json) console.log(s);
};

async function medianMs(run: () => void | Promise<void>, reps: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Backend matMul rate, 512^3 without transposes (its fast path). */
async function matmulGflops(): Promise<number> {
  const n = 512;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const ms = await medianMs(() => tf.tidy(() => void tf.matMul(a, b).dataSync()), 15, 3);
  tf.dispose([a, b]);
  return (2 * n ** 3) / (ms * 1e6);
}

/**
 * Forward FLOPs (multiply-adds x2) of the model's convolutions and matMuls for a [batch, length]
 * input: encoder, bottleneck, blocks (1x1s and depthwise at every level), mask conv, decoder.
 */
export function forwardFlops(c: SudoRmRfConfig, batch: number, length: number): { total: number; blocks: number } {
  const m = lengthMultiple(c);
  const frames = (Math.ceil(length / m) * m) / encoderStride(c);
  const n = batch * frames;
  let block = 2 * n * c.bottleneck * c.hidden * 2;
  for (let k = 0; k < c.upsamplingDepth; k++) block += 2 * (n / 2 ** k) * c.hidden * c.dwKernel;
  const blocks = c.nBlocks * block;
  const total =
    2 * n * c.encKernel * c.encBasis + // encoder
    2 * n * c.encBasis * c.bottleneck * 2 + // l1, reshape_before_masks
    blocks +
    2 * n * c.encBasis * (c.encBasis + 1) * c.nSources + // mask conv (kernel bases+1 over the bases)
    2 * n * c.encBasis * c.encKernel * c.nSources; // decoder
  return { total, blocks };
}

/** Seconds of compute per second of audio for separating one 4 s mixture. */
async function realTimeFactor(config: SudoRmRfConfig, reps: number): Promise<number> {
  const seconds = 4;
  const model = createSudoRmRf(config, 0);
  const x = tf.randomNormal([1, seconds * MODEL_RATE]) as Tensor2D;
  const ms = await medianMs(() => tf.tidy(() => void model.apply(x).dataSync()), reps);
  tf.dispose(x);
  model.dispose();
  return ms / 1000 / seconds;
}

/** One Adam step (forward, backward, update) on random 1 s examples; MSE to random targets. */
async function trainStepMs(config: SudoRmRfConfig, batch: number, reps: number): Promise<number> {
  const model = createSudoRmRf(config, 0);
  const opt = tf.train.adam(1e-3);
  const x = tf.randomNormal([batch, MODEL_RATE]) as Tensor2D;
  const target = tf.randomNormal([batch, config.nSources, MODEL_RATE]) as Tensor3D;
  const step = () =>
    tf.tidy(() => void opt.minimize(() => tf.mean(tf.squaredDifference(model.apply(x), target)) as tf.Scalar, true)!.dataSync());
  const ms = await medianMs(step, reps);
  tf.dispose([x, target]);
  opt.dispose();
  model.dispose();
  return ms;
}

/** Random 1 s speech + env batch: timing only, the numbers in it do not matter. */
function randomBatch(batch: number, seed: number): MixtureBatch {
  const time = MODEL_RATE;
  const sources = tf.tidy(() => tf.randomNormal([batch, 2, time], 0, 0.1, 'float32', seed).dataSync() as Float32Array);
  const mixture = new Float32Array(batch * time);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < time; t++) mixture[b * time + t] = sources[(2 * b) * time + t]! + sources[(2 * b + 1) * time + t]!;
  }
  return {
    batch, nSrc: 2, time, mixture, sources,
    classes: Array.from({ length: batch }, () => ['speech', 'env']),
    labels: Array.from({ length: batch }, () => ['speaker', 'sound']),
    mixtureTypes: Array.from({ length: batch }, () => 'speech+env'),
  };
}

/**
 * Step time with reweighting (robust + class-biased, per source) over a uniform step: the same
 * model, optimizer and batch, alternating the two so that load changes hit both alike.
 */
async function reweightOverhead(config: SudoRmRfConfig, batchSize: number, reps: number): Promise<number> {
  const model = createSudoRmRf(config, 0);
  const opt = tf.train.adam(1e-4);
  const batch = randomBatch(batchSize, 1);
  const uniform = reweighterFromConfig({ terms: [{ uniform: {} }] });
  const weighted = reweighterFromConfig({ granularity: 'source', terms: [{ robust: { alpha: 0.2 } }, { class: { speech: 3, env: 0 } }] });
  const step = (reweighter: typeof uniform, i: number) => trainStep(model, opt, batch, { reweighter, progress: { step: i, epoch: 0, totalSteps: 1000 } });
  step(uniform, 0);
  step(weighted, 0);
  const ratios: number[] = [];
  for (let i = 0; i < reps; i++) {
    // Alternate which goes first so that a trend in the load favours neither.
    const order = i % 2 === 0 ? [uniform, weighted] : [weighted, uniform];
    const ms = new Map<typeof uniform, number>();
    for (const r of order) {
      const t0 = performance.now();
      step(r, i + 1);
      ms.set(r, performance.now() - t0);
    }
    ratios.push(ms.get(weighted)! / ms.get(uniform)!);
  }
  opt.dispose();
  model.dispose();
  ratios.sort((a, b) => a - b);
  return ratios[Math.floor(ratios.length / 2)]!;
}

/**
 * One training step (uniform weights, Adam) of a batch of `batchSize` x 1 s split across `workers`
 * threads (1: trainStep on this thread), as the Trainer takes it.
 */
async function parallelStepMs(config: SudoRmRfConfig, batchSize: number, workers: number, reps: number): Promise<number> {
  const model = createSudoRmRf(config, 0);
  const opt = tf.train.adam(1e-4);
  const batch = randomBatch(batchSize, 2);
  const reweighter = reweighterFromConfig({ terms: [] });
  const runner: StepRunner = workers > 1
    ? await parallelSteps(model, reweighter, workers, new URL('../core/train/worker.ts', import.meta.url))
    : localSteps(model, reweighter);
  try {
    let step = 0;
    return await medianMs(async () => void await runner.step(opt, batch, { progress: { step: step++, epoch: 0, totalSteps: 1000 } }), reps);
  } finally {
    await runner.close();
    opt.dispose();
    model.dispose();
  }
}

interface Row {
  backend: string;
  preset: PresetName;
  params: number;
  rtf: number | null;
  train_step_ms: number | null;
  train_gflops: number | null;
  matmul_gflops: number | null;
  flop_efficiency: number | null;
  /** Median over paired steps of (reweighted step time) / (uniform step time). */
  reweight_overhead: number | null;
  /** Mixing one batch of 4 x 4 s of real audio (data side of a training step). */
  mix_batch_ms: number | null;
  /** A training step of batch 8 x 1 s on 1 thread and split across 2 gradient workers. */
  step_b8_1w_ms: number | null;
  step_b8_2w_ms: number | null;
}

/**
 * Milliseconds to mix one training batch (4 x 4 s) from real clips in memory, on the corpus in the
 * default cache or the tests' cache; null when neither has been fetched.
 */
async function mixBatchMs(): Promise<number | null> {
  const cacheDir = [defaultCacheDir(), join(import.meta.dirname, '../.cache/test-audio')].find((d) => existsSync(join(d, 'manifest.json')));
  if (!cacheDir) return null;
  const clips = await loadClips((await readManifest(cacheDir)).entries, { cacheDir, splits: ['train'] });
  const mixer = new Mixer(clips, { segmentSeconds: 4, seed: 1 });
  return medianMs(() => void mixer.batch(4), 50, 5);
}

/**
 * Separating a 44.1 kHz stereo WAV file into 44.1 kHz stereo stems with the shipped model, end to
 * end as `tilt separate` does it (reading, resampling, the model, full-band masks, writing 16-bit
 * WAV): seconds per second of audio, of CPU time (one core's work: everything runs on one thread)
 * and of wall-clock time (which also counts waiting on a busy machine).
 */
/** A file of this rate and channel count, separated as `tilt separate` does it (44.1 kHz stereo unless told). */
interface BenchFile {
  rate: number;
  channels: number;
}

async function fileRtf(seconds: number, rnnoiseBlend: BlendWeight = 0, adapt: AdaptOptions | null = null, file: BenchFile = { rate: 44100, channels: 2 }): Promise<{ cpu: number; wall: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'tilt-bench-'));
  const { model } = await loadModel(join(import.meta.dirname, '../assets/models/tilt-default'));
  try {
    // Content does not change the work: tones and noise, different in each channel.
    const rng = new Rng('bench');
    const { rate } = file;
    const channels = Array.from({ length: file.channels }, (_, c) => Float32Array.from({ length: seconds * rate }, (_, t) => 0.2 * Math.sin((2 * Math.PI * (220 + 110 * c) * t) / rate) + rng.uniform(-0.05, 0.05)));
    const input = join(dir, 'stereo.wav');
    await writeAudioFile(input, channels, rate, 'wav16');
    // The first forward call compiles and sizes the backend's kernels once per process: not part of the rate.
    const warm = join(dir, 'warm.wav');
    await writeAudioFile(warm, channels.map((c) => c.subarray(0, 10 * rate)), rate, 'wav16');
    await separateFile(model, warm, { outDir: dir, stemNames: ['speech', 'env'] });
    const denoiserBlend = denoiserBlendFor(rnnoiseBlend, ['speech', 'env'], true);
    // RNNoise's wasm loads on its first use.
    if (denoiserBlend) await separateFile(model, warm, { outDir: dir, stemNames: ['speech', 'env'], denoiserBlend, overwrite: true });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await separateFile(model, input, { outDir: dir, stemNames: ['speech', 'env'], denoiserBlend, adapt });
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { cpu: (cpu.user + cpu.system) / 1e6 / seconds, wall: wall / seconds };
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * RSS while separating a `minutes`-long 48 kHz stereo file with the shipped model: before, at its
 * peak, and the peak within each tenth of the work, so that a flat profile shows as ten equal numbers.
 */
async function longFileRss(minutes: number): Promise<{ baseMB: number; peakMB: number; byTenthMB: number[]; rtfWall: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'tilt-bench-'));
  const { model } = await loadModel(join(import.meta.dirname, '../assets/models/tilt-default'));
  try {
    const rate = 48000;
    const input = join(dir, 'long.wav');
    const rng = new Rng('long');
    const w = await createAudioWriter(input, 2, rate, 'wav16');
    for (let s = 0; s < minutes * 60; s++) {
      const x = Float32Array.from({ length: rate }, (_, t) => 0.2 * Math.sin((2 * Math.PI * 220 * (s * rate + t)) / rate) + rng.uniform(-0.05, 0.05));
      await w.write([x, x.map((v) => 0.5 * v)]);
    }
    await w.close();
    const mb = () => process.memoryUsage().rss / 2 ** 20;
    const base = mb();
    const byTenth = new Array<number>(10).fill(0);
    let peak = base;
    const span = stageSpan(false);
    const sample = (stage: SeparationStage, f: number) => {
      const [lo, hi] = span[stage];
      const k = Math.min(9, Math.floor(10 * (lo + (hi - lo) * f)));
      const now = mb();
      byTenth[k] = Math.max(byTenth[k]!, now);
      peak = Math.max(peak, now);
    };
    const t0 = performance.now();
    await separateFile(model, input, { outDir: dir, stemNames: ['speech', 'env'], scratchParent: dir, onProgress: sample });
    return { baseMB: base, peakMB: peak, byTenthMB: byTenth, rtfWall: (performance.now() - t0) / 1000 / (minutes * 60) };
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const info = await initBackend();
  log(`backend: ${describeBackend(info)} (tfjs ${tf.getBackend()})`);
  if (only === 'fullband') return void await fullBand();
  if (only === 'adapt') return void await adapting();
  if (only === 'memory') {
    const minutes = process.argv.includes('--minutes') ? Number(process.argv[process.argv.indexOf('--minutes') + 1]) : 60;
    const r = await longFileRss(minutes);
    if (json) console.log(JSON.stringify({ long_file_minutes: minutes, rss_base_mb: r.baseMB, rss_peak_mb: r.peakMB, rss_by_tenth_mb: r.byTenthMB, rtf_wall: r.rtfWall }));
    else log(`${minutes} min of 48 kHz stereo: RSS ${r.baseMB.toFixed(0)} MB before, peak ${r.peakMB.toFixed(0)} MB; peak per tenth of the work ${r.byTenthMB.map((v) => v.toFixed(0)).join(', ')} MB (wall-clock RTF ${r.rtfWall.toFixed(3)})`);
    return;
  }
  const matmul = await matmulGflops();
  log(`matMul 512^3: ${matmul.toFixed(1)} GFLOP/s`);
  const rows: Row[] = [];
  const trainBatch = 4;
  for (const preset of ['1.0x', '0.5x', '0.25x'] as PresetName[]) {
    const config = PRESETS[preset];
    const row: Row = {
      backend: backendInfo()!.choice,
      preset,
      params: countParameters(config),
      rtf: await realTimeFactor(config, preset === '0.25x' ? 5 : 3),
      train_step_ms: null,
      train_gflops: null,
      matmul_gflops: matmul,
      flop_efficiency: null,
      reweight_overhead: null,
      mix_batch_ms: null,
      step_b8_1w_ms: null,
      step_b8_2w_ms: null,
    };
    if (preset === '0.25x') {
      row.train_step_ms = await trainStepMs(config, trainBatch, 3);
      const { total, blocks } = forwardFlops(config, trainBatch, MODEL_RATE);
      // Backward costs two forwards; checkpointing (when the tape would not fit) recomputes each block once more.
      const rows = trainBatch * (Math.ceil(MODEL_RATE / lengthMultiple(config)) * lengthMultiple(config)) / encoderStride(config);
      const stepFlops = 3 * total + (needsCheckpointing(config, rows) ? blocks : 0);
      row.train_gflops = stepFlops / (row.train_step_ms * 1e6);
      row.flop_efficiency = row.train_gflops / matmul;
      row.reweight_overhead = await reweightOverhead(config, trainBatch, 5);
      row.mix_batch_ms = await mixBatchMs();
      row.step_b8_1w_ms = await parallelStepMs(config, 8, 1, 3);
      row.step_b8_2w_ms = await parallelStepMs(config, 8, 2, 3);
    }
    rows.push(row);
    if (json) console.log(JSON.stringify(row));
    else {
      const train = row.train_step_ms === null
        ? ''
        : `, train step (batch ${trainBatch} x 1 s) ${row.train_step_ms.toFixed(0)} ms = ${row.train_gflops!.toFixed(1)} GFLOP/s, efficiency ${row.flop_efficiency!.toFixed(2)}, reweighting overhead ${row.reweight_overhead!.toFixed(3)}`;
      log(`${preset}: ${(row.params / 1e6).toFixed(2)}M params, RTF ${row.rtf!.toFixed(3)}${train}`);
      if (preset === '0.25x') {
        log(row.mix_batch_ms === null
          ? 'mixing: no corpus cached (tilt data fetch --set ci)'
          : `mixing a batch of 4 x 4 s: ${row.mix_batch_ms.toFixed(1)} ms (${(100 * row.mix_batch_ms / row.train_step_ms!).toFixed(2)}% of a training step)`);
        const [one, two] = [row.step_b8_1w_ms!, row.step_b8_2w_ms!];
        log(`training step, batch 8 x 1 s: ${one.toFixed(0)} ms on 1 worker, ${two.toFixed(0)} ms on 2 gradient workers (${(one / two).toFixed(2)}x; ${availableParallelism()} cores)`);
      }
    }
  }
  await fullBand();
}

async function fullBand(): Promise<void> {
  const seconds = 60;
  const fb = await fileRtf(seconds, 0);
  const blended = await fileRtf(seconds, 'auto');
  // The model's own rate and one channel: the real-time budget's measure.
  const mono = { rate: MODEL_RATE, channels: 1 };
  const monoAlone = await fileRtf(seconds, 0, null, mono);
  const monoBlended = await fileRtf(seconds, 'auto', null, mono);
  if (json) {
    console.log(JSON.stringify({
      fullband_44k_stereo_rtf_cpu: fb.cpu, fullband_44k_stereo_rtf_wall: fb.wall, fullband_rnnoise_blend_rtf_cpu: blended.cpu, fullband_rnnoise_blend_rtf_wall: blended.wall,
      mono_8k_rtf_cpu: monoAlone.cpu, mono_8k_rnnoise_blend_rtf_cpu: monoBlended.cpu,
    }));
  } else {
    log(`separating ${seconds} s of 44.1 kHz stereo into 44.1 kHz stereo stems (shipped model, --rnnoise off): RTF ${fb.cpu.toFixed(3)} of one core's CPU time, ${fb.wall.toFixed(3)} wall-clock`);
    log(`the same with RNNoise blended into the speech stem (--rnnoise auto, the default): RTF ${blended.cpu.toFixed(3)} of one core's CPU time, ${blended.wall.toFixed(3)} wall-clock`);
    log(`${seconds} s of 8 kHz mono: RTF ${monoAlone.cpu.toFixed(3)} of one core's CPU time with --rnnoise off, ${monoBlended.cpu.toFixed(3)} with auto (the budget: 0.1)`);
  }
}

/** What adapting to the file first adds (a fixed number of steps: about the same for any length). */
async function adapting(): Promise<void> {
  const seconds = 60;
  const plain = await fileRtf(seconds);
  const adapted = await fileRtf(seconds, 0, { speech: await loadSpeechBank() });
  const extra = { cpu: (adapted.cpu - plain.cpu) * seconds, wall: (adapted.wall - plain.wall) * seconds };
  if (json) console.log(JSON.stringify({ adapt_extra_cpu_s: extra.cpu, adapt_extra_wall_s: extra.wall, adapt_60s_rtf_cpu: adapted.cpu }));
  else log(`adapting first (--adapt) on ${seconds} s of 44.1 kHz stereo: ${extra.cpu.toFixed(1)} s more of one core's CPU time (${extra.wall.toFixed(1)} s wall-clock), RTF ${adapted.cpu.toFixed(3)} against ${plain.cpu.toFixed(3)}`);
}

await main();
