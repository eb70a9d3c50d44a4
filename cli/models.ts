import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelStore } from '../core/engine/models';
import { BUILTIN_MODELS_DIR, engineDirs } from '../core/engine/paths';
import type { ModelInfo } from '../core/engine/types';

/** The same models folder the app and serve mode use. */
export function modelStore(): ModelStore {
  const { modelsDir, settingsFile } = engineDirs();
  return new ModelStore({ userDir: modelsDir, builtinDirs: [BUILTIN_MODELS_DIR], settingsFile });
}

/** A model folder path, a model id from the store, or (no argument) the active / shipped default model. */
export async function resolveModel(arg: string | undefined): Promise<{ dir: string; label: string; info?: ModelInfo }> {
  if (arg && existsSync(join(resolve(arg), 'model.json'))) return { dir: resolve(arg), label: arg };
  const store = modelStore();
  const info = arg ? await store.get(arg) : await store.active();
  return { dir: info.dir, label: `${info.name} (${info.id})`, info };
}
