// The training config (JSON): model, data, optimisation, reweighting and validation. Every field is
// checked, and every problem is reported with its path and the reason.
import { MIXTURE_TYPES, MODEL_RATE, TRAIN_LIMITS } from '../types';
import { DEFAULT_AUGMENT, type AugmentConfig } from '../data/augment';
import { expandHome } from '../data/folders';
import { PACKAGE_SETS, type PackageSet } from '../data/packages';
import type { SlotAssignment } from './step';
import type { MixtureType } from '../types';
import { encoderStride, PRESETS } from '../models/sudormrf';
import type { PresetName, SudoRmRfConfig } from '../models/sudormrf';
import { parseReweightConfig } from '../reweighting';
import type { ReweightConfig } from '../reweighting';
import { ReweightConfigError, Validator, describe } from '../reweighting/validate';

export type LrSchedule =
  | { kind: 'constant' }
  /** Halve the learning rate every `epochs` epochs. */
  | { kind: 'halve-every'; epochs: number }
  /** Halve it when validation SI-SDRi has not improved for `patience` epochs. */
  | { kind: 'plateau'; patience: number };

export interface DataConfig {
  /** Built-in real-recordings corpus package set, or none when only user folders are used. */
  corpus: PackageSet | null;
  /** Corpus cache folder; the default cache when null. */
  cacheDir: string | null;
  /**
   * User data: folders of speech and of environmental sound, flat or with sub-folders (speakers for
   * speech, labels for env). `~` names the home folder.
   */
  speechDirs: string[];
  envDirs: string[];
  /** ESC-50 layout (audio/ + meta/esc50.csv): environmental sound. */
  esc50: string | null;
  segmentSeconds: number;
  snrDb: [number, number];
  /** Prior of each mixture type (normalised). */
  mixtureTypes: Partial<Record<MixtureType, number>>;
  /** Per-source augmentation; null: plain crops. `{}` in JSON gives DEFAULT_AUGMENT. */
  augment: AugmentConfig | null;
}

export interface TrainConfig {
  name: string;
  seed: number;
  /** Start from a preset (with optional size overrides) or fine-tune a saved model folder. */
  /** `from`: a saved model to go on training; `blocks`: deepen it to that many blocks first (see deepen.ts). */
  model: { preset: PresetName; overrides: Partial<SudoRmRfConfig> } | { from: string; blocks?: number };
  data: DataConfig;
  batchSize: number;
  epochs: number;
  stepsPerEpoch: number;
  optimizer: { lr: number; clipNorm: number; schedule: LrSchedule };
  reweighting: ReweightConfig;
  validation: { mixtures: number; batchSize: number; seed: number };
  /** Consecutive non-finite steps after which training rolls back to the last good checkpoint. */
  rollbackAfter: number;
  /**
   * How the loss pairs outputs with sources: 'fixed' scores output s against source s in mixtures
   * of different classes (stems named by what they hold, speech first) and uses PIT only within a
   * class; 'pit' searches every mixture's best permutation.
   */
  slots: SlotAssignment;
}

export const DEFAULT_DATA: DataConfig = {
  corpus: 'full',
  cacheDir: null,
  speechDirs: [],
  envDirs: [],
  esc50: null,
  segmentSeconds: 4,
  snrDb: [-5, 5],
  mixtureTypes: { 'speech+env': 1 },
  augment: null,
};

const TOP_FIELDS = ['name', 'seed', 'model', 'data', 'batchSize', 'epochs', 'stepsPerEpoch', 'optimizer', 'reweighting', 'validation', 'rollbackAfter', 'slots'];
const SIZE_FIELDS: (keyof SudoRmRfConfig)[] = ['nSources', 'nBlocks', 'upsamplingDepth', 'encBasis', 'encKernel', 'bottleneck', 'hidden', 'dwKernel'];

function stringList(v: Validator, value: unknown, path: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || s === '')) {
    v.fail(path, `must be an array of folder paths (got ${describe(value)})`);
    return [];
  }
  return value as string[];
}

function optionalString(v: Validator, value: unknown, path: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '') {
    v.fail(path, `must be a non-empty string (got ${describe(value)})`);
    return null;
  }
  return value;
}

const folder = (path: string | null): string | null => (path === null ? null : expandHome(path));

function int(v: Validator, value: unknown, path: string, fallback: number, min: number, max?: number): number {
  if (value === undefined) return fallback;
  return v.number(value, path, { integer: true, min, max }) ? value : fallback;
}

