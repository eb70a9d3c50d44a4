// File-system helpers shared across core (and by the apps through it).
import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Whether something exists at `path` (any kind; false also when it cannot be reached). */
export async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** The JSON object in `path`; undefined when the file is missing, unreadable, not JSON or not an object. */
export async function readJsonObject(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(path, 'utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Every file under `dir`, sub-folders too, as sorted paths starting with `dir`. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...await filesUnder(p));
    else if (d.isFile()) out.push(p);
  }
  return out.sort();
}
