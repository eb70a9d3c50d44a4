import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipFolder } from '../../../core/io/zip';
import { ZipReader } from '../../../core/data/containers/zip';

test('a folder zipped under its name: every file, sub-folders too, read back byte for byte by a zip reader and by unzip', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tilt-zip-'));
  try {
    const dir = join(root, 'my-model');
    await mkdir(join(dir, 'sub'), { recursive: true });
    const files: Record<string, Buffer> = {
      'model.json': Buffer.from(JSON.stringify({ metadata: { name: 'Mine' }, padding: 'x'.repeat(5000) })),
      // Random bytes do not deflate: stored.
      'weights.bin': randomBytes(300_000),
      'sub/MODEL_CARD.md': Buffer.from('# Mine — ünïcode\n'),
      'empty.txt': Buffer.alloc(0),
    };
    for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
    const zipPath = join(root, 'my-model.zip');
    await writeFile(zipPath, await zipFolder(dir, 'my-model'));

    const reader = await ZipReader.open(zipPath);
    const names = reader.entries.map((e) => e.name);
    assert.deepEqual(names, ['my-model/empty.txt', 'my-model/model.json', 'my-model/sub/MODEL_CARD.md', 'my-model/weights.bin']);
    for (const e of reader.entries) assert.deepEqual(Buffer.from(await reader.read(e)), files[e.name.slice('my-model/'.length)], e.name);
    assert.equal(reader.entries.find((e) => e.name.endsWith('model.json'))!.method, 8, 'JSON is deflated');
    assert.equal(reader.entries.find((e) => e.name.endsWith('weights.bin'))!.method, 0, 'random bytes are stored');
    await reader.close();

    // The system's unzip agrees (CRCs, names, sizes), and so does what it extracts.
    execFileSync('unzip', ['-tq', zipPath]);
    execFileSync('unzip', ['-q', zipPath, '-d', join(root, 'out')]);
    assert.deepEqual(await readFile(join(root, 'out', 'my-model', 'weights.bin')), files['weights.bin']);
    assert.equal(await readFile(join(root, 'out', 'my-model', 'sub', 'MODEL_CARD.md'), 'utf8'), '# Mine — ünïcode\n');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
