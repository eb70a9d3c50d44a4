// The desktop build's worker threads as they ship: electron/vite.config.ts builds dist/electron into a
// scratch folder laid out like the packaged app (package.json and node_modules beside it), and plain
// node, without tsx, fine-tunes a model through the built train-worker.js (with and without gradient
// helpers) and separates with it through the built engine-worker.js.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { realSpeechWav, ROOT, saveTinyModel, wavInfo } from '../e2e/fixtures';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../fixtures/test-audio';
import type { DriverArgs, DriverResult } from './packaged-engine';
import type { EngineEvent } from '../../core/engine/types';

let app: string;
const built = () => join(app, 'dist', 'electron');

before(async () => {
  app = await mkdtemp(join(tmpdir(), 'tilt-app-'));
  await copyFile(join(ROOT, 'package.json'), join(app, 'package.json'));
  await symlink(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
  const { build } = await import('vite');
  // The app's own build config, as scripts/start.mjs runs it, into the scratch folder instead of dist/.
  await build({ configFile: join(ROOT, 'electron', 'vite.config.ts'), mode: 'main', logLevel: 'error', build: { outDir: built() } });
  await build({
    configFile: false, logLevel: 'error',
    build: { ssr: join(ROOT, 'tests', 'electron', 'packaged-engine.ts'), outDir: join(app, 'driver'), emptyOutDir: true, target: 'node20' },
  });
});

after(async () => {
  if (app) await rm(app, { recursive: true, force: true });
});

async function jsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.js')).map((e) => join(e.parentPath, e.name));
}

test('the built main process and workers load only Node builtins, electron, their own chunks and packaged dependencies', async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: object; optionalDependencies: object };
  // electron-builder packs the production dependencies into the app's node_modules.
  const packaged = new Set(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }));
  const files = await jsFiles(built());
  assert.deepEqual(files.filter((f) => dirname(f) === built()).map((f) => f.slice(built().length + 1)).sort(), ['engine-worker.js', 'main.js', 'train-worker.js']);
  let bare = 0;
  for (const file of files) {
    const code = await readFile(file, 'utf8');
    const specifiers = [...code.matchAll(/^(?:import|export)\b[^;"']*?\bfrom\s*"([^"]+)"|^import\s*"([^"]+)"|\b(?:import|require)\(\s*"([^"]+)"\s*\)/gm)]
      .map((m) => (m[1] ?? m[2] ?? m[3])!);
    for (const s of specifiers) {
      if (s.startsWith('.')) {
        assert.ok(existsSync(resolve(dirname(file), s)), `${file} imports ${s}, which the build did not write`);
        continue;
      }
      const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
      assert.ok(s.startsWith('node:') || builtinModules.includes(name) || name === 'electron' || packaged.has(name), `${file} imports ${s}: not a packaged dependency`);
      if (!s.startsWith('node:') && !builtinModules.includes(name)) bare++;
    }
  }
  assert.ok(bare > 0, 'the dependencies stay external (they are imported by name)');
  const main = await readFile(join(built(), 'main.js'), 'utf8');
  assert.match(main, /new URL\("\.\/engine-worker\.js", import\.meta\.url\)/);
  assert.match(main, /new URL\("\.\/train-worker\.js", import\.meta\.url\)/);
});

test('plain node fine-tunes through the built training worker, over 1 and 2 gradient workers alike, and separates with the new model through the built engine worker', async () => {
  await ensureTestAudio();
  const root = join(app, 'engine');
  await saveTinyModel(join(root, 'models', 'tiny'));
  const wav = realSpeechWav();
  const args: DriverArgs = { workersDir: built(), root, corpusCacheDir: TEST_AUDIO_DIR, audioFile: wav, resultFile: join(app, 'result.json') };
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  await promisify(execFile)(process.execPath, [join(app, 'driver', 'packaged-engine.js'), JSON.stringify(args)], { cwd: app, env, maxBuffer: 1 << 24 })
    .catch((e: { stderr?: string; message: string }) => assert.fail(`the bundled engine failed: ${e.stderr || e.message}`));
  const { events, exported, byWorkers } = JSON.parse(await readFile(args.resultFile, 'utf8')) as DriverResult;
  const of = <T extends EngineEvent['type']>(type: T) => events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);

  const steps = of('train-step');
  assert.equal(steps.at(-1)?.step, 2);
  for (const s of steps) {
    // Per-source class bias, computed in the worker: gamma(speech) = 3 puts e^3 / (e^3 + 1) of the mass on speech.
    assert.ok(Number.isFinite(s.loss) && s.weights && s.weights.units === 4, JSON.stringify(s));
    assert.ok(Math.abs((s.weights.classMass.speech ?? 0) - Math.exp(3) / (Math.exp(3) + 1)) < 1e-4);
  }
  const validations = of('train-validation');
  // The starting model is scored first (step 0), then the run's own validation.
  assert.deepEqual(validations.map((v) => v.step), [0, 2]);
  const validation = validations[1]!;
  assert.ok(Number.isFinite(validations[0]!.metrics.mean) && Number.isFinite(validation.metrics.mean));
  const [done] = of('train-done');
  assert.equal(done?.modelId, 'bundled-tilt');
  const best = done.checkpoints.find((c) => c.kind === 'best');
  assert.equal(best?.step, 2);
  // Tilted toward speech: best is judged by the speech sources' validation SI-SDRi.
  assert.equal(best.valSiSdri, validation.metrics.perClass.speech);
  assert.ok(existsSync(join(best.dir, 'model.json')) && existsSync(join(best.dir, 'weights.bin')), `checkpoint on disk in ${best.dir}`);

  const [separated] = of('separate-done');
  const input = wavInfo(await readFile(wav));
  assert.equal(separated?.result.model.id, 'bundled-tilt', 'separated with the model just trained');
  assert.deepEqual(separated.result.tracks.map((t) => t.id), ['mixture', 'speech', 'env']);
  assert.ok(Math.abs(separated.result.durationSec - input.frames / input.sampleRate) < 1e-9);
  assert.deepEqual(exported.files.map((f) => f.stem).sort(), ['env', 'speech']);
  for (const f of exported.files) {
    const out = wavInfo(await readFile(f.path));
    assert.equal(out.sampleRate, input.sampleRate);
    assert.equal(out.frames, input.frames, `${f.fileName} is as long as the input`);
  }

  // The built training worker starts its gradient helpers from itself; the run matches one worker's.
  const runs = ([1, 2] as const).map((n) => {
    const messages = byWorkers[n];
    const started = messages.find((m) => m.type === 'started');
    const last = messages.filter((m) => m.type === 'progress').at(-1);
    const done = messages.find((m) => m.type === 'done');
    assert.ok(started?.type === 'started' && last?.type === 'progress' && done?.type === 'done', JSON.stringify(messages));
    assert.equal(started.workers, n);
    assert.equal(done.outcome, 'finished');
    return { loss: last.progress.loss, siSdri: done.best!.siSdri };
  });
  assert.ok(Math.abs(runs[0]!.loss - runs[1]!.loss) <= 1e-5 * Math.abs(runs[0]!.loss), `last step loss ${runs[0]!.loss} vs ${runs[1]!.loss}`);
  assert.ok(Math.abs(runs[0]!.siSdri - runs[1]!.siSdri) < 1e-3, `validation SI-SDRi ${runs[0]!.siSdri} vs ${runs[1]!.siSdri}`);
});
