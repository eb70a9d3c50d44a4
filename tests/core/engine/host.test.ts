// The engine host driving its real worker thread on a real recording.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../../core/engine/host';
import { readAudioFile, resample, writeAudioFile } from '../../../core/io/audio';
import type { EngineEvent, SeparationResult } from '../../../core/engine/types';
import { RNNOISE_AUTO, type BlendWeight } from '../../../core/separate/defaults';
import { modelsDirWithTestModel, realSpeechWav } from '../../e2e/fixtures';
import { waitForEvent } from './events';
import { ensureTestAudio, pkgFile } from '../../fixtures/test-audio';

let engine: Engine;
let root: string;
let builtinDir: string;
const events: EngineEvent[] = [];

const waitFor = <T extends EngineEvent['type']>(jobId: string, types: T[]) => waitForEvent(engine, events, jobId, types);

before(async () => {
  const m = await modelsDirWithTestModel();
  root = m.root;
  builtinDir = join(root, 'builtin');
  await mkdir(builtinDir);
  await cp(join(m.modelsDir, 'test-quarter'), join(builtinDir, 'shipped'), { recursive: true });
  engine = new Engine({
    modelsDir: m.modelsDir, builtinModelsDirs: [builtinDir], settingsFile: join(root, 'settings.json'),
    workDir: join(root, 'work'), exportDir: join(root, 'exports'), progressIntervalMs: 50,
  });
  engine.on((e) => events.push(e));
});

after(async () => {
  await engine.close();
  await rm(root, { recursive: true, force: true });
});

let result: SeparationResult;

test('separates a real recording in the worker: the mixture track is the input, the stems sum to it', async () => {
  const wav = realSpeechWav();
  const input = await readAudioFile(wav);
  await engine.models.activate('test-quarter');
  const { jobId } = await engine.separate({ input: { kind: 'path', path: wav } });
  const done = await waitFor(jobId, ['separate-done', 'job-failed']);
  assert.equal(done.type, 'separate-done', JSON.stringify(done));
  result = (done as Extract<EngineEvent, { type: 'separate-done' }>).result;
  assert.equal(result.fileName, 'privacy-prompt.wav');
  assert.equal(result.sourcePath, wav);
  assert.equal(result.model.id, 'test-quarter');
  assert.match(result.backend, /^(wasm|tfjs-node|tfjs-node-gpu|cpu)/);
  assert.equal(result.windowSeconds, 8, 'the default window');
  assert.deepEqual(result.tracks.map((t) => t.id), ['mixture', 'speech', 'env']);
  assert.ok(Math.abs(result.durationSec - input.channels[0]!.length / input.sampleRate) < 1e-9);
  const read = async (id: string) => (await readAudioFile(engine.trackFile(result.resultId, id)!)).channels[0]!;
  const [mix, speech, env] = [await read('mixture'), await read('speech'), await read('env')];
  assert.equal(mix.length, input.channels[0]!.length);
  let maxDiff = 0;
  for (let i = 0; i < mix.length; i++) {
    assert.ok(Math.abs(mix[i]! - input.channels[0]![i]!) < 1e-6);
    maxDiff = Math.max(maxDiff, Math.abs(speech[i]! + env[i]! - mix[i]!));
  }
  assert.ok(maxDiff < 1e-6, `stems sum back to the mixture (max diff ${maxDiff})`);
  // Peaks are the max-abs envelope of each channel of each track.
  const t = result.tracks[0]!;
  assert.equal(t.channels, 1);
  assert.equal(t.peaks.length, 1);
  const hop = input.sampleRate / t.peaksPerSecond;
  const k = 50;
  let m = 0;
  for (let i = Math.round(k * hop); i < Math.round((k + 1) * hop); i++) m = Math.max(m, Math.abs(mix[i]!));
  assert.ok(Math.abs(t.peaks[0]![k]! - m) < 1e-4);
});

