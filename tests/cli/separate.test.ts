// One way in for a recording: the app's engine, `tilt separate` and the training data loader accept
// and refuse the same files for the same reasons, and read a model's stem names the same way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Engine } from '../../core/engine/host';
import type { EngineEvent } from '../../core/engine/types';
import { RNNOISE_AUTO, type BlendWeight } from '../../core/separate/defaults';
import { decodeCandidates } from '../../core/data/manifest';
import { readAudioFile, resample, writeAudioFile } from '../../core/io/audio';
import { saveTinyModel } from '../e2e/fixtures';
import { waitForEvent } from '../core/engine/events';
import { ensureTestAudio, pkgFile } from '../fixtures/test-audio';
import { runTilt } from '../fixtures/tilt-cli';

const ALLISON = 'usr/share/asterisk/sounds/en_US_f_Allison';
const GOOD = () => [
  pkgFile('asterisk-core-sounds-en-wav', `${ALLISON}/activated.wav`),
  pkgFile('hydrogen-data', 'usr/share/hydrogen/data/drumkits/TR808EmulationKit/808_Cymbal.flac'),
  pkgFile('scratch', 'usr/share/scratch/Media/Sounds/Effects/Typing.mp3'),
];

let work: string;
let engine: Engine;
const events: EngineEvent[] = [];
// File -> why it is refused, as the reason (the message after `<file>: `) must begin.
const bad: Record<string, RegExp> = {};

const tilt = (args: string[]) => runTilt(args, { home: join(work, 'home'), cwd: work });

/** The app's answer for one file: its tracks' files and the blend it separated with, or the message it fails with. */
async function inApp(path: string, modelId = 'tiny', rnnoiseBlend?: BlendWeight): Promise<{ files: Record<string, string>; rnnoiseBlend: BlendWeight } | { error: string }> {
  const { jobId } = await engine.separate({ input: { kind: 'path', path }, modelId, ...(rnnoiseBlend !== undefined ? { rnnoiseBlend } : {}) });
  const end = await waitForEvent(engine, events, jobId, ['separate-done', 'job-failed']);
  if (end.type === 'job-failed') return { error: end.error.message };
  const files = Object.fromEntries(end.result.tracks.map((t) => [t.id, engine.trackFile(end.result.resultId, t.id)!]));
  return { files, rnnoiseBlend: end.result.rnnoiseBlend };
}

before(async () => {
  await ensureTestAudio();
  work = await mkdtemp(join(tmpdir(), 'tilt-one-way-in-'));
  const models = join(work, 'models');
  await saveTinyModel(join(models, 'tiny'));
  // The same model with stems that are not a list of names.
  await cp(join(models, 'tiny'), join(models, 'bad-stems'), { recursive: true });
  const json = JSON.parse(await readFile(join(models, 'bad-stems', 'model.json'), 'utf8'));
  json.metadata.stems = 'speech';
  await writeFile(join(models, 'bad-stems', 'model.json'), JSON.stringify(json));
  // The same model with fixed speech and env slots, as the built-in one: the RNNoise blend fits it.
  await cp(join(models, 'tiny'), join(models, 'tiny-fixed'), { recursive: true });
  Object.assign(json.metadata, { slots: 'fixed', stems: ['speech', 'env'] });
  await writeFile(join(models, 'tiny-fixed', 'model.json'), JSON.stringify(json));

  const files = join(work, 'files');
  await mkdir(files);
  const silent = join(files, 'silence.wav');
  await copyFile(pkgFile('asterisk-core-sounds-en-wav', `${ALLISON}/silence/1.wav`), silent);
  bad[silent] = /^silence only$/;
  const empty = join(files, 'empty.wav');
  await writeFile(empty, new Uint8Array(0));
  bad[empty] = /^empty file$/;
  const text = join(files, 'notes.wav');
  await writeFile(text, 'not a recording, whatever its name says\n');
  bad[text] = /^unsupported format: not WAV, FLAC, Ogg Vorbis or MP3/;
  const cut = join(files, 'cut.wav');
  await writeFile(cut, (await readFile(GOOD()[0]!)).subarray(0, 1000));
  bad[cut] = /^truncated: /;

  engine = new Engine({
    modelsDir: models, builtinModelsDirs: [], settingsFile: join(work, 'settings.json'),
    workDir: join(work, 'work'), exportDir: join(work, 'exports'), progressIntervalMs: 50,
  });
  engine.on((e) => events.push(e));
});

