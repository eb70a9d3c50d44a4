// Where Tilt keeps the user's models and settings: one place shared by the app, the CLI and serve
// mode, so a model trained in one shows up in the others. TILT_HOME overrides it.
import { readdir, lstat, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function dataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.TILT_HOME) return resolve(env.TILT_HOME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Tilt');
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Tilt');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'tilt');
}

const WORK_DIR = /^tilt-(\d+)-[0-9a-z]+$/;

/** The engine's folders under a data dir; scratch space is per process. */
export function engineDirs(root = dataDir()) {
  return {
    modelsDir: join(root, 'models'),
    settingsFile: join(root, 'settings.json'),
    exportDir: join(root, 'exports'),
    workDir: join(tmpdir(), `tilt-${process.pid}-${Date.now().toString(36)}`),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the scratch folders beside `workDir` (named as engineDirs names them) of processes that
 * are gone: a crash skips an engine's clean-up, and these hold the user's uploads and stems.
 */
export async function removeStaleWorkDirs(workDir: string): Promise<void> {
  if (!WORK_DIR.test(basename(workDir))) return;
  const parent = dirname(workDir);
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const pid = Number(WORK_DIR.exec(name)?.[1]);
    const path = join(parent, name);
    if (!pid || path === workDir || alive(pid)) continue;
    const st = await lstat(path).catch(() => null);
    if (!st?.isDirectory() || st.uid !== process.getuid?.()) continue;
    await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Models shipped in the repository / app bundle. */
export const BUILTIN_MODELS_DIR = fileURLToPath(new URL('../../assets/models', import.meta.url));
