// Shared by the app-shell tests: real speech from Debian's asterisk prompts, a saved (untrained)
// 0.25x Sudo rm -rf model folder, and the built renderer.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/server';
import type { Engine } from '../../core/engine/host';
import type { ToWorker } from '../../core/engine/protocol';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../fixtures/test-audio';
import { speechDir } from '../core/separate/fixtures';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where the browser tests leave their screenshots. */
export const SHOTS = join(ROOT, 'test-results', 'e2e');

/** A real recorded speech prompt (8 kHz mono WAV), fetched once with apt-get download. */
export function realSpeechWav(name = 'privacy-prompt.wav'): string {
  return join(speechDir(), name);
}

/** A models folder holding one saved 0.25x model whose stems are named speech and env. */
export async function modelsDirWithTestModel(): Promise<{ root: string; modelsDir: string }> {
  const { initBackend } = await import('../../core/backend');
  const { createSudoRmRf, PRESETS } = await import('../../core/models/sudormrf');
  const { saveModel } = await import('../../core/models/io');
  await initBackend();
  const root = await mkdtemp(join(tmpdir(), 'tilt-test-'));
  const modelsDir = join(root, 'models');
  const model = createSudoRmRf(PRESETS['0.25x'], 7);
  try {
    await saveModel(model, join(modelsDir, 'test-quarter'), { name: 'Test 0.25x (untrained)', preset: '0.25x', stems: ['speech', 'env'], sampleRate: 8000 });
  } finally {
    model.dispose();
  }
  return { root, modelsDir };
}

/** The renderer built as `npm run build:renderer` builds it, into `outDir`: test files run side by side, each with its own. */
export async function buildRenderer(outDir: string): Promise<string> {
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'vite.renderer.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'];

/** Parses a PCM/float WAV header: what the export tests check. */
export function wavInfo(bytes: Buffer): { format: number; channels: number; sampleRate: number; bitsPerSample: number; frames: number } {
  if (bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  let off = 12;
  let fmt: { format: number; channels: number; sampleRate: number; bitsPerSample: number } | null = null;
  while (off + 8 <= bytes.length) {
    const id = bytes.toString('ascii', off, off + 4);
    const size = bytes.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      fmt = { format: bytes.readUInt16LE(off + 8), channels: bytes.readUInt16LE(off + 10), sampleRate: bytes.readUInt32LE(off + 12), bitsPerSample: bytes.readUInt16LE(off + 22) };
    } else if (id === 'data') {
      if (!fmt) throw new Error('data before fmt');
      return { ...fmt, frames: size / (fmt.channels * (fmt.bitsPerSample / 8)) };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}

/** Saves a tiny Sudo rm -rf (one U-ConvBlock, few channels) to `dir`: fast enough to fine-tune in a test. */
export async function saveTinyModel(dir: string, name = 'Tiny base'): Promise<void> {
  const { initBackend } = await import('../../core/backend');
  const { createSudoRmRf, PRESETS } = await import('../../core/models/sudormrf');
  const { saveModel } = await import('../../core/models/io');
  await initBackend();
  const model = createSudoRmRf({ ...PRESETS['0.25x'], nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 }, 3);
  try {
    await saveModel(model, dir, { name, preset: '0.25x', stems: ['speech', 'env'], sampleRate: 8000 });
  } finally {
    model.dispose();
  }
}

export interface AppUnderTest {
  server: RunningServer;
  browser: Browser;
  page: Page;
  /** Temporary folder of the server's models, settings, work and exports. */
  root: string;
  rendererDir: string;
  close(): Promise<void>;
}

/**
 * `tilt serve` on a free port with the test model and a tiny base model, training on the CI corpus
 * with two validation mixtures, and Chromium with one page open on it.
 */
export async function startAppUnderTest(): Promise<AppUnderTest> {
  const m = await modelsDirWithTestModel();
  const rendererDir = await buildRenderer(join(m.root, 'renderer'));
  await saveTinyModel(join(m.modelsDir, 'tiny-base'), 'Tiny base');
  await ensureTestAudio();
  const server = await startServer({
    port: 0,
    rendererDir,
    engine: {
      modelsDir: m.modelsDir, settingsFile: join(m.root, 'settings.json'), workDir: join(m.root, 'work'), exportDir: join(m.root, 'exports'), builtinModelsDirs: [],
      training: { corpus: 'ci', cacheDir: TEST_AUDIO_DIR, validation: { mixtures: 2, batchSize: 2 } },
    },
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1360, height: 860 } })).newPage();
  return {
    server, browser, page, root: m.root, rendererDir,
    async close() {
      await browser.close();
      await server.close();
      await rm(m.root, { recursive: true, force: true });
    },
  };
}

/** Starts a fine-tune of the tiny base model from the Train view: batch 2, half-second segments. */
export async function startTinyRun(page: Page, o: { name: string; tilt: string; steps: number; validateEvery?: number }): Promise<void> {
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByLabel('Model to fine-tune').selectOption('tiny-base');
  await page.getByLabel('New model name').fill(o.name);
  await page.getByRole('button', { name: o.tilt }).click();
  await page.getByLabel('Steps', { exact: true }).fill(String(o.steps));
  await page.getByLabel('Batch size', { exact: true }).fill('2');
  await page.getByLabel('Segment (s)', { exact: true }).fill('0.5');
  await page.getByLabel('Validate every', { exact: true }).fill(String(o.validateEvery ?? 2));
  await page.getByRole('button', { name: 'Start training' }).click();
}

/**
 * Holds the engine's exports before its worker gets them, however short the file, so that a test can
 * reload the page while one is going: the export is under way in the engine (jobs:list lists it,
 * job:cancel takes it) and waits for `release()`. A cancel meanwhile first lets the held export go, in
 * the order the worker would have had them, so that the worker's own cancel stops it.
 */
export function holdExports(engine: Engine): { hold(): void; release(): void; restore(): void } {
  const host = engine as unknown as { post(m: ToWorker): void };
  const post = host.post.bind(engine);
  const held: ToWorker[] = [];
  let holding = true;
  const flush = (jobId?: string) => {
    for (const m of held.splice(0)) {
      if (jobId === undefined || (m.type === 'request' && m.op === 'export' && m.req.jobId === jobId)) post(m);
      else held.push(m);
    }
  };
  host.post = (m) => {
    if (holding && m.type === 'request' && m.op === 'export') held.push(m);
    else {
      if (m.type === 'cancel') flush(m.jobId);
      post(m);
    }
  };
  return {
    hold: () => void (holding = true),
    release() {
      holding = false;
      flush();
    },
    restore() {
      this.release();
      delete (host as { post?: unknown }).post;
    },
  };
}