test('a separation asked for in 2 s windows is separated so: other stems than in 8 s windows, still adding up to the input', async () => {
  // A copy: the recent list holds one entry per file, and the tests below read the first separation's.
  const wav = join(root, 'two-second-windows.wav');
  await cp(realSpeechWav(), wav);
  const { jobId } = await engine.separate({ input: { kind: 'path', path: wav }, windowSeconds: 2 });
  const done = await waitFor(jobId, ['separate-done', 'job-failed']);
  assert.equal(done.type, 'separate-done', JSON.stringify(done));
  const short = (done as Extract<EngineEvent, { type: 'separate-done' }>).result;
  assert.equal(short.windowSeconds, 2);
  const { sum, change } = await stemDiffs(short, result);
  assert.ok(sum < 1e-6, `stems sum back to the mixture (max diff ${sum})`);
  assert.ok(change > 1e-3, `the window changed the stems (max diff ${change})`);
});

/** Largest distance of `r`'s stems' sum from its mixture, and of its speech stem from `other`'s (first channel). */
async function stemDiffs(r: SeparationResult, other: SeparationResult): Promise<{ sum: number; change: number }> {
  const read = async (x: SeparationResult, id: string) => (await readAudioFile(engine.trackFile(x.resultId, id)!)).channels[0]!;
  const [mix, speech, env, otherSpeech] = [await read(r, 'mixture'), await read(r, 'speech'), await read(r, 'env'), await read(other, 'speech')];
  let sum = 0;
  let change = 0;
  for (let i = 0; i < mix.length; i++) {
    sum = Math.max(sum, Math.abs(speech[i]! + env[i]! - mix[i]!));
    change = Math.max(change, Math.abs(speech[i]! - otherSpeech[i]!));
  }
  return { sum, change };
}

test('RNNoise blended in: recorded in the result, the stems differ and still add up to the input; a model without fixed slots says so', async () => {
  const wav = join(root, 'rnnoise-blend.wav');
  await cp(realSpeechWav(), wav);
  assert.equal(result.rnnoiseBlend, 0, 'off unless asked for');
  const refused = await waitFor((await engine.separate({ input: { kind: 'path', path: wav }, rnnoiseBlend: 0.5 })).jobId, ['separate-done', 'job-failed']);
  assert.equal(refused.type, 'job-failed');
  const error = (refused as Extract<EngineEvent, { type: 'job-failed' }>).error;
  assert.equal(error.code, 'bad-option');
  assert.equal(error.message, 'Blending RNNoise into the speech stem needs a model whose speech and env stems have fixed slots (the built-in model, or one tuned from it): turn the blend off for this model');

  // The same weights with fixed slots, as the built-in model has them.
  const fixedDir = join(root, 'models', 'test-fixed');
  await cp(join(root, 'models', 'test-quarter'), fixedDir, { recursive: true });
  const json = JSON.parse(await readFile(join(fixedDir, 'model.json'), 'utf8')) as { metadata: Record<string, unknown> };
  Object.assign(json.metadata, { name: 'Test fixed slots', slots: 'fixed' });
  await writeFile(join(fixedDir, 'model.json'), JSON.stringify(json));
  const separated = async (rnnoiseBlend: BlendWeight) => {
    const done = await waitFor((await engine.separate({ input: { kind: 'path', path: wav }, modelId: 'test-fixed', rnnoiseBlend })).jobId, ['separate-done', 'job-failed']);
    assert.equal(done.type, 'separate-done', JSON.stringify(done));
    return (done as Extract<EngineEvent, { type: 'separate-done' }>).result;
  };
  const [plain, blended, auto] = [await separated(0), await separated(0.5), await separated('auto')];
  assert.deepEqual([plain.rnnoiseBlend, blended.rnnoiseBlend, auto.rnnoiseBlend], [0, 0.5, 'auto']);
  // What the blend did comes with every blended result, and a fixed share is the share reported.
  assert.equal(plain.blendReport, undefined);
  for (const report of [blended.blendReport, auto.blendReport]) assert.ok(report && report.disagreed >= 0 && report.disagreed <= 1, JSON.stringify(report));
  assert.ok(Math.abs(blended.blendReport!.rnnoiseShare - 0.5) < 1e-9);
  assert.ok(auto.blendReport!.rnnoiseShare >= 0 && auto.blendReport!.rnnoiseShare <= RNNOISE_AUTO.maxShare);
  for (const [result, name] of [[blended, '0.5'], [auto, 'auto']] as const) {
    const { sum, change } = await stemDiffs(result, plain);
    assert.ok(sum < 1e-6, `${name}: stems sum back to the mixture (max diff ${sum})`);
    assert.ok(change > 1e-3, `${name}: the blend changed the speech stem (max diff ${change})`);
  }
  // Asked to adapt to a recording that is all speech, the engine says why it could not.
  assert.equal(plain.adapt, undefined, 'no adapting unless asked for');
  const adaptDone = await waitFor((await engine.separate({ input: { kind: 'path', path: wav }, modelId: 'test-fixed', adapt: true })).jobId, ['separate-done', 'job-failed']);
  assert.equal(adaptDone.type, 'separate-done', JSON.stringify(adaptDone));
  const adapted = (adaptDone as Extract<EngineEvent, { type: 'separate-done' }>).result;
  assert.equal(adapted.adapt?.steps, 0, JSON.stringify(adapted.adapt));
  assert.match(adapted.adapt!.skipped!, /sound without voice \(adapting needs 2 s\)/);
  await rm(fixedDir, { recursive: true });
});

