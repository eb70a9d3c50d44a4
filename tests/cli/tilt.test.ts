// The `tilt` command as a user runs it: a real process, real audio, real files.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAudioFile } from '../../core/io/audio';
import { ensureTestAudio, pkgFile, TEST_AUDIO_DIR } from '../fixtures/test-audio';

const BIN = join(import.meta.dirname, '../../bin/tilt.mjs');
let work: string;
const env = () => ({ ...process.env, TILT_HOME: join(work, 'home') });

function tilt(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: env(), cwd: work });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

// A 48 kHz Ogg Vorbis recording: exporting at the input's rate must resample back up.
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
});

test('train rejects a bad config naming the field, then trains, evaluates and separates real audio', async () => {
  const badConfig = join(work, 'bad.json');
  await writeFile(badConfig, JSON.stringify({ epochs: 'many', reweighting: [{ class: { speech: 'lots' } }] }));
  const bad = await tilt(['train', '--config', badConfig]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /epochs must be a finite number/);
  assert.match(bad.stderr, /reweighting\.terms\[0\]\.class\.speech must be a finite number/);

  const config = join(work, 'tiny.json');
  await writeFile(config, JSON.stringify({
    name: 'tiny', seed: 1,
    model: { preset: '0.25x', overrides: { nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 } },
    data: { corpus: 'ci', cacheDir: TEST_AUDIO_DIR, segmentSeconds: 0.5 },
    batchSize: 2, epochs: 1, stepsPerEpoch: 3, validation: { mixtures: 4, batchSize: 4 },
    reweighting: { granularity: 'source', terms: [{ class: { speech: 3, env: 0 } }] },
  }));
  const badWorkers = await tilt(['train', '--config', config, '--workers', '0']);
  assert.equal(badWorkers.code, 2);
  assert.match(badWorkers.stderr, /--workers must be a whole number >= 1 or "auto" \(got "0"\)/);
  // Two gradient workers: the process still exits once the run is done.
  const trained = await tilt(['train', '--config', config, '--workers', '2', '--install', '--json']);
  assert.equal(trained.code, 0, trained.stderr);
  const events = trained.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events.find((e) => e.type === 'started').workers, 2);
  assert.equal(events.find((e) => e.type === 'done').outcome, 'finished');
  const progress = events.filter((e) => e.type === 'progress').at(-1).progress;
  // gamma speech = 3 per source on speech+env mixtures: speech sources carry e^3/(1+e^3) of the mass.
  assert.ok(Math.abs(progress.diagnostics.classMass.speech - Math.exp(3) / (1 + Math.exp(3))) < 1e-9);
  assert.deepEqual(events.at(-1), { installed: 'tiny' });

  const listed = await tilt(['models', 'list', '--json']);
  assert.ok(JSON.parse(listed.stdout).some((m: { id: string }) => m.id === 'tiny'));

  const evaluated = await tilt(['evaluate', '--model', join(work, 'runs/tiny/best'), '--data', 'ci', '--cache', TEST_AUDIO_DIR, '--mixtures', '6', '--seconds', '0.5', '--json']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const { report } = JSON.parse(evaluated.stdout);
  assert.equal(report.overall.count, 6);
  assert.equal(report.byClass.speech.count, 6);
  assert.ok(Number.isFinite(report.overall.p[50]));

  const out = join(work, 'stems');
  const separated = await tilt(['separate', WATER, join(work, 'missing.wav'), '--model', 'tiny', '--out', out, '--format', 'wav24', '--rate', 'input', '--json']);
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
    const header = bytes.length - stem.channels[0]!.length * 3;
    assert.ok(header >= 44 && header <= 80, `24-bit PCM: ${bytes.length} bytes for ${stem.channels[0]!.length} frames`);
    assert.equal(input.sampleRate, 48000);
    assert.equal(stem.sampleRate, 48000);
    assert.ok(Math.abs(stem.channels[0]!.length - input.channels[0]!.length) <= 2);
  }
  const again = await tilt(['separate', WATER, '--model', 'tiny', '--out', out, '--format', 'wav24']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists; pass overwrite/);
});