after(async () => {
  await engine?.close();
  await rm(work, { recursive: true, force: true });
});

test('the app, `tilt separate` and the training loader take the same files and refuse the same ones, saying the same', async () => {
  const inputs = [...GOOD(), ...Object.keys(bad)];
  const out = join(work, 'cli-out');
  const cli = await tilt(['separate', ...inputs, '--model', join(work, 'models', 'tiny'), '--out', out, '--format', 'wav32f', '--json']);
  assert.equal(cli.code, 1, cli.stderr);
  const result = JSON.parse(cli.stdout) as { done: { input: string; outputs: string[] }[]; failed: { input: string; error: string }[] };
  assert.deepEqual(result.done.map((d) => d.input), GOOD());
  assert.deepEqual(result.failed.map((f) => f.input), Object.keys(bad));

  const loaded = await decodeCandidates(
    inputs.map((file) => ({ file, class: 'env' as const, label: 'mine', group: basename(file), package: 'user', licence: 'own' })),
    join(work, 'cache'),
  );
  assert.deepEqual(loaded.entries.map((e) => e.file), GOOD());

  for (const f of result.failed) {
    // `tilt separate` says `<path>: <reason>`.
    assert.ok(f.error.startsWith(`${f.input}: `), f.error);
    const reason = f.error.slice(f.input.length + 2);
    assert.match(reason, bad[f.input]!);
    // The training loader leaves the file out for the same reason.
    assert.equal(loaded.skipped.find((s) => s.file === f.input)?.reason, reason);
    // The app says it of the file's name, without the header bytes, and adds what to do about it.
    const app = await inApp(f.input);
    assert.ok('error' in app, `the app refuses ${f.input}`);
    assert.ok(app.error.startsWith(`${basename(f.input)}: ${reason.replace(/\s*\(starts with [0-9a-f ]+\)/, '')}. `), `${app.error} | ${reason}`);
  }

  // Both separate the good files into the same stems: the same decoding, downmix, resampling and model.
  for (const [i, d] of result.done.entries()) {
    const app = await inApp(d.input);
    assert.ok('files' in app, `the app separates ${d.input}: ${JSON.stringify(app)}`);
    for (const stem of ['speech', 'env']) {
      const fromCli = (await readAudioFile(d.outputs.find((p) => p.endsWith(`.${stem}.wav`))!)).channels;
      const fromApp: Float32Array[] = (await readAudioFile(app.files[stem]!)).channels;
      assert.equal(fromApp.length, fromCli.length, `${GOOD()[i]} ${stem}: channels`);
      for (const [c, ch] of fromCli.entries()) {
        assert.equal(fromApp[c]!.length, ch.length);
        let diff = 0;
        for (let k = 0; k < ch.length; k++) diff = Math.max(diff, Math.abs(ch[k]! - fromApp[c]![k]!));
        assert.ok(diff < 1e-5, `${d.input} ${stem} channel ${c}: the app and the CLI differ by ${diff}`);
      }
    }
  }
});

test("a model whose metadata names its stems wrongly is refused by the app and by `tilt separate` with the same message", async () => {
  const why = 'the model\'s metadata.stems must be a list of names (got "speech")';
  const input = GOOD()[0]!;
  const cli = await tilt(['separate', input, '--model', join(work, 'models', 'bad-stems'), '--out', join(work, 'bad-out'), '--json']);
  assert.equal(cli.code, 1);
  assert.ok(cli.stderr.includes(`tilt: ${why}\n`), cli.stderr);
  const app = await inApp(input, 'bad-stems');
  assert.ok('error' in app);
  assert.ok(app.error.startsWith(why), app.error);
});

