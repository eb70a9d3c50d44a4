import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend';
import { tf } from '../../../core/tf';
import { readAudioFile, resample, writeAudioFile } from '../../../core/io/audio';
import { memoryReader } from '../../../core/io/stream';
import { separateSignal } from '../../../core/separate/separate';
import { exportStems, separateFile, separateFiles, stemPath, StemExistsError } from '../../../core/separate/files';
import { BandSplitSeparator, longSpeech, maxAbsDiff, speechDir } from './fixtures';

const RATE = 8000;
let dir: string;
let model: BandSplitSeparator;
// A real 8 kHz recording from the package, as shipped.
let original: string;

before(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'tilt-separate-'));
  model = new BandSplitSeparator();
  original = join(speechDir(), 'demo-instruct.wav');
});

after(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

function sum(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + b[i]!);
}

test('separateFile writes <name>.<stem>.wav next to each other and the stems add back up to the recording', async () => {
  const out = join(dir, 'basic');
  const tensorsBefore = tf.memory().numTensors;
  const res = await separateFile(model, original, { outDir: out, stemNames: ['speech', 'env'] });
  assert.equal(tf.memory().numTensors, tensorsBefore);
  assert.deepEqual(res.outputs, [join(out, 'demo-instruct.speech.wav'), join(out, 'demo-instruct.env.wav')]);
  assert.deepEqual((await readdir(out)).sort(), ['demo-instruct.env.wav', 'demo-instruct.speech.wav']);
  const input = await readAudioFile(original);
  assert.equal(res.inputRate, 8000);
  assert.equal(res.duration, input.channels[0]!.length / RATE);
  const [speech, env] = await Promise.all(res.outputs.map((p) => readAudioFile(p)));
  for (const s of [speech!, env!]) {
    assert.equal(s.sampleRate, RATE);
    assert.equal(s.channels.length, 1);
    assert.equal(s.channels[0]!.length, input.channels[0]!.length);
  }
  // 16-bit files: the two stems' rounding errors add up to at most one step each.
  const x = input.channels[0]!;
  assert.ok(maxAbsDiff(sum(speech!.channels[0]!, env!.channels[0]!), x) <= 2 / 32768 + 1e-7, 'written stems sum to the input');
  // What was written is what separateSignal returns.
  const direct = await separateSignal(model, x);
  assert.ok(maxAbsDiff(speech!.channels[0]!, direct[0]!) <= 1 / 32768 + 1e-7, 'file matches the signal path');
});

test('stems are never overwritten unless asked, and the refusal names the file and comes before any work', async () => {
  const out = join(dir, 'overwrite');
  await separateFile(model, original, { outDir: out });
  const target = join(out, 'demo-instruct.source1.wav');
  const before = await readFile(target);
  const mtime = (await stat(target)).mtimeMs;
  const callsBefore = model.calls;
  await assert.rejects(
    separateFile(model, original, { outDir: out }),
    (e: Error) => e instanceof StemExistsError && e.path === target && e.message.includes(target) && /overwrite/.test(e.message),
  );
  assert.equal(model.calls, callsBefore, 'refused before separating');
  assert.equal((await stat(target)).mtimeMs, mtime);
  // exportStems checks every target before writing any: with only the second present, nothing is written.
  const only = join(dir, 'partial');
  await separateFile(model, original, { outDir: only });
  await rm(join(only, 'demo-instruct.source1.wav'));
  const stems = [0, 1].map(() => memoryReader({ sampleRate: RATE, channels: [new Float32Array(100)] }));
  await assert.rejects(exportStems({ inputPath: original, stems, stemNames: ['source1', 'source2'], outDir: only }), /demo-instruct\.source2\.wav already exists/);
  assert.deepEqual(await readdir(only), ['demo-instruct.source2.wav']);
  // Asked to overwrite: replaced in place.
  const res = await separateFile(model, original, { outDir: out, overwrite: true, format: 'wav32f' });
  assert.equal(res.outputs[0], target);
  assert.notDeepEqual(await readFile(target), before);
});

