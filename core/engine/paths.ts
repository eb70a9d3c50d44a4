// Where Tilt keeps the user's models and settings: one place shared by the app, the CLI and serve
// mode, so a model trained in one shows up in the others. TILT_HOME overrides it.
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function dataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.TILT_HOME) return resolve(env.TILT_HOME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Tilt');
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Tilt');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'tilt');
}

/** The engine's folders under a data dir; scratch space is per process. */
export function engineDirs(root = dataDir()) {
  return {
    modelsDir: join(root, 'models'),
    settingsFile: join(root, 'settings.json'),
    exportDir: join(root, 'exports'),
    workDir: join(tmpdir(), `tilt-${process.pid}-${Date.now().toString(36)}`),
  };
}

/** Models shipped in the repository / app bundle. */
export const BUILTIN_MODELS_DIR = fileURLToPath(new URL('../../assets/models', import.meta.url));
