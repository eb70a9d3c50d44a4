/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The real renderer in real Chromium against `tilt serve` (startServer), separating a real
// recording with the real engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/server';
import { realSpeechWav, SHOTS, startAppUnderTest, startTinyRun, wavInfo, type AppUnderTest } from './fixtures';
import { pkgFile } from '../fixtures/test-audio';
import { makeUserFolders } from '../fixtures/user-folders';
import { readAudioFile, resample, writeAudioFile } from '../../core/io/audio';

let app: AppUnderTest;
let server: RunningServer;
let page: Page;
let root: string;

before(async () => {
  app = await startAppUnderTest();
  ({ server, page, root } = app);
  await mkdir(SHOTS, { recursive: true });
  await page.goto(server.openUrl);
});

after(async () => {
  await app?.close();
});

test('the app loads with the token, drops it from the address bar, and shows model and backend', async () => {
  await page.getByTestId('backend').filter({ hasText: /wasm|tfjs-node|cpu/ }).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId('active-model').textContent(), 'Test 0.25x (untrained)');
  assert.ok(!page.url().includes('token='), `token still in ${page.url()}`);
});

test('separate a real recording: waveforms load, play runs the transport, export writes both stems', async () => {
  const wav = realSpeechWav();
  const input = wavInfo(await readFile(wav));
  await page.getByTestId('file-input').setInputFiles(wav);
  const player = page.locator('section.player[data-ready="true"]');
  await player.waitFor({ timeout: 90_000 });
  assert.deepEqual(await page.locator('.track').evaluateAll((els) => els.map((e) => e.getAttribute('data-track'))), ['mixture', 'speech', 'env']);
  assert.equal(await page.locator('.wave[data-ready="true"]').count(), 3);
  await page.getByRole('heading', { name: 'privacy-prompt.wav' }).waitFor();

  await page.getByRole('button', { name: 'Play' }).click();
  await page.locator('button.play[data-playing="true"]').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="time"]')?.textContent !== '0:00.0', null, { timeout: 15_000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  // Solo the speech stem: only it stays audible.
  await page.getByRole('button', { name: 'Solo Speech' }).click();
  assert.equal(await page.locator('.track.silent').count(), 2);
  await page.screenshot({ path: join(SHOTS, 'separate.png') });

  await page.getByLabel('Export format').selectOption('wav16');
  await page.getByLabel('Export sample rate').selectOption('input');
  const downloads: { name: string; path: string }[] = [];
  const got = new Promise<void>((resolve) => {
    page.on('download', async (d) => {
      const path = join(root, 'downloads', d.suggestedFilename());
      await d.saveAs(path);
      downloads.push({ name: d.suggestedFilename(), path });
      if (downloads.length === 2) resolve();
    });
  });
  await page.getByRole('button', { name: 'Export all 2 stems' }).click();
  await got;
  // The model and the format are in the names: exports of other models or formats do not collide.
  assert.deepEqual(downloads.map((d) => d.name).sort(), ['privacy-prompt.env.test-quarter.16-bit.wav', 'privacy-prompt.speech.test-quarter.16-bit.wav']);
  for (const d of downloads) {
    const info = wavInfo(await readFile(d.path));
    assert.equal(info.format, 1, `${d.name} is PCM`);
    assert.equal(info.bitsPerSample, 16);
    assert.equal(info.channels, 1);
    assert.equal(info.sampleRate, input.sampleRate);
    assert.equal(info.frames, input.frames, `${d.name} has as many frames as the input`);
  }
  await page.locator('.exported li').nth(1).waitFor();
});

