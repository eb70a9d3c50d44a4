// The models folder: the user's models (writable) plus the ones shipped with the app (read-only).
// A model is a folder as core/models/io saves it (model.json + weights.bin). The app's own edits
// (display name after a rename) go in `tilt-model.json` beside it, never into model.json; a markdown
// model card may sit in MODEL_CARD.md / README.md.
import { cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { EngineError } from './errors';
import type { ModelInfo } from './types';

export const META_FILE = 'tilt-model.json';
const CARD_FILES = ['MODEL_CARD.md', 'README.md', 'card.md'];
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ModelMeta {
  name?: string;
  createdAt?: string;
  baseModelId?: string;
  metrics?: Record<string, number>;
}

interface StoreFiles {
  /** The user's models. */
  userDir: string;
  /** Shipped models (read-only), e.g. assets/models. */
  builtinDirs: string[];
  /** JSON file holding the active model id. */
  settingsFile: string;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

async function readJson(p: string): Promise<Record<string, unknown> | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(p, 'utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a JSON file atomically so a crash never leaves half a JSON. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** A folder is a model when core/models could load it: it has the `model.json` saveModel writes. */
export async function isModelDir(dir: string): Promise<boolean> {
  return exists(join(dir, 'model.json'));
}

/**
 * The folder holding the weights of a model entry: the entry itself, or for a training run (a
 * folder of `best` / `last` checkpoints) its best checkpoint, else its last one. Undefined when
 * the folder holds no model (yet).
 */
export async function modelDirOf(dir: string): Promise<string | undefined> {
  for (const d of [dir, join(dir, 'best'), join(dir, 'last')]) if (await isModelDir(d)) return d;
  return undefined;
}

function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-._]+|[-._]+$/g, '').slice(0, 48);
  return s || 'model';
}

export class ModelStore {
  constructor(private readonly files: StoreFiles) {}

  get userDir(): string {
    return this.files.userDir;
  }

  async list(): Promise<ModelInfo[]> {
    const active = await this.activeId();
    const found: ModelInfo[] = [];
    const seen = new Set<string>();
    const roots = [...this.files.builtinDirs.map((d) => ({ d, builtin: true })), { d: this.files.userDir, builtin: false }];
    for (const { d, builtin } of roots) {
      const names = await readdir(d).catch(() => [] as string[]);
      for (const id of names.sort()) {
        if (!ID_RE.test(id) || seen.has(id)) continue;
        const root = join(d, id);
        const dir = await modelDirOf(root);
        if (!dir) continue;
        seen.add(id);
        found.push(await this.describe(id, root, dir, builtin));
      }
    }
    const activeId = active && seen.has(active) ? active : found[0]?.id;
    return found.map((m) => ({ ...m, active: m.id === activeId }));
  }

  async get(id: string): Promise<ModelInfo> {
    const m = (await this.list()).find((x) => x.id === id);
    if (!m) throw new EngineError(`No model named "${id}" in the models folder`, 'not-found');
    return m;
  }

  async active(): Promise<ModelInfo> {
    const m = (await this.list()).find((x) => x.active);
    if (!m) {
      throw new EngineError(`No model installed yet: import a model folder in Models, or train one (models folder: ${this.files.userDir})`, 'no-model');
    }
    return m;
  }

  async activate(id: string): Promise<ModelInfo> {
    await this.get(id);
    const settings = (await readJson(this.files.settingsFile)) ?? {};
    await mkdir(resolve(this.files.settingsFile, '..'), { recursive: true });
    await writeJsonAtomic(this.files.settingsFile, { ...settings, activeModelId: id });
    return this.get(id);
  }

  /**
   * Records the model in use as the active one when none was chosen (the first listed stands in):
   * adding a model, e.g. by training, must not change which model separates.
   */
  async pinActive(): Promise<void> {
    const list = await this.list();
    const chosen = await this.activeId();
    const current = list.find((m) => m.active);
    if (current && current.id !== chosen) await this.activate(current.id);
  }

  async rename(id: string, name: string): Promise<ModelInfo> {
    const root = await this.writable(id);
    const meta = (await readJson(join(root, META_FILE))) ?? {};
    await writeJsonAtomic(join(root, META_FILE), { ...meta, name });
    return this.get(id);
  }

  /** Whether the user's models folder holds a usable model under `id`. */
  async has(id: string): Promise<boolean> {
    return ID_RE.test(id) && (await modelDirOf(join(this.files.userDir, id))) !== undefined;
  }

  /** Merges fields into a user model's app metadata (tilt-model.json). */
  async setMeta(id: string, patch: ModelMeta): Promise<void> {
    const root = await this.writable(id);
    const meta = (await readJson(join(root, META_FILE))) ?? {};
    await writeJsonAtomic(join(root, META_FILE), { ...meta, ...patch });
  }

  async delete(id: string): Promise<void> {
    await rm(await this.writable(id), { recursive: true, force: true });
  }

