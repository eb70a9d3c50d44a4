// The models folder: the user's models (writable) plus the ones shipped with the app (read-only).
// A model is a folder as core/models/io saves it (model.json + weights.bin). The app's own edits
// (display name after a rename) go in `tilt-model.json` beside it, never into model.json; a markdown
// model card may sit in MODEL_CARD.md / README.md.
import { cp, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { stemNamesOf } from '../separate/stems';
import { EngineError } from './errors';
import type { CheckpointKind, ModelInfo, ValidationMetrics } from './types';
import { exists, readJsonObject } from '../io/fs';

export const META_FILE = 'tilt-model.json';
const CARD_FILES = ['MODEL_CARD.md', 'README.md', 'card.md'];
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ModelMeta {
  name?: string;
  createdAt?: string;
  baseModelId?: string;
  metrics?: Record<string, number>;
  /** A training run's validation of its starting model (step 0), for its charts. */
  baseline?: ValidationMetrics;
}

interface StoreFiles {
  /** The user's models. */
  userDir: string;
  /** Shipped models (read-only), e.g. assets/models. */
  builtinDirs: string[];
  /** JSON file holding the active model id. */
  settingsFile: string;
}

/** Writes a JSON file atomically so a crash never leaves half a JSON. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Merges fields into a model folder's app metadata (tilt-model.json), listed as a model or not yet. */
export async function mergeMeta(root: string, patch: ModelMeta): Promise<void> {
  const meta = (await readJsonObject(join(root, META_FILE))) ?? {};
  await writeJsonAtomic(join(root, META_FILE), { ...meta, ...patch });
}

/** A folder is a model when core/models could load it: it has the `model.json` saveModel writes. */
export async function isModelDir(dir: string): Promise<boolean> {
  return exists(join(dir, 'model.json'));
}

const CHECKPOINTS: readonly CheckpointKind[] = ['best', 'last'];

/**
 * The folder holding the weights of a model entry: the entry itself, or for a training run (a
 * folder of `best` / `last` checkpoints) the `prefer`red checkpoint when it has one, else its best,
 * else its last. Undefined when the folder holds no model (yet).
 */
export async function modelDirOf(dir: string, prefer?: CheckpointKind): Promise<string | undefined> {
  const order = prefer ? [prefer, ...CHECKPOINTS.filter((k) => k !== prefer)] : CHECKPOINTS;
  for (const d of [dir, ...order.map((k) => join(dir, k))]) if (await isModelDir(d)) return d;
  return undefined;
}

/**
 * A model folder's own name: the app's name for it, the name saved with it, the name of the run it
 * is a checkpoint of, else the folder's.
 */
async function ownName(dir: string): Promise<string> {
  const meta = await readJsonObject(join(dir, META_FILE));
  const saved = (await readJsonObject(join(dir, 'model.json')))?.metadata as { name?: unknown; training?: { config?: { name?: unknown } } } | undefined;
  const run = (CHECKPOINTS as readonly string[]).includes(basename(dir)) ? await readJsonObject(join(dir, '..', META_FILE)) : undefined;
  for (const n of [meta?.name, saved?.name, run?.name, saved?.training?.config?.name]) if (typeof n === 'string' && n.trim()) return n.trim();
  return basename(dir);
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
    const { id: active, checkpoint } = await this.activeChoice();
    const found: ModelInfo[] = [];
    const seen = new Set<string>();
    const roots = [...this.files.builtinDirs.map((d) => ({ d, builtin: true })), { d: this.files.userDir, builtin: false }];
    for (const { d, builtin } of roots) {
      const names = await readdir(d).catch(() => [] as string[]);
      for (const id of names.sort()) {
        if (!ID_RE.test(id) || seen.has(id)) continue;
        const root = join(d, id);
        const dir = await modelDirOf(root, id === active ? checkpoint : undefined);
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

  /**
   * Makes `id` the model that separates; for a training run, `checkpoint` picks its best or its last
   * checkpoint (default: its best, else its last). A run that goes on training moves its `last` on.
   */
  async activate(id: string, checkpoint?: CheckpointKind): Promise<ModelInfo> {
    const m = await this.get(id);
    if (checkpoint && !m.checkpoints?.some((c) => c.kind === checkpoint)) {
      throw new EngineError(`"${m.name}" has no ${checkpoint} checkpoint`, 'not-found');
    }
    const { activeCheckpoint: _previous, ...settings } = (await readJsonObject(this.files.settingsFile)) ?? {};
    await mkdir(resolve(this.files.settingsFile, '..'), { recursive: true });
    await writeJsonAtomic(this.files.settingsFile, { ...settings, activeModelId: id, ...(checkpoint ? { activeCheckpoint: checkpoint } : {}) });
    return this.get(id);
  }

  /**
   * Records the model in use as the active one when none was chosen (the first listed stands in):
   * adding a model, e.g. by training, must not change which model separates.
   */
  async pinActive(): Promise<void> {
    const list = await this.list();
    const { id: chosen } = await this.activeChoice();
    const current = list.find((m) => m.active);
    if (current && current.id !== chosen) await this.activate(current.id);
  }

  async rename(id: string, name: string): Promise<ModelInfo> {
    const root = await this.writable(id);
    const meta = (await readJsonObject(join(root, META_FILE))) ?? {};
    await writeJsonAtomic(join(root, META_FILE), { ...meta, name });
    return this.get(id);
  }

  /** Whether the user's models folder holds a usable model under `id`. */
  async has(id: string): Promise<boolean> {
    return ID_RE.test(id) && (await modelDirOf(join(this.files.userDir, id))) !== undefined;
  }

  /** Merges fields into a user model's app metadata (tilt-model.json). */
  async setMeta(id: string, patch: ModelMeta): Promise<void> {
    await mergeMeta(await this.writable(id), patch);
  }

  async delete(id: string): Promise<void> {
    await rm(await this.writable(id), { recursive: true, force: true });
  }

  /**
   * Copies a model folder (or a training run's folder) into the user's models folder. It keeps `name`,
   * else its own name (see ownName), under a fresh id made from that name.
   */
  async import(srcDir: string, name?: string): Promise<ModelInfo> {
    const src = resolve(srcDir);
    if (!(await modelDirOf(src))) {
      throw new EngineError(`${src} is not a Tilt model folder (it has no model.json)`, 'bad-input', src);
    }
    const displayName = name ?? (await ownName(src));
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
    const meta = (await readJsonObject(join(dest, META_FILE))) ?? {};
    await writeJsonAtomic(join(dest, META_FILE), { ...meta, name: displayName, importedAt: new Date().toISOString() });
    return this.get(id);
  }

  /**
   * Copies the weights a model separates with (a run's checkpoint in use) to `destDir/<id>`, refusing
   * to overwrite unless `keepBoth` (then `<id>-2`, ...). The copy carries the model's name, which a
   * checkpoint folder lacks, so that importing it brings the model back under that name.
   */
  async export(id: string, destDir: string, keepBoth = false): Promise<string> {
    const m = await this.get(id);
    let dest = join(resolve(destDir), m.id);
    for (let n = 2; keepBoth && (await exists(dest)); n++) dest = join(resolve(destDir), `${m.id}-${n}`);
    if (await exists(dest)) throw new EngineError(`${dest} already exists`, 'exists', dest);
    await cp(m.dir, dest, { recursive: true });
    const meta = (await readJsonObject(join(dest, META_FILE))) ?? {};
    await writeJsonAtomic(join(dest, META_FILE), { ...meta, name: m.name });
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

  private async activeChoice(): Promise<{ id?: string; checkpoint?: CheckpointKind }> {
    const s = await readJsonObject(this.files.settingsFile);
    const id = typeof s?.activeModelId === 'string' ? s.activeModelId : undefined;
    const checkpoint = CHECKPOINTS.find((k) => k === s?.activeCheckpoint);
    return { ...(id ? { id } : {}), ...(checkpoint ? { checkpoint } : {}) };
  }

  private async describe(id: string, root: string, dir: string, builtin: boolean): Promise<ModelInfo> {
    const meta = (await readJsonObject(join(root, META_FILE))) ?? {};
    const modelJson = (await readJsonObject(join(dir, 'model.json'))) ?? {};
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
    const nSources = num(config.nSources);
    // Listed as separation names them; a model whose names would be refused lists none.
    const sources = nSources ? listedStems(saved, nSources) : [];
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
    if (dir !== root) {
      const checkpoints: NonNullable<ModelInfo['checkpoints']> = [];
      for (const kind of CHECKPOINTS) {
        const d = join(root, kind);
        const state = runState((d === dir ? modelJson : await readJsonObject(join(d, 'model.json')))?.metadata);
        if (!state) continue;
        checkpoints.push({ kind, step: state.step });
        if (kind === 'last') info.run = state;
      }
      info.checkpoint = basename(dir) as CheckpointKind;
      if (checkpoints.length) info.checkpoints = checkpoints;
    }
    return info;
  }
}

/** A model's stems as separation names them; none when its metadata names them wrongly. */
function listedStems(metadata: Record<string, unknown>, nSources: number): string[] {
  try {
    return stemNamesOf(metadata, nSources);
  } catch {
    return [];
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