test('a 44.1 kHz stereo recording: stems shown, played and exported at 44.1 kHz stereo; the model rate is stated', async () => {
  // Real speech (8 kHz prompt, brought to 44.1 kHz) and a real fire recording, panned apart.
  const speech = await resample((await readAudioFile(realSpeechWav())).channels[0]!, 8000, 44100, 'fast');
  const fire = (await readAudioFile(pkgFile('minetest-data', 'usr/share/games/minetest/games/minetest_game/mods/fire/sounds/fire_large.ogg'))).channels[0]!;
  const n = Math.min(speech.length, fire.length);
  const path = join(root, 'street-44k.wav');
  await writeAudioFile(path, [0.8, 0.3].map((g) => Float32Array.from({ length: n }, (_, t) => g * speech[t]! + (1.1 - g) * 0.5 * fire[t]!)), 44100, 'wav16');
  await page.getByRole('tab', { name: 'Separate' }).click();
  await page.getByTestId('file-input').setInputFiles(path);
  await page.locator('.item button.item-main', { hasText: 'street-44k.wav' }).click();
  await page.getByRole('heading', { name: 'street-44k.wav' }).waitFor({ timeout: 90_000 });
  await page.locator('section.player[data-ready="true"]').waitFor({ timeout: 90_000 });
  assert.equal(await page.getByTestId('stem-shape').textContent(), '44.1 kHz stereo');
  assert.match((await page.getByTestId('model-rate').textContent())!, /model worked at 8 kHz mono/);
  assert.match((await page.locator('.track[data-track="env"] .track-name small').textContent())!, /stereo/);
  // What the player plays: its Web Audio graph holds each track as two channels at 44.1 kHz, the file's length.
  const decoded = await page.evaluate(() => (window as unknown as { tiltPlayer: () => { tracks: Record<string, { channels: number; frames: number; sampleRate: number }> } }).tiltPlayer().tracks);
  assert.deepEqual(Object.keys(decoded).sort(), ['env', 'mixture', 'speech']);
  for (const d of Object.values(decoded)) assert.deepEqual(d, { channels: 2, frames: n, sampleRate: 44100 });
  await page.screenshot({ path: join(SHOTS, 'separate-stereo.png') });
  assert.equal(await page.getByLabel('Export sample rate').inputValue(), 'input', 'the file\'s own rate is the default');
  const downloads: string[] = [];
  const got = new Promise<void>((resolve) => {
    page.on('download', async (d) => {
      const saved = join(root, 'downloads-stereo', d.suggestedFilename());
      await d.saveAs(saved);
      downloads.push(saved);
      if (downloads.length === 2) resolve();
    });
  });
  await page.getByLabel('Export format').selectOption('wav16');
  await page.getByRole('button', { name: 'Export all 2 stems' }).click();
  await got;
  for (const d of downloads) {
    const info = wavInfo(await readFile(d));
    assert.deepEqual([info.sampleRate, info.channels, info.frames], [44100, 2, n], d);
  }
  await page.locator('.exported li small', { hasText: '44.1 kHz stereo' }).first().waitFor();
});

test('a broken file shows a readable error naming it, and the queue carries on', async () => {
  await page.getByTestId('file-input').setInputFiles({ name: 'broken.wav', mimeType: 'audio/wav', buffer: Buffer.from('RIFF\x10\x00\x00\x00WAVEjunk-not-audio') });
  const err = page.locator('.item[data-status="failed"] .item-error');
  await err.waitFor({ timeout: 30_000 });
  const text = (await err.textContent())!;
  assert.match(text, /broken\.wav/);
  assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
  await page.locator('.item[data-status="failed"] button.item-main').click();
  await page.getByRole('heading', { name: 'Could not separate broken.wav' }).waitFor();
});

test('Train view: a preset fills the reweighting config and the weights preview follows it', async () => {
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByRole('button', { name: 'Toward speech' }).click();
  await page.getByText('As a training config').click();
  await page.getByLabel('Reweighting config JSON').filter({ hasText: '[{"class":{"speech":3,"env":0}}]' }).waitFor();
  const mass = async (label: string) => Number((await page.locator('.diag div', { hasText: label }).locator('dd').textContent())!.replace('%', ''));
  await page.waitForFunction(() => document.querySelector('[aria-pressed="true"].preset')?.textContent === 'Toward speech');
  await page.waitForFunction(() => {
    const dd = [...document.querySelectorAll('.diag div')].find((d) => d.textContent?.includes('Speech mass'))?.querySelector('dd');
    return dd && parseFloat(dd.textContent!) > 60;
  });
  assert.ok((await mass('Speech mass')) > (await mass('Env mass')));
  await page.getByRole('button', { name: 'Uniform' }).click();
  await page.waitForFunction(() => [...document.querySelectorAll('.diag div')].find((d) => d.textContent?.includes('Effective batch'))?.querySelector('dd')?.textContent?.startsWith('8.00'));
  await page.getByRole('button', { name: 'Toward speech' }).click();
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'));
  await page.screenshot({ path: join(SHOTS, 'train.png') });
});

test('Models view: the model card shows and a rename sticks', async () => {
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('heading', { name: 'Test 0.25x (untrained)' }).waitFor();
  await page.locator('.facts dd', { hasText: '790 k' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'models.png') });
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('New name').fill('Speech tilt v1');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Speech tilt v1' }).waitFor();
  assert.equal(await page.getByTestId('active-model').textContent(), 'Speech tilt v1');
});

