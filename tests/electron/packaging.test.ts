// electron-builder.yml checked offline by electron-builder's own schema, plus what Tilt needs from
// it; and the desktop bundles built the way `npm start` / `npm run dist` build them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../e2e/fixtures';

test('electron-builder.yml passes electron-builder schema validation and packages what Tilt needs', async () => {
  const { getConfig, validateConfiguration } = await import('app-builder-lib/out/util/config/config.js' as string) as {
    getConfig(dir: string, file: string, opts: null): Promise<Record<string, unknown>>;
    validateConfiguration(c: unknown, log: unknown): Promise<void>;
  };
  const { DebugLogger } = await import('builder-util' as string) as { DebugLogger: new (enabled: boolean) => unknown };
  const cfg = await getConfig(ROOT, 'electron-builder.yml', null) as {
    linux: { target: string[] }; mac: { target: string[] }; win: { target: string[] }; asarUnpack: string[];
    extraResources: { from: string; to: string }[]; files: { filter: string[] }[]; electronFuses: Record<string, boolean>;
  };
  await validateConfiguration(cfg, new DebugLogger(false));
  await assert.rejects(validateConfiguration({ ...cfg, linux: { ...cfg.linux, nonsense: true } }, new DebugLogger(false)), /linux/, 'the validator does reject bad configs');
  assert.deepEqual(cfg.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(cfg.mac.target, ['dmg']);
  assert.deepEqual(cfg.win.target, ['nsis']);
  assert.ok(cfg.asarUnpack.includes('node_modules/@tensorflow/tfjs-node/**'));
  assert.ok(cfg.extraResources.some((r) => r.from === 'assets/models' && r.to === 'assets/models'));
  // The packaged binary cannot be run as plain Node or inspected to act with the app's identity.
  assert.deepEqual(cfg.electronFuses, {
    runAsNode: false, enableNodeOptionsEnvironmentVariable: false, enableNodeCliInspectArguments: false, enableCookieEncryption: true,
    enableEmbeddedAsarIntegrityValidation: true, onlyLoadAppFromAsar: true, grantFileProtocolExtraPrivileges: false,
  });
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string> };
  const patterns = cfg.files.flatMap((f) => f.filter);
  assert.ok(patterns.some((f) => pkg.main.startsWith(f.replace('/**', ''))), `files include ${pkg.main}`);
  assert.ok(patterns.includes('dist/renderer/**'));
  assert.match(pkg.scripts.dist!, /electron-builder --config electron-builder.yml/);
});

test('the desktop build: main and worker as ESM, a self-contained preload that requires only electron', async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'start.mjs'), '--build-only'], { cwd: ROOT, stdio: 'pipe' });
  const preload = await readFile(join(ROOT, 'dist', 'electron', 'preload.cjs'), 'utf8');
  const requires = [...preload.matchAll(/require\((["'])([^"']+)\1\)/g)].map((m) => m[2]);
  assert.deepEqual([...new Set(requires)], ['electron'], 'a sandboxed preload can load nothing else');
  assert.match(preload, /exposeInMainWorld\("tilt"/);
  const main = await readFile(join(ROOT, 'dist', 'electron', 'main.js'), 'utf8');
  for (const must of ['contextIsolation: true', 'sandbox: true', 'nodeIntegration: false', 'setWindowOpenHandler', 'will-navigate', 'registerSchemesAsPrivileged']) {
    assert.ok(main.includes(must), `main.js has ${must}`);
  }
  const html = await readFile(join(ROOT, 'dist', 'renderer', 'index.html'), 'utf8');
  assert.match(html, /http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self';/);
  assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline scripts');
});
