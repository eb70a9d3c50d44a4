/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Issue 16 in real Chromium against `tilt serve`: listening (one Web Audio graph, A/B, balance,
// zoom that keeps the player's state, Space), the spectrogram, exports that do not collide, time
// elapsed and left for decoding and exporting, a model downloaded as a zip and imported under its
// own name, settings and results that survive a reload, a training run that a reloaded page
// reattaches to (its step-0 baseline, its last checkpoint put to use, that checkpoint's card), and a
// stopped or restarted server shown for what it is. One server and one browser for all but the
// connection test, which needs a server of its own to stop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/server';
import { holdExports, realSpeechWav, SHOTS, startAppUnderTest, startTinyRun, wavInfo, type AppUnderTest } from './fixtures';
import { pkgFile } from '../fixtures/test-audio';
import { readAudioFile, resample, writeAudioFile } from '../../core/io/audio';
import { ZipReader } from '../../core/data/containers/zip';

let app: AppUnderTest;
let server: RunningServer;
let page: Page;
let root: string;
let stereo: string;
let frames: number;

interface Graph {
  state: string; sampleRate: number; playing: boolean; position: number; sources: number; gains: Record<string, number>;
  tracks: Record<string, { channels: number; frames: number; sampleRate: number }>;
}
const graph = (p: Page = page) => p.evaluate(() => (window as unknown as { tiltPlayer: () => Graph }).tiltPlayer());
/** Waits until the graph's gain nodes hold these values (they glide over a few ms while playing). */
async function gainsBecome(want: Record<string, number>): Promise<void> {
  await page.waitForFunction((w) => {
    const g = (window as unknown as { tiltPlayer?: () => Graph }).tiltPlayer?.().gains;
    return !!g && Object.entries(w).every(([id, v]) => Math.abs((g[id] ?? NaN) - v) < 0.01);
  }, want, { timeout: 5000 });
}

before(async () => {
  app = await startAppUnderTest();
  ({ server, page, root } = app);
  // 10 s of real speech (right) over a real fire recording (left), each looped, 44.1 kHz stereo:
  // long enough to go on playing through the zoom clicks on a slow machine.
  const speech = await resample((await readAudioFile(realSpeechWav())).channels[0]!, 8000, 44100, 'fast');
  const fire = (await readAudioFile(pkgFile('minetest-data', 'usr/share/games/minetest/games/minetest_game/mods/fire/sounds/fire_large.ogg'))).channels[0]!;
  const n = 10 * 44100;
  frames = n;
  stereo = join(root, 'street.wav');
  await writeAudioFile(stereo, [0.3, 0.8].map((g) => Float32Array.from({ length: n }, (_, t) => g * speech[t % speech.length]! + (1.1 - g) * 0.5 * fire[t % fire.length]!)), 44100, 'wav16');
  await page.goto(server.openUrl);
  await page.getByTestId('engine-state').filter({ hasText: 'Connected' }).waitFor({ timeout: 30_000 });
});

after(async () => {
  await app?.close();
});

test('listening: one Web Audio graph at the file\'s rate; A/B and the balance set its gains; zoom keeps position, solo/mute and playback; Space plays', async () => {
  await page.getByTestId('file-input').setInputFiles(stereo);
  await page.locator('section.player[data-ready="true"]').waitFor({ timeout: 90_000 });
  assert.equal(await page.getByTestId('stem-shape').textContent(), '44.1 kHz stereo');
  assert.match((await page.getByTestId('model-rate').textContent())!, /model worked at 8 kHz mono/);
  assert.equal(await page.getByTestId('window-pill').textContent(), 'Window: 8 s');
  const g0 = await graph();
  assert.equal(g0.sampleRate, 44100, 'decoded at the file\'s own rate: no resampling between tracks');
  // Every track plays full-band stereo, frame for frame as long as the file.
  for (const id of ['mixture', 'speech', 'env']) assert.deepEqual(g0.tracks[id], { channels: 2, frames, sampleRate: 44100 }, id);
  await gainsBecome({ mixture: 1, speech: 0, env: 0 });

  await page.getByRole('radio', { name: 'Speech' }).click();
  await gainsBecome({ mixture: 0, speech: 1, env: 0 });
  await page.getByRole('radio', { name: 'Environmental' }).click();
  await gainsBecome({ mixture: 0, speech: 0, env: 1 });
  await page.getByRole('radio', { name: 'Both stems' }).click();
  await gainsBecome({ mixture: 0, speech: 1, env: 1 });
  // The balance: ambience 6 dB down (gain 10^(-6/20) = 0.501).
  await page.getByLabel('Environmental sound level').fill('-6');
  await gainsBecome({ mixture: 0, speech: 1, env: 0.501 });
  await page.getByRole('radio', { name: 'Original' }).click();
  await gainsBecome({ mixture: 1, speech: 0, env: 0 });

  // Space plays wherever focus is (here on a button, which must not be clicked by it).
  await page.getByRole('button', { name: 'Zoom in' }).focus();
  await page.keyboard.press('Space');
  await page.locator('button.play[data-playing="true"]').waitFor();
  assert.equal(await page.getByTestId('zoom').textContent(), 'Fit', 'Space did not click the focused button');
  await page.waitForFunction(() => (window as unknown as { tiltPlayer: () => Graph }).tiltPlayer().position > 0.3);
  const playingGraph = await graph();
  assert.equal(playingGraph.state, 'running');
  assert.equal(playingGraph.sources, 3, 'the mixture and both stems play from one clock');

  // Solo the speech stem, then zoom in twice while playing.
  await page.getByRole('button', { name: 'Solo Speech' }).click();
  await gainsBecome({ mixture: 0, speech: 1, env: 0 });
  await page.locator('.wave[aria-label="Waveform of Speech"]').evaluate((el) => ((el.firstElementChild as HTMLElement & { marked?: boolean }).marked = true));
  const before = (await graph()).position;
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await page.getByRole('button', { name: 'Zoom in' }).click();
  assert.equal(await page.getByTestId('zoom').textContent(), '100 px/s');
  const after = await graph();
  assert.ok(after.playing, 'still playing after zoom');
  assert.ok(after.position >= before, `position kept (${before} -> ${after.position})`);
  assert.equal(await page.getByRole('button', { name: 'Solo Speech' }).getAttribute('aria-pressed'), 'true', 'solo kept');
  assert.equal(await page.getByRole('button', { name: 'Mute Speech' }).getAttribute('aria-pressed'), 'true', 'mute state kept');
  assert.equal(await page.locator('.wave[aria-label="Waveform of Speech"]').evaluate((el) => !!(el.firstElementChild as HTMLElement & { marked?: boolean }).marked), true, 'the waveform was not rebuilt');
  await gainsBecome({ mixture: 0, speech: 1, env: 0 });
  await page.screenshot({ path: join(SHOTS, 'review-listening.png') });

  // Space from the page body pauses; the position holds.
  await page.locator('h1').first().click();
  await page.keyboard.press('Space');
  await page.locator('button.play[data-playing="false"]').waitFor();
  const paused = await graph();
  assert.equal(paused.playing, false);
  assert.equal(paused.sources, 0);
  await page.waitForTimeout(200);
  assert.equal((await graph()).position, paused.position, 'paused: the clock holds');
  await page.getByRole('button', { name: 'Solo Speech' }).click();
});

test('the spectrogram of a track renders from its decoded audio and hides again', async () => {
  await page.getByRole('button', { name: 'Spectrogram of Speech' }).click();
  const wave = page.locator('.wave[aria-label="Waveform of Speech"]');
  await page.locator('.wave[aria-label="Waveform of Speech"][data-spectrogram="on"]').waitFor({ timeout: 30_000 });
  const lit = await wave.evaluate((el) => {
    const roots: (Element | ShadowRoot)[] = [el, ...[...el.querySelectorAll('*')].flatMap((e) => (e.shadowRoot ? [e.shadowRoot] : []))];
    const canvases = roots.flatMap((r) => [...r.querySelectorAll('canvas')]).filter((c) => c.height >= 100);
    let bright = 0;
    for (const c of canvases) {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4 * 97) if (d[i]! + d[i + 1]! + d[i + 2]! > 150) bright++;
    }
    return { canvases: canvases.length, bright };
  });
  assert.ok(lit.canvases >= 1, 'a spectrogram canvas');
  assert.ok(lit.bright > 50, `the spectrogram shows energy (${lit.bright} bright samples)`);
  await page.screenshot({ path: join(SHOTS, 'review-spectrogram.png') });
  await page.getByRole('button', { name: 'Spectrogram of Speech' }).click();
  await page.locator('.wave[aria-label="Waveform of Speech"][data-spectrogram="off"]').waitFor();
});