test('Train view: a real run toward speech streams charts and weights, cancels, and its checkpoint separates', async () => {
  await startTinyRun(page, { name: 'E2E tilt', tilt: 'Toward speech', steps: 100000 });

  const points = (title: string) => page.waitForFunction(
    (t) => Number(document.querySelector(`figure[aria-label="${t}"]`)?.getAttribute('data-points')) >= 2, title, { timeout: 60_000 },
  );
  await points('Training loss');
  await points('Weight entropy');
  await points('Validation SI-SDRi');
  await page.getByTestId('diag-source').filter({ hasText: /Last training batch \(step \d+\), live/ }).waitFor();
  // Per-source class bias: 2 mixtures x 2 sources, e^3 / (e^3 + 1) = 95.3% of the weight on speech.
  await page.locator('.diag div', { hasText: 'Effective batch' }).locator('dd', { hasText: '/ 4' }).waitFor();
  await page.locator('.diag div', { hasText: 'Speech mass' }).locator('dd', { hasText: '95.3%' }).waitFor();
  await page.locator('.pct tbody td').first().filter({ hasText: /^-?\d+\.\d\d$/ }).waitFor();
  await page.locator('.ckpts li[data-kind="best"]').waitFor();
  assert.match((await page.locator('.status').textContent())!, /running · step \d+\/100000/);
  await page.screenshot({ path: join(SHOTS, 'train-running.png') });

  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.status[data-status="cancelled"]').waitFor({ timeout: 30_000 });
  await page.locator('.ckpts li[data-kind="last"]').waitFor();
  // Training added a model but the one separating stays until the user picks the new one.
  assert.equal(await page.getByTestId('active-model').textContent(), 'Speech tilt v1');
  await page.locator('.ckpts li[data-kind="best"]').getByRole('button', { name: 'Use for separation' }).click();
  await page.getByTestId('active-model').filter({ hasText: 'E2E tilt' }).waitFor();
  await page.locator('.ckpts li[data-kind="best"]').getByRole('button', { name: 'Separating with this checkpoint' }).waitFor();

  // The cancelled run is listed as unfinished; continuing it picks up where its last checkpoint left off.
  const unfinished = page.locator('.unfinished li[data-model="e2e-tilt"]');
  const stoppedAt = Number(/step (\d+) of 100000/.exec((await unfinished.locator('small').textContent())!)?.[1]);
  assert.ok(stoppedAt >= 2, `stopped at step ${stoppedAt}`);
  await page.getByRole('button', { name: 'Continue training E2E tilt' }).click();
  await page.waitForFunction((after) => {
    const m = /^running · step (\d+)\/100000$/.exec(document.querySelector('.status')?.textContent ?? '');
    return !!m && Number(m[1]) > after;
  }, stoppedAt, { timeout: 60_000 });
  // The run so far came back with it: its validation curve and its checkpoints.
  await points('Validation SI-SDRi');
  await page.locator('.ckpts li[data-kind="best"]').waitFor();
  assert.equal(await unfinished.count(), 0, 'the run going now is not offered for continuing');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.status[data-status="cancelled"]').waitFor({ timeout: 30_000 });
  await page.waitForFunction((after) => {
    const m = /step (\d+) of/.exec(document.querySelector('.unfinished li[data-model="e2e-tilt"] small')?.textContent ?? '');
    return !!m && Number(m[1]) > after;
  }, stoppedAt);
  await page.screenshot({ path: join(SHOTS, 'train-unfinished.png') });
});

