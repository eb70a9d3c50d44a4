// Files that appear whole or not at all: written to a hidden temporary file beside the target, then
// renamed over it. A failed write (a full disk, a rename refused) removes its temporary file, so
// failures leave nothing behind.
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `data` to a new hidden file next to `path` and returns its name; removes it again if the write fails. */
export async function writeTempFile(path: string, data: string | Uint8Array): Promise<string> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { flag: 'wx' });
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return tmp;
}

/** Replaces (or creates) `path` with `data` in one rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = await writeTempFile(path, data);
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}