test('exports in two formats and from two models do not collide; a repeat offers Keep both / Replace; the mix is one file; download links', async () => {
  const exportDir = join(root, 'exports');
  await page.getByLabel('Export format').selectOption('wav16');
  await page.getByRole('button', { name: 'Export all 2 stems' }).click();
  await page.getByTestId('exported').filter({ hasText: 'street.speech.test-quarter.16-bit.wav' }).waitFor({ timeout: 30_000 });
  await page.getByLabel('Export format').selectOption('flac');
  await page.getByRole('button', { name: 'Export all 2 stems' }).click();
  await page.getByTestId('exported').filter({ hasText: 'street.speech.test-quarter.flac' }).waitFor({ timeout: 30_000 });
  // Per-stem download links carry the token.
  const href = await page.getByRole('link', { name: 'Download street.env.test-quarter.flac' }).getAttribute('href');
  assert.match(href!, /^\/api\/download\/[0-9a-f-]+\?token=/);
  // The same export again: the UI asks instead of failing.
  await page.getByRole('button', { name: 'Export all 2 stems' }).click();
  const ask = page.getByRole('alertdialog');
  await ask.waitFor();
  assert.match((await ask.textContent())!, /street\.(speech|env)\.test-quarter\.flac is already in/);
  assert.doesNotMatch((await ask.textContent())!, /--overwrite/);
  await ask.getByRole('button', { name: 'Keep both' }).click();
  await page.getByTestId('exported').filter({ hasText: 'street.speech.test-quarter-2.flac' }).waitFor({ timeout: 30_000 });
  // The rebalanced mix: one file.
  await page.getByLabel('Export format').selectOption('wav16');
  await page.getByRole('button', { name: /^Export mix/ }).click();
  await page.getByTestId('exported').filter({ hasText: 'street.mix-speech100-env50.test-quarter.16-bit.wav' }).waitFor({ timeout: 30_000 });

  // Another model separates the same file: its export does not touch the first one's.
  await server.engine.models.activate('tiny-base');
  await page.getByTestId('file-input').setInputFiles(stereo);
  const second = page.locator('.item').nth(1);
  await second.locator('[data-status="done"], .badge.done').first().waitFor({ timeout: 90_000 }).catch(() => undefined);
  await page.locator('.item[data-status="done"]').nth(1).waitFor({ timeout: 90_000 });
  await page.locator('.item[data-status="done"]').nth(1).locator('button.item-main').click();
  await page.locator('.pill', { hasText: 'Model: Tiny base' }).first().waitFor();
  // The first result's export panel belongs to it, not to this one.
  assert.equal(await page.getByTestId('exported').count(), 0, 'no stale "Exported to" panel');
  await page.locator('section.player[data-ready="true"]').waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Export all 2 stems' }).click();
  await page.getByTestId('exported').filter({ hasText: 'street.speech.tiny-base.16-bit.wav' }).waitFor({ timeout: 30_000 });
  const files = (await readdir(exportDir)).sort();
  assert.deepEqual(files, [
    'street.env.test-quarter-2.flac', 'street.env.test-quarter.16-bit.wav', 'street.env.test-quarter.flac', 'street.env.tiny-base.16-bit.wav',
    'street.mix-speech100-env50.test-quarter.16-bit.wav',
    'street.speech.test-quarter-2.flac', 'street.speech.test-quarter.16-bit.wav', 'street.speech.test-quarter.flac', 'street.speech.tiny-base.16-bit.wav',
  ]);
  await server.engine.models.activate('test-quarter');
});