test('a stereo file at 44.1 kHz gives stereo tracks at 44.1 kHz that add up to it; the model worked at 8 kHz', async () => {
  const stereo = join(root, 'stereo.wav');
  const x = (await readAudioFile(realSpeechWav())).channels[0]!;
  const up = await resample(x, 8000, 44100, 'fast');
  const channels = [up.map((v, i) => 0.8 * v + 0.05 * Math.sin(i / 3)), up.map((v, i) => 0.3 * v + 0.1 * Math.sin(i / 3))];
  await writeAudioFile(stereo, channels, 44100, 'wav16');
  const input = await readAudioFile(stereo);
  const { jobId } = await engine.separate({ input: { kind: 'path', path: stereo } });
  const done = await waitFor(jobId, ['separate-done', 'job-failed']);
  assert.equal(done.type, 'separate-done', JSON.stringify(done));
  const r = (done as Extract<EngineEvent, { type: 'separate-done' }>).result;
  assert.deepEqual([r.inputRate, r.inputChannels, r.modelRate], [44100, 2, 8000]);
  assert.ok(r.tracks.every((t) => t.channels === 2 && t.peaks.length === 2));
  const tracks = await Promise.all(['mixture', 'speech', 'env'].map(async (id) => readAudioFile(engine.trackFile(r.resultId, id)!)));
  for (const t of tracks) assert.deepEqual([t.sampleRate, t.channels.length, t.channels[0]!.length], [44100, 2, input.channels[0]!.length]);
  for (let c = 0; c < 2; c++) {
    let maxDiff = 0;
    for (let i = 0; i < input.channels[c]!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tracks[1]!.channels[c]![i]! + tracks[2]!.channels[c]![i]! - input.channels[c]![i]!));
    assert.ok(maxDiff < 1e-6, `channel ${c}: stems sum to the input within ${maxDiff}`);
  }
  const out = await engine.exportStems({ resultId: r.resultId, stems: ['env'], format: 'wav16', rate: 'input', outDir: join(root, 'stereo-out') });
  assert.deepEqual([out.files[0]!.sampleRate, out.files[0]!.channels, out.files[0]!.frames], [44100, 2, input.channels[0]!.length]);
  const model = await engine.exportStems({ resultId: r.resultId, stems: ['env'], format: 'wav16', rate: 'model', outDir: join(root, 'stereo-model') });
  assert.deepEqual([model.files[0]!.sampleRate, model.files[0]!.channels], [8000, 2]);
  await engine.discard(r.resultId);
});

test('progress events for a job are ordered, throttled and end at 1', () => {
  const jobId = result.resultId;
  const progress = events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress' && e.jobId === jobId);
  const sep = progress.filter((e) => e.stage === 'separating').map((e) => e.fraction!);
  assert.ok(sep.length >= 1);
  for (let i = 1; i < sep.length; i++) assert.ok(sep[i]! >= sep[i - 1]!);
  assert.deepEqual(progress.at(-1), { type: 'progress', jobId, kind: 'separate', stage: 'done', fraction: 1 });
  assert.equal(events.filter((e) => e.jobId === jobId && e.type === 'job-started').length, 1);
});