test("stems come at the recording's own rate by default and add up to it at full band; rate 'model' gives 8 kHz", async () => {
  // The same real speech stored at 16 kHz.
  const speech16 = await resample(longSpeech(6), RATE, 16000);
  const input = join(dir, 'wideband.wav');
  await writeAudioFile(input, [speech16], 16000, 'wav32f');
  const out = join(dir, 'rates');
  const res = await separateFile(model, input, { outDir: out, format: 'flac' });
  assert.equal(res.inputRate, 16000);
  assert.equal(res.outputRate, 16000);
  assert.deepEqual(res.outputs, [join(out, 'wideband.source1.flac'), join(out, 'wideband.source2.flac')]);
  const stems = await Promise.all(res.outputs.map((p) => readAudioFile(p)));
  for (const s of stems) {
    assert.equal(s.sampleRate, 16000);
    assert.equal(s.channels[0]!.length, speech16.length);
  }
  // 24-bit FLAC: each stem rounds to within half a step.
  const back = sum(stems[0]!.channels[0]!, stems[1]!.channels[0]!);
  assert.ok(maxAbsDiff(back, speech16) <= 2 ** -23 + 1e-7, `sum of 16 kHz stems vs input: max diff ${maxAbsDiff(back, speech16)}`);
  const wav24 = await separateFile(model, input, { outDir: out, format: 'wav24', rate: 'model' });
  const s24 = await readAudioFile(wav24.outputs[0]!);
  assert.equal(s24.sampleRate, RATE);
  assert.equal(s24.channels[0]!.length, Math.round(speech16.length / 2));
});

test('stem names and export options are validated with clear messages', async () => {
  assert.equal(stemPath('/out', '/in/My talk.final.mp3', 'speech', 'flac'), join('/out', 'My talk.final.speech.flac'));
  const stems = [0, 1].map(() => memoryReader({ sampleRate: RATE, channels: [new Float32Array(10)] }));
  const base = { inputPath: original, stems, outDir: join(dir, 'bad') };
  await assert.rejects(exportStems({ ...base, stemNames: ['speech'] }), /1 stem names given for 2 stems/);
  await assert.rejects(exportStems({ ...base, stemNames: ['speech', 'speech'] }), /stem names must be distinct/);
  await assert.rejects(exportStems({ ...base, stemNames: ['speech', '../env'] }), /stem name "\.\.\/env" must be letters, digits/);
  await assert.rejects(exportStems({ ...base, stemNames: ['a', 'b'], format: 'mp3' as never }), /unknown format "mp3": use one of wav16, wav24, wav32f, flac/);
  await assert.rejects(exportStems({ ...base, stemNames: ['a', 'b'], rate: 'native' as never }), /rate must be 'model' or 'input', got "native"/);
  await assert.rejects(separateFile(model, original, { outDir: dir, stemNames: ['only-one'] }), /1 stem names given for 2 stems/);
});

test('a batch goes on past bad files and reports each failure with the file and the reason', async () => {
  const out = join(dir, 'batch-out');
  const good = join(dir, 'batch-good.wav');
  await writeAudioFile(good, [longSpeech(3)], RATE, 'wav16');
  const corrupt = join(dir, 'corrupt.wav');
  await writeFile(corrupt, new Uint8Array([82, 73, 70, 70, 1, 2, 3]));
  const silent = join(dir, 'silent.wav');
  await writeAudioFile(silent, [new Float32Array(RATE)], RATE, 'wav16', { overwrite: true });
  const sameName = join(speechDir(), 'dictate', 'play_help.wav');
  // A second recording called play_help.wav from another folder.
  const sameName2 = join(dir, 'elsewhere', 'play_help.wav');
  await mkdir(join(dir, 'elsewhere'));
  await copyFile(join(speechDir(), 'dictate', 'record_help.wav'), sameName2);
  const progress: number[] = [];
  const res = await separateFiles(model, [good, corrupt, join(dir, 'missing.wav'), silent, sameName, sameName2], {
    outDir: out,
    onProgress: (p) => progress.push(p.fraction),
  });
  assert.deepEqual(res.done.map((d) => d.inputPath), [good, sameName]);
  const failures = Object.fromEntries(res.failed.map((f) => [f.path, f.error.message]));
  assert.deepEqual(Object.keys(failures), [corrupt, join(dir, 'missing.wav'), silent, sameName2]);
  assert.match(failures[corrupt]!, /corrupt\.wav: \S/);
  assert.match(failures[join(dir, 'missing.wav')]!, /missing\.wav: file not found/);
  assert.match(failures[silent]!, /silent\.wav: silence only/);
  assert.match(failures[sameName2]!, /same base name as .*dictate\/play_help\.wav/);
  assert.deepEqual((await readdir(out)).sort(), ['batch-good.source1.wav', 'batch-good.source2.wav', 'play_help.source1.wav', 'play_help.source2.wav']);
  assert.ok(progress.length > 0 && progress.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= progress[i - 1]!)), 'batch progress rises within [0, 1]');
});

test('cancelling a batch stops it with an AbortError instead of recording a failure', async () => {
  const ac = new AbortController();
  const out = join(dir, 'cancel');
  await assert.rejects(
    separateFiles(model, [original, join(speechDir(), 'demo-congrats.wav')], {
      outDir: out,
      signal: ac.signal,
      onProgress: () => ac.abort(),
    }),
    (e: Error) => e.name === 'AbortError' && /cancelled/.test(e.message),
  );
});