/** Largest value of each size field: beyond these a model cannot train within the wasm backend's 4 GiB heap on any batch. */
const SIZE_LIMITS: Record<keyof SudoRmRfConfig, [number, number]> = {
  nSources: [2, 8], nBlocks: [1, 64], upsamplingDepth: [1, 8], encBasis: [2, 4096], encKernel: [3, 1023],
  bottleneck: [1, 2048], hidden: [1, 4096], dwKernel: [1, 63],
};

// Activations kept during a training step, with per-block checkpointing: one block's tape
// (about 28 tensors of [rows, hidden]), every block's input [rows, bottleneck], and the encoder's
// and masks' tensors (a few of [rows, encBasis] per source). Past MAX_STEP_BYTES the wasm heap (4 GiB,
// shared with the weights and Adam's moments) runs out mid-step.
const MAX_STEP_BYTES = 3 * 2 ** 30;

function stepBytes(c: SudoRmRfConfig, batchSize: number, segmentSeconds: number): number {
  const rows = batchSize * Math.ceil((segmentSeconds * MODEL_RATE) / encoderStride(c));
  return 4 * rows * (28 * c.hidden + c.nBlocks * c.bottleneck + (4 + 3 * c.nSources) * c.encBasis);
}

function parseModel(v: Validator, raw: unknown): TrainConfig['model'] {
  const fallback: TrainConfig['model'] = { preset: '0.25x', overrides: {} };
  if (raw === undefined) return fallback;
  if (!v.object(raw, 'model', ['preset', 'overrides', 'from', 'blocks'])) return fallback;
  if (raw.blocks !== undefined && raw.from === undefined) v.fail('model.blocks', 'deepens a saved model: it needs "from"');
  if (raw.from !== undefined) {
    if (raw.preset !== undefined || raw.overrides !== undefined) v.fail('model', 'takes either "from" (a saved model to fine-tune) or "preset"/"overrides", not both');
    const from = folder(optionalString(v, raw.from, 'model.from'));
    const [min, max] = SIZE_LIMITS.nBlocks;
    const blocks = raw.blocks !== undefined && v.number(raw.blocks, 'model.blocks', { integer: true, min, max }) ? raw.blocks : undefined;
    return from ? { from, ...(blocks === undefined ? {} : { blocks }) } : fallback;
  }
  const preset = raw.preset === undefined ? '0.25x' : raw.preset;
  if (!v.oneOf(preset, 'model.preset', Object.keys(PRESETS) as PresetName[])) return fallback;
  const overrides: Partial<SudoRmRfConfig> = {};
  if (raw.overrides !== undefined && v.object(raw.overrides, 'model.overrides', SIZE_FIELDS)) {
    for (const key of SIZE_FIELDS) {
      const value = raw.overrides[key];
      const [min, max] = SIZE_LIMITS[key];
      if (value !== undefined && v.number(value, `model.overrides.${key}`, { integer: true, min, max })) overrides[key] = value;
    }
  }
  return { preset, overrides };
}

function parseData(v: Validator, raw: unknown): DataConfig {
  if (raw === undefined) return structuredClone(DEFAULT_DATA);
  if (!v.object(raw, 'data', Object.keys(DEFAULT_DATA))) return structuredClone(DEFAULT_DATA);
  const data = structuredClone(DEFAULT_DATA);
  if (raw.corpus !== undefined) {
    if (raw.corpus === null) data.corpus = null;
    else if (v.oneOf(raw.corpus, 'data.corpus', Object.keys(PACKAGE_SETS) as PackageSet[])) data.corpus = raw.corpus;
  }
  data.cacheDir = folder(optionalString(v, raw.cacheDir, 'data.cacheDir'));
  data.speechDirs = stringList(v, raw.speechDirs, 'data.speechDirs').map(expandHome);
  data.envDirs = stringList(v, raw.envDirs, 'data.envDirs').map(expandHome);
  data.esc50 = folder(optionalString(v, raw.esc50, 'data.esc50'));
  if (raw.segmentSeconds !== undefined && v.number(raw.segmentSeconds, 'data.segmentSeconds', TRAIN_LIMITS.segmentSeconds)) {
    data.segmentSeconds = raw.segmentSeconds;
  }
  if (raw.snrDb !== undefined) {
    const snr = raw.snrDb;
    if (!Array.isArray(snr) || snr.length !== 2 || !snr.every((x) => typeof x === 'number' && Number.isFinite(x)) || snr[0] > snr[1]) {
      v.fail('data.snrDb', `must be [low, high] in dB with low <= high (got ${JSON.stringify(snr)})`);
    } else data.snrDb = [snr[0], snr[1]];
  }
  if (raw.mixtureTypes !== undefined && v.object(raw.mixtureTypes, 'data.mixtureTypes', MIXTURE_TYPES)) {
    const priors: Partial<Record<MixtureType, number>> = {};
    for (const t of MIXTURE_TYPES) {
      const w = raw.mixtureTypes[t];
      if (w !== undefined && v.number(w, `data.mixtureTypes.${t}`, { min: 0 })) priors[t] = w;
    }
    if (Object.values(priors).every((w) => !w)) v.fail('data.mixtureTypes', 'must give at least one mixture type a prior > 0');
    data.mixtureTypes = priors;
  }
  if (raw.augment !== undefined && raw.augment !== null) data.augment = parseAugment(v, raw.augment);
  if (data.corpus === null && data.speechDirs.length + data.envDirs.length === 0 && !data.esc50) {
    v.fail('data', 'has no audio: set "corpus" or give speechDirs / envDirs / esc50');
  }
  return data;
}

