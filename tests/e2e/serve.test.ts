/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The real renderer in real Chromium against `tilt serve` (startServer), separating a real
// recording with the real engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/server';
import { buildRenderer, CHROMIUM, CHROMIUM_ARGS, modelsDirWithTestModel, realSpeechWav, ROOT, saveTinyModel, wavInfo } from './fixtures';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../fixtures/test-audio';

const SHOTS = join(ROOT, 'test-results', 'e2e');
let server: RunningServer;
let browser: Browser;
let page: Page;
let root: string;

before(async () => {
  const rendererDir = await buildRenderer();
  const m = await modelsDirWithTestModel();
  root = m.root;
  await saveTinyModel(join(m.modelsDir, 'tiny-base'), 'Tiny base');
  await ensureTestAudio();
  server = await startServer({
    port: 0,
    rendererDir,
    engine: {
      modelsDir: m.modelsDir, settingsFile: join(root, 'settings.json'), workDir: join(root, 'work'), exportDir: join(root, 'exports'), builtinModelsDirs: [],
      training: { corpus: 'ci', cacheDir: TEST_AUDIO_DIR, validation: { mixtures: 2, batchSize: 2 } },
    },
  });
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1360, height: 860 } })).newPage();
  await page.goto(server.openUrl);
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
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
  assert.deepEqual(downloads.map((d) => d.name).sort(), ['privacy-prompt.env.wav', 'privacy-prompt.speech.wav']);
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
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByLabel('Model to fine-tune').selectOption('tiny-base');
  await page.getByLabel('New model name').fill('E2E tilt');
  await page.getByRole('button', { name: 'Toward speech' }).click();
  await page.getByLabel('Steps', { exact: true }).fill('100000');
  await page.getByLabel('Batch size', { exact: true }).fill('2');
  await page.getByLabel('Segment (s)', { exact: true }).fill('0.5');
  await page.getByLabel('Validate every', { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Start training' }).click();

  const points = (title: string) => page.waitForFunction(
    (t) => Number(document.querySelector(`figure[aria-label="${t}"]`)?.getAttribute('data-points')) >= 2, title, { timeout: 60_000 },
  );
  await points('Training loss');
  await points('Weight entropy');
  await points('Validation SI-SDRi');
  await page.locator('.section-title small', { hasText: 'live, from training' }).waitFor();
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
  await page.locator('.ckpts li[data-kind="best"]').getByRole('button', { name: 'Use this model for separation' }).click();
  await page.getByTestId('active-model').filter({ hasText: 'E2E tilt' }).waitFor();
  await page.locator('.ckpts li[data-kind="best"]').getByRole('button', { name: 'Separating with this model' }).waitFor();

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