test('a fixed RNNoise share is refused by the app and by `tilt separate` with the same message for a model without fixed stem slots; auto, the default, separates such a model alone', async () => {
  const why = 'Blending RNNoise into the speech stem needs a model whose speech and env stems have fixed slots';
  const input = GOOD()[0]!;
  const cli = await tilt(['separate', input, '--model', join(work, 'models', 'tiny'), '--out', join(work, 'blend-out'), '--rnnoise=0.5']);
  assert.equal(cli.code, 1);
  assert.ok(cli.stderr.includes(`tilt: ${why}`), cli.stderr);
  const refused = await inApp(input, 'tiny', 0.5);
  assert.ok('error' in refused && refused.error.startsWith(why), JSON.stringify(refused));
  for (const blend of ['auto', undefined] as const) {
    const out = await tilt(['separate', input, '--model', join(work, 'models', 'tiny'), '--out', join(work, 'blend-out'), '--overwrite', '--json', ...(blend ? [`--rnnoise=${blend}`] : [])]);
    assert.equal(out.code, 0, out.stderr);
    const done = (JSON.parse(out.stdout) as { done: { blend?: unknown }[] }).done;
    assert.deepEqual([done.length, done[0]!.blend], [1, undefined], `--rnnoise ${blend ?? '(default)'}: no blend report`);
    const app = await inApp(input, 'tiny', blend);
    assert.ok('files' in app && app.rnnoiseBlend === 0, JSON.stringify(app));
  }
});