  /** Copies a model folder into the user's models folder under a fresh id (from `name`, default the folder's). */
  async import(srcDir: string, name?: string): Promise<ModelInfo> {
    const src = resolve(srcDir);
    const displayName = name ?? basename(src);
    if (!(await isModelDir(src))) {
      throw new EngineError(`${src} is not a Tilt model folder (it has no model.json)`, 'bad-input', src);
    }
    const id = await this.freshId(displayName);
    await mkdir(this.files.userDir, { recursive: true });
    const dest = join(this.files.userDir, id);
    const tmp = `${dest}.importing`;
    await rm(tmp, { recursive: true, force: true });
    try {
      await cp(src, tmp, { recursive: true });
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    const meta = (await readJson(join(dest, META_FILE))) ?? {};
    if (!meta.createdAt) await writeJsonAtomic(join(dest, META_FILE), { name: displayName, ...meta, importedAt: new Date().toISOString() });
    return this.get(id);
  }

  /** Copies a model folder to `destDir/<id>`, refusing to overwrite. */
  async export(id: string, destDir: string): Promise<string> {
    const m = await this.get(id);
    const dest = join(resolve(destDir), m.id);
    if (await exists(dest)) throw new EngineError(`${dest} already exists`, 'exists', dest);
    await cp(m.dir, dest, { recursive: true });
    return dest;
  }

  /** Creates a new, empty folder in the user's models folder (a training run's) under a fresh id from `name`. */
  async reserve(name: string, meta: ModelMeta): Promise<{ id: string; dir: string }> {
    const id = await this.freshId(name);
    const dir = join(this.files.userDir, id);
    await mkdir(dir, { recursive: true });
    await writeJsonAtomic(join(dir, META_FILE), meta);
    return { id, dir };
  }

  /** A folder name not yet used in the user's models folder (nor by a built-in model). */
  async freshId(name: string): Promise<string> {
    const base = slug(name);
    const taken = new Set((await this.list()).map((m) => m.id));
    for (let i = 1; ; i++) {
      const id = i === 1 ? base : `${base}-${i}`;
      if (!taken.has(id) && !(await exists(join(this.files.userDir, id)))) return id;
    }
  }

  /** The folder of a user model that may be changed (the run folder for a trained model). */
  async writable(id: string): Promise<string> {
    const m = await this.get(id);
    if (m.builtin) throw new EngineError(`"${m.name}" ships with Tilt and cannot be changed; import a copy to edit it`, 'read-only');
    const root = join(this.files.userDir, m.id);
    const inside = resolve(m.dir).startsWith(resolve(this.files.userDir) + sep);
    if (!inside) throw new EngineError(`${m.dir} is outside the models folder`, 'read-only');
    return root;
  }

  private async activeId(): Promise<string | undefined> {
    const s = await readJson(this.files.settingsFile);
    return typeof s?.activeModelId === 'string' ? s.activeModelId : undefined;
  }

  private async describe(id: string, root: string, dir: string, builtin: boolean): Promise<ModelInfo> {
    const meta = (await readJson(join(root, META_FILE))) ?? {};
    const modelJson = (await readJson(join(dir, 'model.json'))) ?? {};
    const saved = (modelJson.metadata && typeof modelJson.metadata === 'object' ? modelJson.metadata : {}) as Record<string, unknown>;
    const config = (modelJson.config && typeof modelJson.config === 'object' ? modelJson.config : {}) as Record<string, unknown>;
    // A trained model's card sits with its weights (the run's best checkpoint), others' at the top.
    let card: string | undefined;
    for (const f of [root, dir].flatMap((d) => CARD_FILES.map((name) => join(d, name)))) {
      card = await readFile(f, 'utf8').catch(() => undefined);
      if (card !== undefined) break;
    }
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const info: ModelInfo = { id, name: str(meta.name) ?? str(saved.name) ?? id, dir, builtin, active: false };
    const preset = str(saved.preset);
    const params = countWeights(modelJson.weightsManifest);
    const sampleRate = num(saved.sampleRate);
    const stems = Array.isArray(saved.stems) ? saved.stems.filter((s): s is string => typeof s === 'string') : [];
    const sources = stems.length ? stems : num(config.nSources) ? Array.from({ length: num(config.nSources)! }, (_, i) => `source${i + 1}`) : [];
    const createdAt = str(saved.createdAt) ?? str(meta.createdAt) ?? str(meta.importedAt);
    const metricsOf = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, number>) : undefined);
    const metrics = metricsOf(saved.metrics) ?? metricsOf(meta.metrics);
    if (preset) info.preset = preset;
    if (params) info.params = params;
    if (sampleRate) info.sampleRate = sampleRate;
    if (sources.length) info.sources = sources;
    if (createdAt) info.createdAt = createdAt;
    if (card) info.card = card;
    if (metrics) info.metrics = metrics;
    const last = join(root, 'last');
    const state = runState((dir === last ? modelJson : await readJson(join(last, 'model.json')))?.metadata);
    if (state) info.run = state;
    return info;
  }
}

/** Step and planned steps from the trainer state a checkpoint's metadata holds. */
function runState(metadata: unknown): ModelInfo['run'] | undefined {
  const t = (metadata as { training?: { step?: unknown; config?: { epochs?: unknown; stepsPerEpoch?: unknown } } } | undefined)?.training;
  const { step } = t ?? {};
  const { epochs, stepsPerEpoch } = t?.config ?? {};
  if (typeof step !== 'number' || typeof epochs !== 'number' || typeof stepsPerEpoch !== 'number') return undefined;
  return { step, totalSteps: epochs * stepsPerEpoch };
}

/** Parameter count from the weights manifest (no tensors loaded). */
function countWeights(manifest: unknown): number | undefined {
  if (!Array.isArray(manifest)) return undefined;
  let n = 0;
  for (const group of manifest as { weights?: { shape?: number[] }[] }[]) {
    for (const w of group.weights ?? []) n += (w.shape ?? []).reduce((a, b) => a * b, 1);
  }
  return n || undefined;
}
