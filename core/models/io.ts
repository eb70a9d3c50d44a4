// Model folders: `model.json` (format, version, config, tfjs weights manifest, caller metadata) and
// `weights.bin` (tf.io.encodeWeights). Extra named-tensor groups (optimizer state) use the same
// encoding in their own `<group>.json` + `<group>.bin` pair.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { tf } from '../tf';
import type { NamedTensorMap, Tensor } from '../tf';
import { createSudoRmRf, validateConfig, type SudoRmRf, type SudoRmRfConfig } from './sudormrf';

export const MODEL_FORMAT = 'tilt-sudormrf';
export const MODEL_FORMAT_VERSION = 1;

export interface ModelJson {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  config: SudoRmRfConfig;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  metadata?: Record<string, unknown>;
}

interface TensorsJson {
  format: string;
  formatVersion: number;
  weightsManifest: ModelJson['weightsManifest'];
}

async function writeGroup(dir: string, base: string, tensors: NamedTensorMap, format: string): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeFileAtomic(join(dir, `${base}.bin`), new Uint8Array(data));
  const json: TensorsJson = { format, formatVersion: MODEL_FORMAT_VERSION, weightsManifest: [{ paths: [`${base}.bin`], weights: specs }] };
  await writeFileAtomic(join(dir, `${base}.json`), JSON.stringify(json, null, 2));
}

async function readJson<T>(path: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${what}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${what}: ${path} is not valid JSON (corrupt or truncated)`, { cause: e });
  }
}

async function readWeights(dir: string, manifest: ModelJson['weightsManifest'], what: string): Promise<NamedTensorMap> {
  if (!Array.isArray(manifest) || manifest.length !== 1 || !Array.isArray(manifest[0]?.paths) || !Array.isArray(manifest[0]?.weights)) {
    throw new Error(`${what}: the weights manifest in ${dir} is malformed`);
  }
  const group = manifest[0];
  const buffers: Buffer[] = [];
  for (const p of group.paths) {
    try {
      buffers.push(await readFile(join(dir, p)));
    } catch (e) {
      throw new Error(`${what}: cannot read ${join(dir, p)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
  }
  const bytes = Buffer.concat(buffers);
  const expected = group.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (group.weights.some((w) => w.dtype !== 'float32')) throw new Error(`${what}: only float32 weights are supported`);
  if (bytes.byteLength !== expected) {
    throw new Error(`${what}: ${group.paths.join(', ')} in ${dir} holds ${bytes.byteLength} bytes, the manifest needs ${expected} (corrupt or truncated)`);
  }
  const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return tf.io.decodeWeights(data, group.weights);
}

/**
 * Saves the model to `dir` (created if needed): model.json + weights.bin. `metadata` (model card,
 * training info, ...) is stored under `metadata`, with the model's own input level and fixed slots
 * added, so that what loadModel reads back survives a save whatever metadata the caller passes.
 */
export async function saveModel(model: SudoRmRf, dir: string, metadata?: Record<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const named: NamedTensorMap = {};
  for (const [name, v] of model.namedWeights()) named[name] = v;
  const { data, specs } = await tf.io.encodeWeights(named);
  await writeFileAtomic(join(dir, 'weights.bin'), new Uint8Array(data));
  const json: ModelJson = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    config: { ...model.config },
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    ...(metadata || model.inputStd !== undefined || model.fixedSlots ? { metadata: ownMetadata(model, metadata) } : {}),
  };
  await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(json, null, 2));
}

// Separation reads both from the metadata: a model saved without `slots` would align its chunks by
// similarity and could swap stems between chunks of a long file.
function ownMetadata(model: SudoRmRf, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...metadata,
    ...(model.inputStd !== undefined && metadata.inputStd === undefined ? { inputStd: model.inputStd } : {}),
    ...(model.fixedSlots ? { slots: 'fixed' } : {}),
  };
}

export interface LoadedModel {
  model: SudoRmRf;
  metadata: Record<string, unknown> | undefined;
}

/** Loads a folder written by `saveModel`; clear errors for a missing, foreign or corrupt folder. */
export async function loadModel(dir: string, scope?: string): Promise<LoadedModel> {
  const what = 'loadModel';
  const json = await readJson<ModelJson>(join(dir, 'model.json'), what);
  if (json.format !== MODEL_FORMAT) throw new Error(`${what}: ${dir}/model.json is not a Tilt Sudo rm -rf model (format "${String(json.format)}")`);
  if (json.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new Error(`${what}: ${dir} has format version ${json.formatVersion}; this build reads version ${MODEL_FORMAT_VERSION}`);
  }
  validateConfig(json.config);
  const weights = await readWeights(dir, json.weightsManifest, what);
  // Models saved before the decoder bias was frozen at zero (see sudormrf.ts) carry a random-walked one.
  const bias = weights['decoder/bias'];
  if (bias) {
    weights['decoder/bias'] = tf.zerosLike(bias);
    bias.dispose();
  }
  const model = createSudoRmRf(json.config, 0, scope);
  try {
    model.setWeights(weights);
  } catch (e) {
    model.dispose();
    throw new Error(`${what}: ${dir}: ${(e as Error).message}`, { cause: e });
  } finally {
    tf.dispose(Object.values(weights));
  }
  const inputStd = json.metadata?.inputStd;
  if (typeof inputStd === 'number' && Number.isFinite(inputStd) && inputStd > 0) model.inputStd = inputStd;
  if (json.metadata?.slots === 'fixed') model.fixedSlots = true;
  return { model, metadata: json.metadata };
}

/** Saves a named tensor group (e.g. optimizer state) as `<group>.json` + `<group>.bin` in `dir`. */
export async function saveTensors(dir: string, group: string, tensors: Record<string, Tensor>): Promise<void> {
  if (!/^[A-Za-z0-9_-]+$/.test(group) || group === 'model' || group === 'weights') {
    throw new Error(`saveTensors: invalid group name "${group}"`);
  }
  await mkdir(dir, { recursive: true });
  await writeGroup(dir, group, tensors, `${MODEL_FORMAT}-tensors`);
}

/** Loads a group written by `saveTensors`; the caller owns (and disposes) the tensors. */
export async function loadTensors(dir: string, group: string): Promise<NamedTensorMap> {
  const what = `loadTensors(${group})`;
  const json = await readJson<TensorsJson>(join(dir, `${group}.json`), what);
  if (json.format !== `${MODEL_FORMAT}-tensors`) throw new Error(`${what}: ${dir}/${group}.json is not a Tilt tensor group`);
  return readWeights(dir, json.weightsManifest, what);
}
