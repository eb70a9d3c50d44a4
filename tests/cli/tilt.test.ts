// The `tilt` command as a user runs it: a real process, real audio, real files.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAudioFile } from '../../core/io/audio';
import { ensureTestAudio, pkgFile, TEST_AUDIO_DIR } from '../fixtures/test-audio';
import { makeUserFolders } from '../fixtures/user-folders';
import { runTilt } from '../fixtures/tilt-cli';
import { saveTinyModel } from '../e2e/fixtures';

const BIN = join(import.meta.dirname, '../../bin/tilt.mjs');
let work: string;
const env = () => ({ ...process.env, TILT_HOME: join(work, 'home') });

const tilt = (args: string[], extraEnv: Record<string, string> = {}) => runTilt(args, { home: join(work, 'home'), cwd: work, env: extraEnv });

// A 48 kHz Ogg Vorbis recording: the stems come back at its rate and channel count by default.
const WATER = pkgFile('minetest-data', 'usr/share/games/minetest/games/minetest_game/mods/env_sounds/sounds/env_sounds_water.3.ogg');

before(async () => {
  await ensureTestAudio();
  work = await mkdtemp(join(tmpdir(), 'tilt-cli-'));
  process.on('exit', () => void rm(work, { recursive: true, force: true }));
});

test('help lists the commands; unknown commands and bad options exit 2 with a message', async () => {
  const help = await tilt(['--help']);
  assert.equal(help.code, 0);
  for (const c of ['separate', 'train', 'evaluate', 'experiment', 'data', 'models', 'serve']) assert.match(help.stdout, new RegExp(`\\n  ${c} `));
  const unknown = await tilt(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const bad = await tilt(['separate', 'x.wav', '--format', 'mp3']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format must be one of wav16, wav24, wav32f, flac/);
  // Refused before any work: the processes can run side by side.
  const refusals: { args: string[]; message: RegExp }[] = [];
  for (const command of ['separate', 'evaluate']) {
    const file = command === 'separate' ? ['x.wav'] : [];
    for (const [window, message] of [['0.5', /--window must be a number >= 1, got "0.5"/], ['31', /--window must be at most 30 s, got "31"/], ['two', /--window must be a number/]] as const) {
      refusals.push({ args: [command, ...file, '--window', window], message });
    }
    for (const weight of ['1.5', '-0.1', 'half', '']) refusals.push({ args: [command, ...file, `--rnnoise=${weight}`], message: /--rnnoise must be auto, off or a number between 0 and 1/ });
  }
  const answers = await Promise.all(refusals.map((r) => tilt(r.args)));
  refusals.forEach(({ args, message }, i) => {
    assert.equal(answers[i]!.code, 2, args.join(' '));
    assert.match(answers[i]!.stderr, message, args.join(' '));
  });
});

/** A run of a one-block model on the CI recordings, 0.5 s mixtures in pairs: seconds per epoch. */
function tinyRunConfig(name: string, rest: Record<string, unknown>): string {
  return JSON.stringify({
    name, seed: 1,
    model: { preset: '0.25x', overrides: { nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 } },
    data: { corpus: 'ci', cacheDir: TEST_AUDIO_DIR, segmentSeconds: 0.5 },
    batchSize: 2, ...rest,
  });
}

test('train rejects a bad config naming the field, then trains, evaluates and separates real audio', async () => {
  const badConfig = join(work, 'bad.json');
  await writeFile(badConfig, JSON.stringify({ epochs: 'many', reweighting: [{ class: { speech: 'lots' } }] }));
  const bad = await tilt(['train', '--config', badConfig]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /epochs must be a finite number/);
  assert.match(bad.stderr, /reweighting\.terms\[0\]\.class\.speech must be a finite number/);

  const config = join(work, 'tiny.json');
  await writeFile(config, tinyRunConfig('tiny', { epochs: 1, stepsPerEpoch: 3, validation: { mixtures: 4, batchSize: 4 }, reweighting: [{ robust: { alpha: 0.5 } }] }));
  const badTilt = await tilt(['train', '--config', config, '--tilt', 'sideways']);
  assert.equal(badTilt.code, 2);
  assert.match(badTilt.stderr, /--tilt must be one of none, speech, env \(got "sideways"\)/);
  const badWorkers = await tilt(['train', '--config', config, '--workers', '0']);
  assert.equal(badWorkers.code, 2);
  assert.match(badWorkers.stderr, /--workers must be a whole number >= 1 or "auto" \(got "0"\)/);
  // Two gradient workers: the process still exits once the run is done.
  // --tilt speech replaces the config's robust term with the preset: per source, speech weighs e^3.
  const trained = await tilt(['train', '--config', config, '--tilt', 'speech', '--workers', '2', '--install', '--json']);
  assert.equal(trained.code, 0, trained.stderr);
  const events = trained.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events.find((e) => e.type === 'started').workers, 2);
  assert.equal(events.find((e) => e.type === 'done').outcome, 'finished');
  const progress = events.filter((e) => e.type === 'progress').at(-1).progress;
  // gamma speech = 3 per source on speech+env mixtures: speech sources carry e^3/(1+e^3) of the mass.
  assert.ok(Math.abs(progress.diagnostics.classMass.speech - Math.exp(3) / (1 + Math.exp(3))) < 1e-9);
  assert.deepEqual(events.at(-1), { installed: 'tiny' });
  const card = await readFile(join(work, 'runs/tiny/best/MODEL_CARD.md'), 'utf8');
  assert.match(card, /\*\*Tilt \(reweighting\)\*\*: Toward speech \(`--tilt speech`\)/);
  assert.match(card, /best checkpoint \(highest validation SI-SDRi of speech sources, the favoured class\)/);

  const listed = await tilt(['models', 'list', '--json']);
  assert.ok(JSON.parse(listed.stdout).some((m: { id: string }) => m.id === 'tiny'));

  const evaluated = await tilt(['evaluate', '--model', join(work, 'runs/tiny/best'), '--data', 'ci', '--cache', TEST_AUDIO_DIR, '--mixtures', '6', '--seconds', '0.5', '--json']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const { report, windowSeconds } = JSON.parse(evaluated.stdout);
  assert.equal(windowSeconds, 8);
  assert.equal(report.overall.count, 6);
  assert.equal(report.byClass.speech.count, 6);
  assert.ok(Number.isFinite(report.overall.p[50]));
  // Two models on the same mixtures: the second gets paired differences against the first.
  const compared = await tilt(['evaluate', '--model', join(work, 'runs/tiny/best'), '--model', 'tilt-default', '--data', 'ci', '--cache', TEST_AUDIO_DIR, '--mixtures', '4', '--seconds', '0.5', '--json']);
  assert.equal(compared.code, 0, compared.stderr);
  const both = JSON.parse(compared.stdout);
  const other = both.models[0].report;
  assert.equal(other.paired.against, both.report.system);
  assert.equal(other.paired.overall.n, 4);
  assert.ok(Math.abs(other.paired.overall.mean - (other.overall.mean - both.report.overall.mean)) < 1e-9);
  assert.ok(Math.abs(other.paired.byClass.speech.mean - (other.byClass.speech.mean - both.report.byClass.speech.mean)) < 1e-9);

  const out = join(work, 'stems');
  const separated = await tilt(['separate', WATER, join(work, 'missing.wav'), '--model', 'tiny', '--out', out, '--format', 'wav24', '--json', '--rnnoise', 'off']);
  assert.equal(separated.code, 1, 'a failed file makes the exit code non-zero');
  const result = JSON.parse(separated.stdout);
  assert.equal(result.failed.length, 1);
  assert.match(result.failed[0].error, /missing\.wav/);
  const files = (await readdir(out)).sort();
  assert.equal(files.length, 2);
  assert.ok(files.every((f) => /^env_sounds_water\.3\.(speech|env)\.wav$/.test(f)), files.join(', '));
  const input = await readAudioFile(WATER);
  for (const f of files) {
    const bytes = await readFile(join(out, f));
    const stem = await readAudioFile(join(out, f));
    const header = bytes.length - stem.channels[0]!.length * 3 * stem.channels.length;
    assert.ok(header >= 44 && header <= 80, `24-bit PCM: ${bytes.length} bytes for ${stem.channels[0]!.length} frames`);
    assert.equal(input.sampleRate, 48000);
    assert.equal(stem.sampleRate, 48000);
    assert.equal(stem.channels.length, input.channels.length);
    assert.equal(stem.channels[0]!.length, input.channels[0]!.length);
  }
  // A shorter window: other stems, still the input's length, adding up to it. Without the RNNoise blend,
  // whose speech stem on this voiceless recording is RNNoise's whatever the window.
  const short = join(work, 'stems-short-window');
  const windowed = await tilt(['separate', WATER, '--model', 'tiny', '--out', short, '--format', 'wav32f', '--window', '1', '--rnnoise', 'off']);
  assert.equal(windowed.code, 0, windowed.stderr);
  const [speechShort, envShort] = await Promise.all(['speech', 'env'].map((n) => readAudioFile(join(short, `env_sounds_water.3.${n}.wav`))));
  const speechDefault = await readAudioFile(join(out, 'env_sounds_water.3.speech.wav'));
  assert.equal(speechShort!.channels[0]!.length, input.channels[0]!.length);
  let sumError = 0;
  let differs = 0;
  for (let t = 0; t < input.channels[0]!.length; t++) {
    sumError = Math.max(sumError, Math.abs(speechShort!.channels[0]![t]! + envShort!.channels[0]![t]! - input.channels[0]![t]!));
    differs = Math.max(differs, Math.abs(speechShort!.channels[0]![t]! - speechDefault.channels[0]![t]!));
  }
  assert.ok(sumError < 1e-4, `the stems add up to the input (max error ${sumError})`);
  assert.ok(differs > 1e-3, `1 s windows change the stems of a ${(input.channels[0]!.length / input.sampleRate).toFixed(1)} s file (max difference ${differs})`);
  const again = await tilt(['separate', WATER, '--model', 'tiny', '--out', out, '--format', 'wav24']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists; pass overwrite/);
});

test('train announces the data loading before the first step; Ctrl-C saves a checkpoint and exits 130, not 0', async () => {
  const config = join(work, 'long.json');
  await writeFile(config, tinyRunConfig('long', { epochs: 100, stepsPerEpoch: 100, validation: { mixtures: 2, batchSize: 2 } }));
  const runDir = join(work, 'runs', 'long');
  const p = spawn(process.execPath, [BIN, 'train', '--config', config, '--out', runDir, '--workers', '1', '--json'], { env: env(), cwd: work });
  let stdout = '';
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => p.on('close', resolve));
  await new Promise<void>((resolve) => p.stdout.on('data', (d) => {
    stdout += d;
    if (stdout.includes('"type":"progress"')) resolve();
  }));
  p.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; message?: string; outcome?: string });
  assert.deepEqual(events.slice(0, 2).map((e) => e.type), ['data-check', 'status'], 'the data is checked first');
  assert.match(events[1]!.message!, /loading the training data/);
  assert.equal(events.find((e) => e.type === 'done')?.outcome, 'cancelled');
  assert.ok((await readdir(join(runDir, 'last'))).includes('optimizer.bin'), 'the checkpoint was saved');
});