test('a file at another rate reports its resampling before separating (long files take minutes there)', async () => {
  await ensureTestAudio();
  const ogg = pkgFile('minetest-data', 'usr/share/games/minetest/games/minetest_game/mods/fire/sounds/fire_large.ogg');
  const { jobId } = await engine.separate({ input: { kind: 'path', path: ogg } });
  assert.equal((await waitFor(jobId, ['separate-done', 'job-failed'])).type, 'separate-done');
  const stages = events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress' && e.jobId === jobId).map((e) => [e.stage, e.fraction]);
  const resampling = stages.filter(([stage]) => stage === 'resampling');
  assert.ok(resampling.length > 0 && resampling.at(-1)![1] === 1, JSON.stringify(stages));
  assert.ok(stages.findIndex(([stage]) => stage === 'resampling') < stages.findIndex(([stage]) => stage === 'separating'));
});

test('export names carry the model and format, a repeat is refused unless replaced or kept both, a mix is one file, unknown stems rejected', async () => {
  const outDir = join(root, 'out');
  const m = result.model.id;
  const first = await engine.exportStems({ resultId: result.resultId, stems: [], format: 'wav24', rate: 'model', outDir });
  assert.deepEqual(first.files.map((f) => f.fileName), [`privacy-prompt.speech.${m}.8k.24-bit.wav`, `privacy-prompt.env.${m}.8k.24-bit.wav`]);
  for (const f of first.files) {
    assert.equal(f.bytes, (await stat(f.path)).size);
    assert.equal(f.frames, Math.round(result.durationSec * 8000));
  }
  // Another format or rate takes other names.
  const flac = await engine.exportStems({ resultId: result.resultId, stems: ['speech'], format: 'flac', rate: 'input', outDir });
  assert.deepEqual(flac.files.map((f) => f.fileName), [`privacy-prompt.speech.${m}.flac`]);
  await assert.rejects(engine.exportStems({ resultId: result.resultId, stems: ['speech'], format: 'wav24', rate: 'model', outDir }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'exists');
    assert.match(e.message, /privacy-prompt\.speech\..*\.wav is already in .*: replace it, or keep both/);
    return true;
  });
  const both = await engine.exportStems({ resultId: result.resultId, stems: ['speech'], format: 'wav24', rate: 'model', outDir, keepBoth: true });
  assert.deepEqual(both.files.map((f) => f.fileName), [`privacy-prompt.speech.${m}.8k.24-bit-2.wav`]);
  const again = await engine.exportStems({ resultId: result.resultId, stems: ['speech'], format: 'wav24', rate: 'model', outDir, overwrite: true });
  assert.equal(again.files[0]!.fileName, `privacy-prompt.speech.${m}.8k.24-bit.wav`);
  const mix = await engine.exportStems({ resultId: result.resultId, stems: [], format: 'wav32f', rate: 'input', outDir, mix: { speech: 1, env: 0.5 } });
  assert.deepEqual(mix.files.map((f) => [f.stem, f.fileName]), [['mix', `privacy-prompt.mix-speech100-env50.${m}.32-bit-float.wav`]]);
  await assert.rejects(engine.exportStems({ resultId: result.resultId, stems: ['drums'], format: 'wav16', rate: 'model', outDir }), /Unknown stem drums/);
});

test('an export is a job of its result: progress with elapsed time, one at a time, and cancel writes no file', async () => {
  const outDir = join(root, 'progress-out');
  const seen = events.length;
  const out = await engine.exportStems({ resultId: result.resultId, stems: [], format: 'flac', rate: 'input', outDir });
  assert.equal(out.files.length, 2);
  const progress = events.slice(seen).filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress' && e.jobId === result.resultId);
  assert.ok(progress.length >= 2 && progress.every((e) => e.kind === 'export'), JSON.stringify(progress));
  const writing = progress.filter((e) => e.stage === 'exporting');
  assert.deepEqual([writing[0]?.fraction, writing.at(-1)?.fraction], [0, 1]);
  for (let i = 1; i < writing.length; i++) assert.ok(writing[i]!.fraction! >= writing[i - 1]!.fraction!);
  assert.ok(progress.every((e) => typeof e.elapsedSec === 'number' && e.elapsedSec >= 0));
  // A FLAC is read back (decoded) to report it as written.
  assert.equal(progress.filter((e) => e.stage === 'checking').at(-1)?.fraction, 1);

  const cancelledDir = join(root, 'cancelled-out');
  const going = engine.exportStems({ resultId: result.resultId, stems: [], format: 'wav32f', rate: 'input', outDir: cancelledDir });
  await assert.rejects(engine.exportStems({ resultId: result.resultId, stems: [], format: 'wav16', rate: 'input', outDir: cancelledDir }), /being exported already/);
  assert.equal(engine.cancel(result.resultId), true);
  await assert.rejects(going, (e: Error & { code?: string }) => e.code === 'cancelled' && /no file was written/.test(e.message));
  assert.deepEqual(await readdir(cancelledDir), []);
  assert.equal(engine.cancel(result.resultId), false, 'nothing left to cancel');

  // The answer a page gets (job:cancel) comes once the export has stopped, its files never written.
  const settled = engine.exportStems({ resultId: result.resultId, stems: [], format: 'wav16', rate: 'input', outDir: cancelledDir });
  const rejected = assert.rejects(settled, (e: Error & { code?: string }) => e.code === 'cancelled');
  assert.equal(await engine.cancelAndSettle(result.resultId), true);
  assert.deepEqual([engine.jobs().exports, await readdir(cancelledDir)], [[], []]);
  await rejected;
  // One that finished is not cancelled.
  await engine.exportStems({ resultId: result.resultId, stems: ['speech'], format: 'wav16', rate: 'input', outDir: cancelledDir });
  assert.equal(await engine.cancelAndSettle(result.resultId), false);
});

