import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exists, filesUnder, readJsonObject } from '../../../core/io/fs';

test('exists tells files and folders from missing paths', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tilt-fs-'));
  try {
    await writeFile(join(dir, 'a.json'), '{"x": 1}');
    assert.deepEqual(await Promise.all([dir, join(dir, 'a.json'), join(dir, 'nope')].map(exists)), [true, true, false]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readJsonObject gives the object, or undefined for anything that is not one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tilt-fs-'));
  try {
    const files = { 'obj.json': '{"x": 1}', 'list.json': '[1]', 'null.json': 'null', 'bad.json': '{x', 'num.json': '3' };
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    assert.deepEqual(await readJsonObject(join(dir, 'obj.json')), { x: 1 });
    for (const name of ['list.json', 'null.json', 'bad.json', 'num.json', 'missing.json']) assert.equal(await readJsonObject(join(dir, name)), undefined, name);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('filesUnder lists every file below a folder, sub-folders too, sorted, and no folders', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tilt-fs-'));
  try {
    await mkdir(join(dir, 'b', 'c'), { recursive: true });
    await mkdir(join(dir, 'empty'));
    for (const f of ['z.wav', 'b/c/x.ogg', 'b/a.txt']) await writeFile(join(dir, f), '');
    assert.deepEqual(await filesUnder(dir), ['b/a.txt', 'b/c/x.ogg', 'z.wav'].map((f) => join(dir, f)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
