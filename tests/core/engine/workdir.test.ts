// The engine's scratch folder holds the user's uploads and stems: private to the user, and not
// left behind in the temp folder by a process that crashed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../../core/engine/host';

test('the scratch folder is mode 0700, and scratch folders of processes that are gone are removed', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'tilt-scratch-'));
  try {
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale = join(parent, `tilt-${deadPid}-crashed`);
    await mkdir(join(stale, 'uploads', 'x'), { recursive: true });
    await writeFile(join(stale, 'uploads', 'x', 'private.wav'), 'RIFF');
    const running = join(parent, `tilt-${process.ppid}-running`);
    const unrelated = join(parent, 'tilt-notes');
    await mkdir(running);
    await mkdir(unrelated);

    const workDir = join(parent, `tilt-${process.pid}-${Date.now().toString(36)}`);
    const engine = new Engine({ modelsDir: join(parent, 'models'), settingsFile: join(parent, 'settings.json'), workDir, exportDir: join(parent, 'exports'), builtinModelsDirs: [] });
    try {
      for (const dir of [workDir, join(workDir, 'uploads'), join(workDir, 'results')]) assert.equal((await stat(dir)).mode & 0o777, 0o700, dir);
      const { ref, path } = await engine.createUpload('take.wav');
      assert.equal((await stat(join(path, '..'))).mode & 0o777, 0o700);
      assert.equal(ref.name, 'take.wav');
      for (let i = 0; i < 50 && existsSync(stale); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(existsSync(stale), false, 'the dead process\'s scratch folder is removed');
      assert.ok(existsSync(running) && existsSync(unrelated), 'a live process\'s folder and other folders stay');
      await assert.rejects(engine.createUpload('..'), /is not a file name/);
    } finally {
      await engine.close();
    }
    assert.equal(existsSync(workDir), false);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});