test('an export reattaches: the snapshot lists it going, then its files under its result; its end is an event; the recent list keeps it across a restart', async () => {
  const outDir = join(root, 'reattach-out');
  const seen = events.length;
  const going = engine.exportStems({ resultId: result.resultId, stems: ['speech'], format: 'wav16', rate: 'input', outDir });
  const during = engine.jobs();
  assert.deepEqual(during.exports.map((x) => [x.jobId, x.mix, x.stage, x.fraction]), [[result.resultId, false, 'starting', null]]);
  assert.ok(during.exports[0]!.elapsedSec! >= 0);
  const out = await going;
  assert.deepEqual(engine.jobs().exports, []);
  assert.deepEqual(engine.jobs().exported.find((x) => x.resultId === result.resultId), { resultId: result.resultId, ...out });
  assert.deepEqual(events.slice(seen).filter((e) => e.type === 'export-done'), [{ type: 'export-done', jobId: result.resultId, result: out }]);
  // How it ended is told also when it did not end well: refused (a file of that name is there), cancelled.
  await assert.rejects(engine.exportStems({ resultId: result.resultId, stems: ['speech'], format: 'wav16', rate: 'input', outDir }), (e: Error & { code?: string }) => e.code === 'exists');
  const cancelled = engine.exportStems({ resultId: result.resultId, stems: [], format: 'wav32f', rate: 'input', outDir: join(root, 'reattach-cancelled') });
  assert.equal(engine.cancel(result.resultId), true);
  await assert.rejects(cancelled, (e: Error & { code?: string }) => e.code === 'cancelled');
  const ends = events.slice(seen).filter((e) => e.jobId === result.resultId && (e.type === 'job-failed' || e.type === 'job-cancelled'));
  assert.deepEqual(ends.map((e) => [e.type, 'kind' in e ? e.kind : '', e.type === 'job-failed' ? e.error.code : '']), [['job-failed', 'export', 'exists'], ['job-cancelled', 'export', '']]);
  assert.deepEqual(engine.jobs().exported.find((x) => x.resultId === result.resultId)?.files, out.files, 'the last export shown is the last that wrote files');

  // The recent list has the separation and where this export went, and outlives the engine.
  const recent = (await engine.recentResults()).find((r) => r.resultId === result.resultId)!;
  assert.deepEqual([recent.fileName, recent.sourcePath, recent.model.id, recent.available], ['privacy-prompt.wav', realSpeechWav(), result.model.id, true]);
  assert.deepEqual(recent.exports[0]!.files.map((f) => [f.fileName, f.path, f.present]), out.files.map((f) => [f.fileName, f.path, true]));
  assert.ok(await engine.producedFile(out.files[0]!.path));
  assert.ok(!(await engine.producedFile(realSpeechWav())), 'a source is not an export');
  const restarted = new Engine({ modelsDir: join(root, 'models'), builtinModelsDirs: [], settingsFile: join(root, 'settings.json'), workDir: join(root, 'work-restarted'), exportDir: join(root, 'exports') });
  try {
    const listed = (await restarted.recentResults()).find((r) => r.resultId === result.resultId)!;
    assert.equal(listed.available, false, 'a restarted engine does not hold the stems: Separate again');
    assert.deepEqual(listed.exports, recent.exports);
    assert.ok(await restarted.producedFile(out.files[0]!.path), 'its exports are still the engine\'s files');
  } finally {
    await restarted.close();
  }
});