test('a compressed file shows its decoding and the time elapsed and left; an export shows its progress, with a Cancel', async () => {
  const flac = join(root, 'cafe.flac');
  const audio = await readAudioFile(stereo);
  await writeAudioFile(flac, audio.channels, audio.sampleRate, 'flac');
  // Progress flashes by: keep every text the queue and the export panel show.
  await page.evaluate(() => {
    const w = window as unknown as { seen: Set<string> };
    w.seen = new Set();
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('.item-foot span, [data-testid="job-times"], [data-testid="export-progress"] span, [data-testid="export-progress"] button')) w.seen.add(el.textContent ?? '');
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const seen = async () => page.evaluate(() => [...(window as unknown as { seen: Set<string> }).seen]);
  await page.getByTestId('file-input').setInputFiles(flac);
  const item = page.locator('.item', { hasText: 'cafe.flac' });
  await page.locator('.item[data-status="done"]', { hasText: 'cafe.flac' }).waitFor({ timeout: 90_000 });
  const during = await seen();
  assert.ok(during.some((t) => /^decoding \d+%$/.test(t)), `decoding with a percentage: ${during.join(' | ')}`);
  assert.ok(during.some((t) => /^\d+ s elapsed$/.test(t)), 'elapsed time');
  assert.ok(during.some((t) => /^\d+ s elapsed · \d+ s left$/.test(t)), `time left: ${during.join(' | ')}`);

  await item.locator('button.item-main').click();
  await page.locator('section.player[data-ready="true"]').waitFor({ timeout: 60_000 });
  await page.getByLabel('Export format').selectOption('flac');
  await page.getByRole('button', { name: 'Export all 2 stems' }).click();
  await page.getByTestId('exported').filter({ hasText: 'cafe.speech.test-quarter.flac' }).waitFor({ timeout: 30_000 });
  const exporting = await seen();
  assert.ok(exporting.some((t) => /^Writing \d+% · \d+ s elapsed/.test(t)), `export progress: ${exporting.join(' | ')}`);
  assert.ok(exporting.includes('Cancel export'));
  assert.equal(await page.getByTestId('export-progress').count(), 0, 'the progress goes when the export is done');
});

test('Models: a model downloads as a zip; importing that folder keeps the model\'s own name and says so', async () => {
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.locator('button.model', { hasText: 'Test 0.25x (untrained)' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download as zip' }).click()]);
  assert.equal(download.suggestedFilename(), 'test-quarter.zip');
  const zipPath = join(root, 'downloaded.zip');
  await download.saveAs(zipPath);
  const zip = await ZipReader.open(zipPath);
  try {
    const names = zip.entries.map((e) => e.name).sort();
    assert.deepEqual(names, ['test-quarter/model.json', 'test-quarter/tilt-model.json', 'test-quarter/weights.bin']);
    const meta = JSON.parse(Buffer.from(await zip.read(zip.entries.find((e) => e.name.endsWith('tilt-model.json'))!)).toString('utf8'));
    assert.equal(meta.name, 'Test 0.25x (untrained)');
  } finally {
    await zip.close();
  }
  await page.locator('.toast', { hasText: 'downloaded as test-quarter.zip' }).waitFor();

  // The folder the export left on the server, imported: it keeps its name, in a folder named after it.
  const folder = join(root, 'exports', 'test-quarter');
  await page.getByLabel('Model folder to import').fill(folder);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const toast = page.locator('.toast', { hasText: 'Imported “Test 0.25x (untrained)”' });
  await toast.waitFor();
  assert.equal(await toast.locator('span').first().textContent(),
    `Imported “Test 0.25x (untrained)” from ${folder}: it is listed under that name (folder test-0.25x-untrained in the models folder).`);
  assert.equal(await page.locator('.card-view h1').textContent(), 'Test 0.25x (untrained)');
  assert.match((await page.locator('.facts .path').first().textContent())!, /models\/test-0\.25x-untrained$/);
  await page.screenshot({ path: join(SHOTS, 'review-model-imported.png') });
  await server.engine.models.delete('test-0.25x-untrained');
  await page.getByRole('tab', { name: 'Separate' }).click();
});

test('a broken upload says what happened and what to do, without the upload path or header bytes; error toasts close', async () => {
  await page.getByTestId('file-input').setInputFiles({ name: 'broken.wav', mimeType: 'audio/wav', buffer: Buffer.from('RIFF\x10\x00\x00\x00WAVEjunk-not-audio') });
  const err = page.locator('.item[data-status="failed"] .item-error');
  await err.waitFor({ timeout: 30_000 });
  const text = (await err.textContent())!;
  assert.match(text, /^broken\.wav/);
  assert.match(text, /convert it to WAV or FLAC/);
  assert.doesNotMatch(text, /uploads|\/tmp\/|work\//, 'no server path');
  assert.doesNotMatch(text, /\b[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}\b/, 'no hex bytes');
  await page.locator('.item[data-status="failed"]').getByRole('button', { name: 'Remove broken.wav' }).click();
});

test('settings and results survive a reload', async () => {
  await page.getByLabel('Export format').selectOption('wav24');
  await page.getByLabel('Export sample rate').selectOption('model');
  await page.getByLabel('Separation window').selectOption('2');
  assert.match((await page.getByTestId('window-hint').textContent())!, /busy, changing background/);
  assert.equal(await page.getByLabel('RNNoise blend').inputValue(), 'auto', 'the blend is on by default');
  assert.match((await page.getByTestId('blend-hint').textContent())!, /better on recordings unlike the training data, a little worse on short clips like it/);
  await page.getByLabel('RNNoise blend').selectOption('0');
  assert.match((await page.getByTestId('blend-hint').textContent())!, /Only the model/);
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByLabel('Steps', { exact: true }).fill('321');
  await page.getByLabel('New model name').fill('Remembered name');
  await page.getByRole('button', { name: 'Robust' }).click();
  await page.reload();
  await page.getByTestId('engine-state').filter({ hasText: 'Connected' }).waitFor();
  await page.getByRole('tab', { name: 'Train' }).click();
  assert.equal(await page.getByLabel('Steps', { exact: true }).inputValue(), '321');
  assert.equal(await page.getByLabel('New model name').inputValue(), 'Remembered name');
  assert.equal(await page.getByRole('button', { name: 'Robust' }).getAttribute('aria-pressed'), 'true');
  await page.getByRole('tab', { name: 'Separate' }).click();
  // The results the engine holds are back in the queue, and the export settings with them.
  await page.locator('.item[data-status="done"]').nth(1).waitFor({ timeout: 10_000 });
  await page.locator('section.player[data-ready="true"]').waitFor({ timeout: 60_000 });
  assert.equal(await page.getByLabel('Export format').inputValue(), 'wav24');
  assert.equal(await page.getByLabel('Export sample rate').inputValue(), 'model');
  assert.equal(await page.getByLabel('Environmental sound level').inputValue(), '-6', 'the balance too');
  assert.equal(await page.getByLabel('Separation window').inputValue(), '2', 'the window for the next files too');
  await page.getByLabel('Separation window').selectOption('8');
  assert.equal(await page.getByLabel('RNNoise blend').inputValue(), '0', 'the blend for the next files too');
  await page.getByLabel('RNNoise blend').selectOption('auto');
});

test('an export going when the page reloads shows again with its progress and a Cancel that works; one that ends while the page is away shows its files; a stem handle downloads; Recent lists the file', async () => {
  // A short file: its exports are held in the engine (holdExports) so that the reload lands during one.
  const short = join(root, 'short.wav');
  await writeAudioFile(short, [(await readAudioFile(realSpeechWav())).channels[0]!.subarray(0, 8000)], 8000, 'wav16');
  await page.getByTestId('file-input').setInputFiles(short);
  const select = async () => {
    await page.locator('.item[data-status="done"]', { hasText: 'short.wav' }).locator('button.item-main').click({ timeout: 90_000 });
    await page.locator('.result-head h1', { hasText: 'short.wav' }).waitFor();
  };
  await select();
  await page.getByLabel('Export format').selectOption('wav16');
  await page.getByLabel('Export sample rate').selectOption('input');
  const exportDir = join(root, 'exports');
  const shorts = async () => (await readdir(exportDir).catch(() => [] as string[])).filter((f) => f.startsWith('short.')).sort();

  // In a browser a stem's handle is a download link of it, in the format chosen, written on demand.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-track="speech"]').getByTestId('stem-handle').click()]);
  assert.equal(download.suggestedFilename(), 'short.speech.test-quarter.16-bit.wav');
  const got = wavInfo(await readFile((await download.path())!));
  assert.deepEqual([got.sampleRate, got.channels, got.bitsPerSample, got.frames], [8000, 1, 16, 8000]);
  assert.deepEqual(await shorts(), [], 'a download is not an export into the export folder');

  const hold = holdExports(server.engine);
  const panel = page.getByTestId('export-progress');
  /** Waits up to 30 s for the engine to have no export going. */
  const exportsEnded = async () => {
    for (let i = 0; i < 300 && server.engine.jobs().exports.length; i++) await new Promise((r) => setTimeout(r, 100));
  };
  try {
    // 1. Reloaded while it is written: it shows again, its progress goes on, and it ends in "Exported to".
    await page.getByRole('button', { name: 'Export all 2 stems' }).click();
    await panel.waitFor();
    await page.reload();
    await page.getByTestId('engine-state').filter({ hasText: 'Connected' }).waitFor();
    await select();
    await panel.waitFor({ timeout: 10_000 });
    assert.match((await panel.locator('span').textContent())!, /^Starting the export · \d+ s elapsed$/);
    assert.equal(await page.getByRole('button', { name: 'Exporting…' }).isDisabled(), true, 'no second export of it meanwhile');
    await page.evaluate(() => {
      const w = window as unknown as { seen: Set<string> };
      w.seen = new Set();
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid="export-progress"] span')) w.seen.add(el.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    hold.release();
    await page.getByTestId('exported').filter({ hasText: 'short.speech.test-quarter.16-bit.wav' }).waitFor({ timeout: 30_000 });
    await page.locator('.toast', { hasText: `Exported 2 stems to ${exportDir}` }).waitFor();
    assert.equal(await panel.count(), 0);
    const seen = await page.evaluate(() => [...(window as unknown as { seen: Set<string> }).seen]);
    assert.ok(seen.some((t) => /^(Writing|Checking the written files) \d+%/.test(t)), `progress after the reload: ${seen.join(' | ')}`);
    assert.match((await page.getByRole('link', { name: 'Download short.env.test-quarter.16-bit.wav' }).getAttribute('href'))!, /^\/api\/download\/[0-9a-f-]+\?token=/);
    assert.deepEqual(await shorts(), ['short.env.test-quarter.16-bit.wav', 'short.speech.test-quarter.16-bit.wav']);

    // 2. Reloaded, then cancelled: the engine stops it and no file is written.
    hold.hold();
    await page.getByLabel('Export format').selectOption('wav32f');
    await page.getByRole('button', { name: 'Export all 2 stems' }).click();
    await panel.waitFor();
    await page.reload();
    await page.getByTestId('engine-state').filter({ hasText: 'Connected' }).waitFor();
    await select();
    await panel.getByRole('button', { name: 'Cancel export' }).click();
    await exportsEnded();
    assert.deepEqual(server.engine.jobs().exports, [], 'the engine stopped the export');
    await page.locator('.toast', { hasText: 'Export cancelled: no file was written' }).waitFor({ timeout: 30_000 });
    await panel.waitFor({ state: 'detached' });
    assert.deepEqual((await readdir(exportDir)).filter((f) => f.endsWith('.tmp')), [], 'nothing half-written left');
    assert.deepEqual(await shorts(), ['short.env.test-quarter.16-bit.wav', 'short.speech.test-quarter.16-bit.wav']);

    // 3. It finishes while the page is away: back, its files show under the file.
    await page.getByLabel('Export format').selectOption('wav24');
    await page.getByRole('button', { name: 'Export all 2 stems' }).click();
    await panel.waitFor();
    await page.goto('about:blank');
    hold.release();
    await exportsEnded();
    assert.deepEqual(server.engine.jobs().exports, []);
    await page.goto(server.url);
    await page.getByTestId('engine-state').filter({ hasText: 'Connected' }).waitFor();
    await select();
    await page.getByTestId('exported').filter({ hasText: 'short.speech.test-quarter.24-bit.wav' }).waitFor({ timeout: 10_000 });
    assert.equal(await panel.count(), 0);
    await page.getByRole('link', { name: 'Download short.env.test-quarter.24-bit.wav' }).waitFor();
  } finally {
    hold.restore();
  }

  // Recent: the file, its model, and where its stems went (downloadable), from the engine's list.
  const recent = page.getByTestId('recent').locator('.recent-item', { hasText: 'short.wav' });
  await recent.getByRole('button', { name: 'Open short.wav' }).waitFor();
  assert.match((await recent.locator('.recent-meta').textContent())!, /^Test 0\.25x \(untrained\) · /);
  await recent.locator('summary').click();
  assert.match((await recent.locator('summary').textContent())!, new RegExp(`^Exported 2×, last to ${exportDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  assert.match((await recent.getByRole('link', { name: 'Download short.speech.test-quarter.24-bit.wav' }).getAttribute('href'))!, /^\/api\/download\/[0-9a-f-]+\?token=/);
  await page.screenshot({ path: join(SHOTS, 'review-export-reattached.png') });
});

test('reloading during training reattaches: curves, Pause, Resume and Cancel work', async () => {
  await startTinyRun(page, { name: 'Reattach run', tilt: 'Uniform', steps: 100000 });
  const points = (title: string, n: number) => page.waitForFunction(
    ([t, k]) => Number(document.querySelector(`figure[data-title="${t}"]`)?.getAttribute('data-points')) >= Number(k), [title, n] as const, { timeout: 90_000 },
  );
  // The starting model's validation, before the first step: a point at step 0 for each class.
  await page.locator('figure[data-title="Validation SI-SDRi"] circle[data-step="0"]').nth(1).waitFor({ timeout: 90_000 });
  await points('Training loss', 2);
  await points('Validation SI-SDRi', 1);

  await page.reload();
  await page.getByTestId('engine-state').filter({ hasText: 'Connected' }).waitFor();
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.locator('.status[data-status="running"]').waitFor({ timeout: 10_000 });
  await points('Training loss', 2);
  await points('Validation SI-SDRi', 1);
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.locator('.status[data-status="paused"]').waitFor({ timeout: 30_000 });
  // Reloaded while paused: still paused, Resume offered.
  await page.reload();
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.locator('.status[data-status="paused"]').waitFor({ timeout: 10_000 });
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.locator('.status[data-status="running"]').waitFor({ timeout: 30_000 });
  assert.equal(server.engine.jobs().training?.validations[0]?.step, 0, 'the baseline came back with the reload');
  await page.screenshot({ path: join(SHOTS, 'review-train-reattached.png') });
  // The last checkpoint, not only the best, can separate.
  const last = page.locator('.ckpts li[data-kind="last"]');
  await last.getByRole('button', { name: 'Use for separation' }).click();
  await last.getByRole('button', { name: 'Separating with this checkpoint' }).waitFor();
  await page.getByTestId('active-model').filter({ hasText: 'Reattach run' }).waitFor();
  assert.equal(await page.locator('.ckpts li[data-kind="best"]').getByRole('button').textContent(), 'Use for separation');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.status[data-status="cancelled"]').waitFor({ timeout: 30_000 });
  // Start works again: nothing is left running.
  assert.equal(server.engine.jobs().training, null);

  // In Models the run offers both checkpoints; the one in use is its last, whose card gives its own step.
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.locator('button.model', { hasText: 'Reattach run' }).click();
  const steps = Object.fromEntries((await server.engine.models.get('reattach-run')).checkpoints!.map((c) => [c.kind, c.step]));
  const step = steps.last!;
  await page.getByRole('button', { name: `In use: last (step ${step})` }).waitFor();
  await page.getByRole('button', { name: `Use best (step ${steps.best})` }).waitFor();
  assert.equal(await page.getByTestId('weights-shown').textContent(), `last checkpoint, step ${step}`);
  await page.locator('.card-text', { hasText: `step ${step} of 100000, the run's last checkpoint` }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'review-models-checkpoints.png') });
});

test('a stopped server shows as disconnected; a restarted one with a new token asks for its URL', async () => {
  const own = await startServer({
    port: 0, rendererDir: app.rendererDir,
    engine: { modelsDir: join(root, 'models-b'), settingsFile: join(root, 'settings-b.json'), workDir: join(root, 'work-b'), exportDir: join(root, 'exports-b'), builtinModelsDirs: [] },
  });
  const p = await app.browser.newPage({ viewport: { width: 1024, height: 700 } });
  let restarted: RunningServer | null = null;
  try {
    await p.goto(own.openUrl);
    await p.getByTestId('engine-state').filter({ hasText: 'Connected' }).waitFor({ timeout: 30_000 });
    await own.close();
    await p.locator('[data-testid="connection"][data-state="offline"]').waitFor({ timeout: 15_000 });
    assert.equal(await p.getByTestId('engine-state').textContent(), 'Disconnected');
    await p.screenshot({ path: join(SHOTS, 'review-disconnected.png') });
    // Same port, new token: the old tab is told to open the new URL, not shown a 401 body.
    restarted = await startServer({
      port: own.port, rendererDir: app.rendererDir,
      engine: { modelsDir: join(root, 'models-b'), settingsFile: join(root, 'settings-b.json'), workDir: join(root, 'work-c'), exportDir: join(root, 'exports-b'), builtinModelsDirs: [] },
    });
    await p.locator('[data-testid="connection"][data-state="unauthorized"]').waitFor({ timeout: 15_000 });
    assert.match((await p.getByTestId('connection').textContent())!, /Open the URL that tilt serve printed/);
  } finally {
    await p.close();
    await restarted?.close();
  }
});
