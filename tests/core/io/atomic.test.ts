// Every write that fails (here: a file-size limit, which fails writes part-way as a full disk does)
// removes its temporary files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every file and folder under `dir`, as paths relative to it. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = join(prefix, e.name);
    return e.isDirectory() ? [rel, ...tree(dir, rel)] : [rel];
  });
}

test('writes that fail part-way (a full disk) leave no temporary files behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tilt-full-'));
  try {
    await mkdir(join(dir, 'model'));
    await writeFile(join(dir, 'model', 'keep.txt'), 'there before');
    const child = join(import.meta.dirname, 'fullDisk.ts');
    // 64 KiB: every write below is larger.
    const r = spawnSync('bash', ['-c', 'ulimit -f 64 && exec "$0" --import tsx "$1" "$2"', process.execPath, child, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const errors = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, string | null>;
    for (const [write, error] of Object.entries(errors)) assert.equal(error, 'EFBIG', `${write} should fail with EFBIG`);
    assert.deepEqual(tree(dir).sort(), ['model', join('model', 'keep.txt')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
