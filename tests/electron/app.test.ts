// The desktop app through Playwright's Electron driver. It needs the Electron binary, which cannot be
// downloaded here (ELECTRON_SKIP_BINARY_DOWNLOAD): then the test is skipped and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron } from 'playwright-core';
import { ROOT } from '../e2e/fixtures';

function electronBinary(): { path?: string; reason?: string } {
  try {
    return { path: createRequire(import.meta.url)('electron') as string };
  } catch (e) {
    return { reason: `Electron binary not installed (${(e as Error).message.split('\n')[0]}); install without ELECTRON_SKIP_BINARY_DOWNLOAD to run it` };
  }
}

test('the desktop window loads the app with the secure preload API and refuses navigation', async (t) => {
  const bin = electronBinary();
  if (!bin.path) {
    t.skip(bin.reason);
    return;
  }
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'start.mjs'), '--build-only'], { cwd: ROOT, stdio: 'pipe' });
  const home = await mkdtemp(join(tmpdir(), 'tilt-electron-'));
  const app = await _electron.launch({ executablePath: bin.path, args: [ROOT], env: { ...process.env, TILT_HOME: home } });
  try {
    const win = await app.firstWindow();
    await win.getByRole('tab', { name: 'Separate' }).waitFor();
    assert.equal(await win.evaluate(() => typeof (window as unknown as { require?: unknown }).require), 'undefined', 'no Node in the renderer');
    assert.deepEqual(await win.evaluate(() => Object.keys((window as unknown as { tilt: object }).tilt).sort()), ['invoke', 'mediaUrl', 'on', 'pathForFile', 'reveal', 'stemDrag']);
    const unknown = await win.evaluate(() => (window as unknown as { tilt: { invoke(c: string, a: object): Promise<{ ok: boolean; error?: { code: string } }> } }).tilt.invoke('app:exit', {}));
    assert.deepEqual(unknown, { ok: false, error: { message: 'Unknown channel app:exit', code: 'not-found' } }, 'the preload forwards contract channels only');
    const before = win.url();
    await win.evaluate(() => (location.href = 'https://example.com/'));
    await win.waitForTimeout(300);
    assert.equal(win.url(), before, 'navigation away is blocked');
    await mkdir(join(ROOT, 'test-results', 'electron'), { recursive: true });
    await win.screenshot({ path: join(ROOT, 'test-results', 'electron', 'window.png') });
  } finally {
    await app.close();
    await rm(home, { recursive: true, force: true });
  }
});
