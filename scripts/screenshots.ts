// Screenshots of each view at 1024x700 and 1920x1080 for docs/screenshots: the real renderer in
// Chromium against `tilt serve` with the shipped model, a real 44.1 kHz stereo recording and a short
// live fine-tune. Run: node --import tsx scripts/screenshots.ts (after npm run build:renderer).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../server/server';
import { BUILTIN_MODELS_DIR } from '../core/engine/paths';
import { readAudioFile, resample, writeAudioFile } from '../core/io/audio';
import { CHROMIUM, CHROMIUM_ARGS, realSpeechWav, ROOT, saveTinyModel, startTinyRun } from '../tests/e2e/fixtures';
import { ensureTestAudio, pkgFile, TEST_AUDIO_DIR } from '../tests/fixtures/test-audio';

const OUT = join(ROOT, 'docs', 'screenshots');
const SIZES = [{ width: 1024, height: 700 }, { width: 1920, height: 1080 }];

const root = await mkdtemp(join(tmpdir(), 'tilt-shots-'));
await ensureTestAudio();
await saveTinyModel(join(root, 'models', 'tiny-base'), 'Tiny base');
const speech = await resample((await readAudioFile(realSpeechWav())).channels[0]!, 8000, 44100, 'fast');
const fire = (await readAudioFile(pkgFile('minetest-data', 'usr/share/games/minetest/games/minetest_game/mods/fire/sounds/fire_large.ogg'))).channels[0]!;
const n = 12 * 44100;
const file = join(root, 'street-interview.wav');
await writeAudioFile(file, [0.3, 0.8].map((g) => Float32Array.from({ length: n }, (_, t) => g * speech[t % speech.length]! + (1.1 - g) * 0.5 * fire[t % fire.length]!)), 44100, 'wav16');

const server = await startServer({
  port: 0,
  engine: {
    modelsDir: join(root, 'models'), settingsFile: join(root, 'settings.json'), workDir: join(root, 'work'), exportDir: join(root, 'exports'),
    builtinModelsDirs: [BUILTIN_MODELS_DIR], training: { corpus: 'ci', cacheDir: TEST_AUDIO_DIR, validation: { mixtures: 2, batchSize: 2 } },
  },
});
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: SIZES[1]! });
  await page.goto(server.openUrl);
  await page.getByTestId('engine-state').filter({ hasText: 'Connected' }).waitFor({ timeout: 30_000 });
  await page.getByTestId('file-input').setInputFiles(file);
  await page.locator('section.player[data-ready="true"]').waitFor({ timeout: 180_000 });
  await page.getByRole('radio', { name: 'Both stems' }).click();
  await page.getByLabel('Environmental sound level').fill('-6');
  await page.getByRole('button', { name: 'Spectrogram of Speech' }).click();
  await page.locator('.wave[data-spectrogram="on"]').waitFor({ timeout: 60_000 });
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(OUT, `separate-${size.width}x${size.height}.png`) });
  }

  await startTinyRun(page, { name: 'Speech tilt', tilt: 'Toward speech', steps: 400, validateEvery: 10 });
  await page.waitForFunction(() => Number(document.querySelector('figure[data-title="Validation SI-SDRi"]')?.getAttribute('data-points')) >= 6, null, { timeout: 300_000 });
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(OUT, `train-${size.width}x${size.height}.png`) });
  }
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.status[data-status="cancelled"]').waitFor({ timeout: 60_000 });

  await page.getByRole('tab', { name: 'Models' }).click();
  await page.locator('button.model', { hasText: 'Built-in' }).first().click();
  await page.locator('.card-text h3, .card-text h4').first().waitFor();
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(OUT, `models-${size.width}x${size.height}.png`) });
  }
  await page.setViewportSize(SIZES[1]!);
  await page.getByRole('tab', { name: 'Separate' }).click();
  await page.locator('section.player[data-ready="true"]').waitFor({ timeout: 60_000 });
  await page.setViewportSize({ width: 1360, height: 860 });
  await page.waitForTimeout(600);
  await page.screenshot({ path: join(OUT, 'separate.png') });
} finally {
  await browser.close();
  await server.close();
  await rm(root, { recursive: true, force: true });
}