test('with the RNNoise blend, the app and `tilt separate` report the same share of the speech the model and RNNoise disagreed on, and RNNoise\'s share', async () => {
  const fixed = join(work, 'models', 'tiny-fixed');
  const input = GOOD()[0]!;
  const cli = await tilt(['separate', input, '--model', fixed, '--out', join(work, 'report-out'), '--rnnoise', 'auto', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const { blend } = (JSON.parse(cli.stdout) as { done: { blend: { disagreed: number; rnnoiseShare: number } }[] }).done[0]!;
  assert.ok(blend.disagreed >= 0 && blend.disagreed <= 1 && blend.rnnoiseShare >= 0 && blend.rnnoiseShare <= RNNOISE_AUTO.maxShare, JSON.stringify(blend));

  const { jobId } = await engine.separate({ input: { kind: 'path', path: input }, modelId: 'tiny-fixed', rnnoiseBlend: 'auto' });
  const end = await waitForEvent(engine, events, jobId, ['separate-done', 'job-failed']);
  assert.equal(end.type, 'separate-done', JSON.stringify(end));
  const app = (end as Extract<EngineEvent, { type: 'separate-done' }>).result.blendReport!;
  assert.ok(Math.abs(app.disagreed - blend.disagreed) < 1e-6 && Math.abs(app.rnnoiseShare - blend.rnnoiseShare) < 1e-6, `app ${JSON.stringify(app)}, CLI ${JSON.stringify(blend)}`);

  const text = await tilt(['separate', input, '--model', fixed, '--out', join(work, 'report-out'), '--rnnoise', 'auto', '--overwrite']);
  assert.equal(text.code, 0, text.stderr);
  const percent = (v: number) => `${Math.round(v * 100)} %`;
  assert.ok(text.stdout.includes(`Tilt and RNNoise disagreed on ${percent(blend.disagreed)} of the speech; RNNoise's share of the speech stem: ${percent(blend.rnnoiseShare)}`), text.stdout);
});

test('without --rnnoise, the app and `tilt separate` blend RNNoise in where the model disagrees with it (auto) for a model with fixed speech and env slots; --rnnoise off turns it off', async () => {
  const fixed = join(work, 'models', 'tiny-fixed');
  const input = GOOD()[0]!;
  const byDefault = await tilt(['separate', input, '--model', fixed, '--out', join(work, 'default-out'), '--json']);
  assert.equal(byDefault.code, 0, byDefault.stderr);
  assert.ok((JSON.parse(byDefault.stdout) as { done: { blend?: unknown }[] }).done[0]!.blend, byDefault.stdout);
  const off = await tilt(['separate', input, '--model', fixed, '--out', join(work, 'default-out'), '--json', '--overwrite', '--rnnoise', 'off']);
  assert.equal((JSON.parse(off.stdout) as { done: { blend?: unknown }[] }).done[0]!.blend, undefined, off.stdout);
  const app = await inApp(input, 'tiny-fixed');
  assert.ok('files' in app && app.rnnoiseBlend === 'auto', JSON.stringify(app));
  const appOff = await inApp(input, 'tiny-fixed', 0);
  assert.ok('files' in appOff && appOff.rnnoiseBlend === 0, JSON.stringify(appOff));
});

test('adapting to a recording: the app and `tilt separate --adapt` tune on the same sound and give the same stems', async () => {
  const fixed = join(work, 'models', 'tiny-adapt');
  await cp(join(work, 'models', 'tiny'), fixed, { recursive: true });
  const json = JSON.parse(await readFile(join(fixed, 'model.json'), 'utf8'));
  Object.assign(json.metadata, { slots: 'fixed', stems: ['speech', 'env'] });
  await writeFile(join(fixed, 'model.json'), JSON.stringify(json));
  // A prompt, then 4 s of real water noise where nobody speaks.
  const { entries } = await ensureTestAudio();
  const water = await readAudioFile(entries.find((e) => /env_sounds_water\.\d\.ogg$/.test(e.file))!.file);
  const noise = await resample(water.channels[0]!, water.sampleRate, 8000, 'fast');
  const prompt = (await readAudioFile(GOOD()[0]!)).channels[0]!;
  const x = new Float32Array(prompt.length + 4 * 8000);
  x.set(prompt);
  for (let i = 0; i < 4 * 8000; i++) x[prompt.length + i] = noise[i % noise.length]! * 0.3;
  const input = join(work, 'files', 'prompt-then-water.wav');
  await writeAudioFile(input, [x], 8000, 'wav16', { overwrite: true });

  const out = join(work, 'adapt-out');
  const cli = await tilt(['separate', input, '--model', fixed, '--out', out, '--format', 'wav32f', '--adapt', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const { adapt } = (JSON.parse(cli.stdout) as { done: { adapt: { soundSeconds: number; steps: number; skipped: string | null } }[] }).done[0]!;
  assert.equal(adapt.skipped, null);
  assert.equal(adapt.steps, 20);
  assert.ok(adapt.soundSeconds > 2 && adapt.soundSeconds <= 4.5, JSON.stringify(adapt));

  const fromCli = (await readAudioFile(join(out, 'prompt-then-water.speech.wav'))).channels[0]!;
  // The app, the plain CLI run and the CLI's text report run side by side.
  const inApp = (async () => {
    const { jobId } = await engine.separate({ input: { kind: 'path', path: input }, modelId: 'tiny-adapt', adapt: true });
    return { jobId, end: await waitForEvent(engine, events, jobId, ['separate-done', 'job-failed']) };
  })();
  const [{ jobId, end }, plain, text] = await Promise.all([
    inApp,
    tilt(['separate', input, '--model', fixed, '--out', join(work, 'plain-out'), '--format', 'wav32f']),
    tilt(['separate', input, '--model', fixed, '--out', join(work, 'text-out'), '--adapt']),
  ]);
  assert.equal(end.type, 'separate-done', JSON.stringify(end));
  const result = (end as Extract<EngineEvent, { type: 'separate-done' }>).result;
  assert.deepEqual(result.adapt, adapt);
  assert.ok(events.some((e) => e.type === 'progress' && e.jobId === jobId && e.stage === 'adapting'), 'the app shows the adapting stage');
  const fromApp = (await readAudioFile(engine.trackFile(result.resultId, 'speech')!)).channels[0]!;
  assert.equal(fromCli.length, fromApp.length);
  assert.ok(fromCli.every((v, i) => Math.abs(v - fromApp[i]!) < 1e-5), 'the same adapted model separated both');
  // Not adapted, the same file gives other stems.
  assert.equal(plain.code, 0, plain.stderr);
  const unadapted = (await readAudioFile(join(work, 'plain-out', 'prompt-then-water.speech.wav'))).channels[0]!;
  assert.ok(unadapted.some((v, i) => Math.abs(v - fromCli[i]!) > 1e-3), 'adapting changed the stems');

  assert.equal(text.code, 0, text.stderr);
  assert.ok(text.stdout.includes(`adapted to ${adapt.soundSeconds.toFixed(1)} s of the recording's sound where nobody speaks (20 steps)`), text.stdout);
});