test('data check: what flat folders named with ~ hold, per class and split, the files left out and why; a missing class is a problem', async () => {
  const home = join(work, 'user');
  await makeUserFolders(home);
  const config = join(work, 'check.json');
  await writeFile(config, JSON.stringify({ data: { corpus: null, speechDirs: ['~/voices'], envDirs: ['~/sounds'], cacheDir: join(work, 'cache') } }));
  const checked = await tilt(['data', 'check', '--config', config], { HOME: home });
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stdout, /\/user\/voices +speech +flat \(files only\) +16 /);
  assert.match(checked.stdout, /\/user\/sounds +env +flat \(files only\) +16 /);
  assert.match(checked.stdout, /class +train clips +train audio +validation clips +validation audio +test clips +test audio/);
  assert.match(checked.stdout, /left out: 2 files\n.*empty\.wav: empty file\n.*notes\.txt: not a format Tilt reads \(\.txt\)/);
  assert.match(checked.stdout, /before\/after scores come from the test split/);
  const json = JSON.parse((await tilt(['data', 'check', '--config', config, '--json'], { HOME: home })).stdout);
  assert.equal(json.clips.speech.train + json.clips.speech.validation + json.clips.speech.test, 16);

  await writeFile(config, JSON.stringify({ data: { corpus: null, speechDirs: ['~/voices'], cacheDir: join(work, 'cache') } }));
  const missing = await tilt(['data', 'check', '--config', config], { HOME: home });
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /problem: no env clips to train on/);
});