function range(v: Validator, value: unknown, path: string, lo: number, hi: number, fallback: [number, number]): [number, number] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.length !== 2 || !value.every((x) => typeof x === 'number' && x >= lo && x <= hi) || value[0] > value[1]) {
    v.fail(path, `must be [low, high] with ${lo} <= low <= high <= ${hi} (got ${JSON.stringify(value)})`);
    return fallback;
  }
  return [value[0], value[1]];
}

const PROBABILITIES = ['eq', 'bandLimit', 'codec', 'reverb', 'speed', 'pause', 'bed'] as const;
const RANGES: Record<'reverbSeconds' | 'reverbDrrDb' | 'speedRange' | 'pauseFraction' | 'envLayers' | 'layerGainDb' | 'bedGainDb', [number, number]> = {
  reverbSeconds: [0.05, 3], reverbDrrDb: [-20, 40], speedRange: [0.5, 2], pauseFraction: [0, 0.9],
  envLayers: [0, 4], layerGainDb: [-40, 10], bedGainDb: [-40, 10],
};

function parseAugment(v: Validator, raw: unknown): AugmentConfig | null {
  if (!v.object(raw, 'data.augment', Object.keys(DEFAULT_AUGMENT))) return null;
  const out = structuredClone(DEFAULT_AUGMENT);
  for (const key of PROBABILITIES) {
    const p = raw[key];
    if (p !== undefined && v.number(p, `data.augment.${key}`, { min: 0, max: 1 })) out[key] = p;
  }
  if (raw.eqDb !== undefined && v.number(raw.eqDb, 'data.augment.eqDb', { min: 0, max: 24 })) out.eqDb = raw.eqDb;
  for (const [key, [lo, hi]] of Object.entries(RANGES) as [keyof typeof RANGES, [number, number]][]) {
    out[key] = range(v, raw[key], `data.augment.${key}`, lo, hi, out[key]);
  }
  if (raw.envLayers !== undefined && !out.envLayers.every(Number.isInteger)) v.fail('data.augment.envLayers', `must be whole numbers (got ${JSON.stringify(raw.envLayers)})`);
  return out;
}

function parseSchedule(v: Validator, raw: unknown): LrSchedule {
  if (raw === undefined || raw === 'constant') return { kind: 'constant' };
  if (!v.object(raw, 'optimizer.schedule', ['halveEvery', 'plateau'])) return { kind: 'constant' };
  if (raw.halveEvery !== undefined && raw.plateau !== undefined) v.fail('optimizer.schedule', 'takes "halveEvery" or "plateau", not both');
  if (raw.halveEvery !== undefined) return { kind: 'halve-every', epochs: int(v, raw.halveEvery, 'optimizer.schedule.halveEvery', 1, 1) };
  if (raw.plateau !== undefined) {
    if (!v.object(raw.plateau, 'optimizer.schedule.plateau', ['patience'])) return { kind: 'constant' };
    return { kind: 'plateau', patience: int(v, raw.plateau.patience, 'optimizer.schedule.plateau.patience', 2, 1) };
  }
  v.fail('optimizer.schedule', 'must be "constant", { "halveEvery": N } or { "plateau": { "patience": N } }');
  return { kind: 'constant' };
}