test('Train view: flat folders are checked before a fine-tune, which shows its phases and ends with before/after scores', async () => {
  const folders = await makeUserFolders(join(root, 'my-audio'));
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByLabel('My folders').check();
  await page.getByLabel('Folder path').fill(folders.speech);
  await page.getByRole('button', { name: '+ Speech' }).click();
  await page.getByLabel('Folder path').fill(folders.env);
  await page.getByRole('button', { name: '+ Env' }).click();
  await page.getByRole('button', { name: 'Check data' }).click();
  await page.getByTestId('check-ok').waitFor({ timeout: 60_000 });
  const clips = async (cls: string, split: string) => Number(await page.locator(`.splits tr[data-class="${cls}"] td[data-split="${split}"] b`).textContent());
  for (const cls of ['speech', 'env']) {
    const counts = [await clips(cls, 'train'), await clips(cls, 'validation'), await clips(cls, 'test')];
    assert.equal(counts.reduce((a, b) => a + b, 0), 16, `${cls}: ${counts}`);
    assert.ok(counts.every((n) => n > 0), `${cls}: ${counts}`);
  }
  assert.equal(await page.locator('.checked-folders li', { hasText: 'flat · 16 clips' }).count(), 2);
  await page.locator('details.skipped summary', { hasText: '2 files left out' }).click();
  await page.locator('details.skipped li', { hasText: 'notes.txt' }).filter({ hasText: 'not a format Tilt reads (.txt)' }).waitFor();
  await page.locator('p.note', { hasText: 'speakers of the files directly in it are unknown' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'train-check.png') });

  await startTinyRun(page, { name: 'Folder tune', tilt: 'Uniform', steps: 4 });
  await page.getByTestId('run-phase').waitFor({ timeout: 60_000 });
  const table = page.getByTestId('before-after');
  await table.waitFor({ timeout: 120_000 });
  await page.locator('.status[data-status="done"]').waitFor();
  assert.deepEqual(await table.locator('tbody th').allTextContents(), ['all mixtures', 'speech stem', 'env stem']);
  for (const cells of await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')))) {
    assert.match(cells.join(' '), /^-?\d+\.\d\d -?\d+\.\d\d [+-]\d+\.\d\d$/);
  }
  await page.screenshot({ path: join(SHOTS, 'train-before-after.png') });
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('button', { name: /Folder tune/ }).first().click();
  // The card is rendered: its "## Before / after" is a heading.
  await page.locator('.card-text h4', { hasText: 'Before / after' }).waitFor();
});

test('Train view: the built-in recordings download only after the user agrees to their size; the download shows its progress and Cancel stops it', async () => {
  // A stand-in apt-get that writes its .deb slowly, as over a network: nothing is really downloaded.
  const bin = join(root, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'apt-get'), '#!/bin/sh\nf="$2_1.0_all.deb"\nfor i in $(seq 1 400); do head -c 100000 /dev/zero >> "$f"; sleep 0.05; done\n');
  await chmod(join(bin, 'apt-get'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  const cacheDir = join(root, 'corpus-not-yet');
  const fresh = await startServer({
    port: 0, rendererDir: app.rendererDir,
    engine: {
      modelsDir: join(root, 'models'), settingsFile: join(root, 'settings-fresh.json'), workDir: join(root, 'work-fresh'), exportDir: join(root, 'exports'),
      builtinModelsDirs: [], training: { corpus: 'ci', cacheDir },
    },
  });
  const p = await app.browser.newPage({ viewport: { width: 1360, height: 860 } });
  try {
    await p.goto(fresh.openUrl);
    await p.getByRole('tab', { name: 'Train' }).click();
    await p.getByLabel('Model to fine-tune').selectOption('tiny-base');
    await p.getByRole('button', { name: 'Start training' }).click();
    const ask = p.getByRole('alertdialog', { name: 'Download the built-in recordings?' });
    await ask.waitFor({ timeout: 60_000 });
    assert.match((await ask.textContent())!, /\d+ MB in 3 Debian packages/);
    await p.locator('.checked-folders li', { hasText: /Real recordings \(ci\).*MB to download/ }).waitFor();
    await p.getByRole('button', { name: 'Not now' }).click();
    await ask.waitFor({ state: 'detached' });
    assert.equal(await p.locator('.status').textContent(), '', 'nothing started');

    await p.getByRole('button', { name: 'Start training' }).click();
    await p.getByRole('button', { name: /^Download \d+ MB and train$/ }).click();
    const phase = p.locator('[data-testid="run-phase"][data-stage="downloading"]');
    await phase.filter({ hasText: /Downloading the built-in recordings [1-9]\d*%/ }).waitFor({ timeout: 60_000 });
    await p.screenshot({ path: join(SHOTS, 'train-downloading.png') });
    await p.getByRole('button', { name: 'Cancel' }).click();
    await p.locator('.status[data-status="cancelled"]').waitFor({ timeout: 30_000 });
    assert.deepEqual((await readdir(join(cacheDir, 'debs'))).filter((f) => f.endsWith('.deb')), [], 'no partial download left as a package');
  } finally {
    process.env.PATH = path;
    await p.close();
    await fresh.close();
  }
});