test('train will not download the built-in recordings unasked: without a terminal it needs --yes, and says how much', async () => {
  const config = join(work, 'corpus.json');
  await writeFile(config, JSON.stringify({ data: { corpus: 'ci', cacheDir: join(work, 'no-corpus') }, epochs: 1, stepsPerEpoch: 1 }));
  const refused = await tilt(['train', '--config', config]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /built-in recordings \(ci\) +both +to download: \d+ MB \(3 packages\)/);
  assert.match(refused.stderr, /need a download of \d+ MB \(3 Debian packages\)[^\n]*run again with --yes/);
  assert.deepEqual(await readdir(work).then((names) => names.filter((n) => n === 'no-corpus')), [], 'nothing was fetched');
});

test('a fine-tune of a saved model on flat folders prints the data check, then the before/after table, and writes the model card', async () => {
  const home = join(work, 'user');
  await makeUserFolders(home);
  await saveTinyModel(join(work, 'tiny-base'));
  const config = join(work, 'tune.json');
  await writeFile(config, JSON.stringify({
    name: 'tune', seed: 2, model: { from: join(work, 'tiny-base') },
    data: { corpus: null, speechDirs: ['~/voices'], envDirs: ['~/sounds'], cacheDir: join(work, 'cache'), segmentSeconds: 0.5 },
    batchSize: 2, epochs: 1, stepsPerEpoch: 2, validation: { mixtures: 4, batchSize: 2 },
  }));
  const tuned = await tilt(['train', '--config', config, '--workers', '1'], { HOME: home });
  assert.equal(tuned.code, 0, tuned.stderr);
  assert.match(tuned.stderr, /voices +speech +flat \(files only\) +16 /);
  assert.match(tuned.stdout, /before\/after on 4 held-out mixtures of the test split \(\d+ speech and \d+ env clips;/);
  assert.match(tuned.stdout, /SI-SDRi \(dB\) +n +base +fine-tuned +change\n[- ]+\nall mixtures +4 +-?\d+\.\d\d +-?\d+\.\d\d +[+-]\d/);
  assert.match(tuned.stdout, /speech stem +4 /);
  const card = join(work, 'runs', 'tune', 'best', 'MODEL_CARD.md');
  assert.ok(tuned.stdout.includes(`model card: ${card}`));
  assert.match(await readFile(card, 'utf8'), /## Before \/ after/);
});