test('a stem to drag or download: the file an export wrote when it is still there in that format and rate, else one written to the scratch folder', async () => {
  const m = result.model.id;
  const out = await engine.exportStems({ resultId: result.resultId, stems: ['env'], format: 'flac', rate: 'model', outDir: join(root, 'drag-out') });
  assert.equal((await engine.stemFile(result.resultId, 'env', 'flac', 'model')).path, out.files[0]!.path);
  const seen = events.length;
  const shown = engine.jobs().exported;
  const [a, b] = await Promise.all([engine.stemFile(result.resultId, 'env', 'wav16', 'input'), engine.stemFile(result.resultId, 'env', 'wav16', 'input')]);
  assert.equal(a.path, b.path, 'one export for both');
  assert.equal(a.path, join(root, 'work', 'drag', result.resultId, `privacy-prompt.env.${m}.16-bit.wav`));
  assert.equal(a.bytes, (await stat(a.path)).size);
  assert.ok(!events.slice(seen).some((e) => e.jobId === result.resultId), 'not an export of the user\'s: no progress, no export-done');
  assert.deepEqual(engine.jobs().exported, shown);
  assert.ok(await engine.producedFile(a.path));
  // The exported file was deleted: a new one is written.
  await rm(out.files[0]!.path);
  assert.equal((await engine.stemFile(result.resultId, 'env', 'flac', 'model')).path, join(root, 'work', 'drag', result.resultId, `privacy-prompt.env.${m}.8k.flac`));
  await assert.rejects(engine.stemFile(result.resultId, 'drums', 'flac', 'model'), /Unknown stem drums/);
  await assert.rejects(engine.stemFile('00000000-0000-4000-8000-000000000000', 'env', 'flac', 'model'), (e: Error & { code?: string }) => e.code === 'not-found');
});

test('a compressed file reports its decoding, and every running stage the time since the job started', async () => {
  await ensureTestAudio();
  const flac = pkgFile('hydrogen-data', 'usr/share/hydrogen/data/drumkits/TR808EmulationKit/808_Cymbal.flac');
  const { jobId } = await engine.separate({ input: { kind: 'path', path: flac } });
  assert.equal((await waitFor(jobId, ['separate-done', 'job-failed'])).type, 'separate-done');
  const progress = events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress' && e.jobId === jobId);
  assert.equal(progress.filter((e) => e.stage === 'decoding').at(-1)?.fraction, 1, JSON.stringify(progress));
  const running = progress.filter((e) => e.stage !== 'queued' && e.stage !== 'done');
  assert.ok(running.length > 0 && running.every((e) => typeof e.elapsedSec === 'number'), JSON.stringify(running));
  for (let i = 1; i < running.length; i++) assert.ok(running[i]!.elapsedSec! >= running[i - 1]!.elapsedSec!);
});

test('a training run\'s last checkpoint separates when chosen; its exports carry its step, apart from the best\'s', async () => {
  // A run folder whose best weights are from step 20 and last from step 40 (the test model's weights in both).
  const run = join(root, 'models', 'run-x');
  for (const [kind, step] of [['best', 20], ['last', 40]] as const) {
    await cp(join(root, 'models', 'test-quarter'), join(run, kind), { recursive: true });
    const json = JSON.parse(await readFile(join(run, kind, 'model.json'), 'utf8'));
    json.metadata.training = { step, config: { epochs: 2, stepsPerEpoch: 20 } };
    await writeFile(join(run, kind, 'model.json'), JSON.stringify(json));
  }
  const wav = realSpeechWav();
  const separateWith = async (checkpoint: 'best' | 'last') => {
    await engine.models.activate('run-x', checkpoint);
    const { jobId } = await engine.separate({ input: { kind: 'path', path: wav } });
    const done = await waitFor(jobId, ['separate-done', 'job-failed']);
    assert.equal(done.type, 'separate-done', JSON.stringify(done));
    return (done as Extract<EngineEvent, { type: 'separate-done' }>).result;
  };
  try {
    const last = await separateWith('last');
    assert.deepEqual(last.model.checkpoint, { kind: 'last', step: 40 });
    const best = await separateWith('best');
    assert.deepEqual(best.model.checkpoint, { kind: 'best', step: 20 });
    const outDir = join(root, 'run-out');
    const names = async (r: SeparationResult) => (await engine.exportStems({ resultId: r.resultId, stems: ['speech'], format: 'wav16', rate: 'model', outDir })).files.map((f) => f.fileName);
    assert.deepEqual(await names(last), ['privacy-prompt.speech.run-x.step-40.8k.16-bit.wav']);
    assert.deepEqual(await names(best), ['privacy-prompt.speech.run-x.8k.16-bit.wav']);
    for (const r of [last, best]) await engine.discard(r.resultId);
  } finally {
    await engine.models.activate('test-quarter');
    await rm(run, { recursive: true, force: true });
  }
});

