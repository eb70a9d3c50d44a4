// File-system helpers shared across core (and by the apps through it).
import { access, readFile } from 'node:fs/promises';

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