/** Validates a training config from JSON; throws ReweightConfigError listing every bad field. */
export function parseTrainConfig(raw: unknown): TrainConfig {
  const v = new Validator();
  if (!v.object(raw, 'config', TOP_FIELDS)) v.throwIfAny();
  const c = raw as Record<string, unknown>;
  const name = c.name === undefined ? 'run' : c.name;
  if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name)) v.fail('name', `must be 1-64 letters, digits, '.', '_' or '-' (got ${describe(name)})`);
  const opt = c.optimizer;
  let optimizer: TrainConfig['optimizer'] = { lr: 1e-3, clipNorm: 5, schedule: { kind: 'constant' } };
  if (opt !== undefined && v.object(opt, 'optimizer', ['lr', 'clipNorm', 'schedule'])) {
    optimizer = {
      lr: opt.lr === undefined ? 1e-3 : v.number(opt.lr, 'optimizer.lr', { above: 0, below: 1 }) ? opt.lr : 1e-3,
      clipNorm: opt.clipNorm === undefined ? 5 : v.number(opt.clipNorm, 'optimizer.clipNorm', { above: 0 }) ? opt.clipNorm : 5,
      schedule: parseSchedule(v, opt.schedule),
    };
  }
  let reweighting: ReweightConfig = { granularity: 'mixture', terms: [] };
  if (c.reweighting !== undefined) {
    try {
      reweighting = parseReweightConfig(c.reweighting, 'reweighting');
    } catch (e) {
      if (!(e instanceof ReweightConfigError)) throw e;
      for (const issue of e.issues) v.fail(issue.path, issue.message);
    }
  }
  let validation = { mixtures: 64, batchSize: 8, seed: 1234 };
  if (c.validation !== undefined && v.object(c.validation, 'validation', ['mixtures', 'batchSize', 'seed'])) {
    validation = {
      mixtures: int(v, c.validation.mixtures, 'validation.mixtures', 64, 1, 100_000),
      batchSize: int(v, c.validation.batchSize, 'validation.batchSize', 8, TRAIN_LIMITS.batchSize.min, TRAIN_LIMITS.batchSize.max),
      seed: int(v, c.validation.seed, 'validation.seed', 1234, 0),
    };
  }
  const config: TrainConfig = {
    name: name as string,
    seed: int(v, c.seed, 'seed', 0, 0),
    model: parseModel(v, c.model),
    data: parseData(v, c.data),
    batchSize: int(v, c.batchSize, 'batchSize', 4, TRAIN_LIMITS.batchSize.min, TRAIN_LIMITS.batchSize.max),
    epochs: int(v, c.epochs, 'epochs', 10, 1, 100_000),
    stepsPerEpoch: int(v, c.stepsPerEpoch, 'stepsPerEpoch', 200, 1, 1_000_000),
    optimizer,
    reweighting,
    validation,
    rollbackAfter: int(v, c.rollbackAfter, 'rollbackAfter', 3, 1),
    slots: c.slots === undefined ? 'fixed' : v.oneOf(c.slots, 'slots', ['fixed', 'pit'] as const) ? c.slots : 'fixed',
  };
  if ('preset' in config.model && v.issues.length === 0) {
    const model = presetModelConfig(config.model);
    const bytes = stepBytes(model, config.batchSize, config.data.segmentSeconds);
    if (bytes > MAX_STEP_BYTES) {
      v.fail('batchSize', `${config.batchSize} x ${config.data.segmentSeconds} s with this model needs about ${(bytes / 2 ** 30).toFixed(1)} GiB of activations per step, over the ${MAX_STEP_BYTES / 2 ** 30} GiB that fit: lower batchSize, data.segmentSeconds or the model size`);
    }
  }
  v.throwIfAny();
  return config;
}

/**
 * The JSON form of a parsed config: parseTrainConfig gives back an equal config. A checkpoint records
 * the parsed config, so this is what continues the run it belongs to.
 */
export function trainConfigJson(c: TrainConfig): Record<string, unknown> {
  const s = c.optimizer.schedule;
  const schedule = s.kind === 'constant' ? 'constant' : s.kind === 'halve-every' ? { halveEvery: s.epochs } : { plateau: { patience: s.patience } };
  return { ...structuredClone(c), optimizer: { ...c.optimizer, schedule } };
}

/** The model config a run starts from (presets with overrides; `from` models bring their own). */
export function presetModelConfig(model: { preset: PresetName; overrides: Partial<SudoRmRfConfig> }): SudoRmRfConfig {
  return { ...PRESETS[model.preset], ...model.overrides };
}