test('a broken file fails its job with a message naming it', async () => {
  const bad = join(root, 'broken.wav');
  await writeFile(bad, Buffer.from('RIFF\x10\x00\x00\x00WAVEjunk'));
  const { jobId } = await engine.separate({ input: { kind: 'path', path: bad } });
  const failed = await waitFor(jobId, ['job-failed', 'separate-done']);
  assert.equal(failed.type, 'job-failed');
  assert.match((failed as Extract<EngineEvent, { type: 'job-failed' }>).error.message, /broken\.wav/);
  await assert.rejects(engine.separate({ input: { kind: 'path', path: root } }), /is a folder/);
});

test('cancel: a queued job never runs; a running job stops and reports cancelled', async () => {
  const wav = realSpeechWav();
  const running = await engine.separate({ input: { kind: 'path', path: wav } });
  const queued = await engine.separate({ input: { kind: 'path', path: wav } });
  assert.equal(engine.cancel(queued.jobId), true);
  assert.equal(engine.cancel(running.jobId), true);
  assert.equal((await waitFor(queued.jobId, ['job-cancelled'])).type, 'job-cancelled');
  assert.equal((await waitFor(running.jobId, ['job-cancelled', 'separate-done'])).type, 'job-cancelled', JSON.stringify(events.filter((e) => e.jobId === running.jobId).map((e) => [e.type, 'stage' in e ? e.stage : ''])));
  assert.ok(!events.some((e) => e.jobId === queued.jobId && e.type === 'progress' && e.stage !== 'queued'));
  assert.equal(engine.cancel(running.jobId), false, 'a finished job cannot be cancelled again');
  // The engine still works afterwards.
  const next = await engine.separate({ input: { kind: 'path', path: wav } });
  assert.equal((await waitFor(next.jobId, ['separate-done', 'job-failed'])).type, 'separate-done');
});

test('models: rename keeps model.json intact, built-ins are read-only, import/export copy folders', async () => {
  const list = await engine.models.list();
  assert.deepEqual(list.map((m) => [m.id, m.builtin]), [['shipped', true], ['test-quarter', false]]);
  const modelJson = await readFile(join(root, 'models', 'test-quarter', 'model.json'), 'utf8');
  const renamed = await engine.models.rename('test-quarter', 'Mine');
  assert.equal(renamed.name, 'Mine');
  assert.equal(await readFile(join(root, 'models', 'test-quarter', 'model.json'), 'utf8'), modelJson);
  await assert.rejects(engine.models.rename('shipped', 'x'), /ships with Tilt/);
  await assert.rejects(engine.models.delete('shipped'), /ships with Tilt/);
  // An import keeps the model's own name (saved with it), and its folder is named after it.
  const imported = await engine.models.import(join(builtinDir, 'shipped'));
  assert.deepEqual([imported.id, imported.name], ['test-0.25x-untrained', 'Test 0.25x (untrained)']);
  assert.equal(imported.builtin, false);
  const exported = await engine.models.export(imported.id, join(root, 'exported-models'));
  assert.ok((await stat(join(exported, 'model.json'))).isFile());
  await assert.rejects(engine.models.export(imported.id, join(root, 'exported-models')), /already exists/);
  await engine.models.delete(imported.id);
  assert.ok(!(await engine.models.list()).some((m) => m.id === imported.id));
  await assert.rejects(engine.models.import(root), /not a Tilt model folder/);
});
