// The training config (JSON): model, data, optimisation, reweighting and validation. Every field is
// checked (one zod schema, which also gives the types), and every problem is reported with its path
// and the reason.
import { z } from 'zod';
import { MIXTURE_TYPES, MODEL_RATE } from '../types';
import { DEFAULT_AUGMENT, type AugmentConfig } from '../data/augment';
import { expandHome } from '../data/folders';
import { PACKAGE_SETS, type PackageSet } from '../data/packages';
import type { MixtureType } from '../types';
import type { SlotAssignment } from './step';
import { encoderStride, PRESETS } from '../models/sudormrf';
import type { PresetName, SudoRmRfConfig } from '../models/sudormrf';
import { REWEIGHT_CONFIG } from '../reweighting';
import { ConfigError, fields, got, number, parseWith, problem, range, text, TRAIN_FIELDS } from '../schema';

export type LrSchedule =
  | { kind: 'constant' }
  /** Halve the learning rate every `epochs` epochs. */
  | { kind: 'halve-every'; epochs: number }
  /** Halve it when validation SI-SDRi has not improved for `patience` epochs. */
  | { kind: 'plateau'; patience: number };

/** Largest value of each size field: beyond these a model cannot train within the wasm backend's 4 GiB heap on any batch. */
const SIZE_LIMITS: Record<keyof SudoRmRfConfig, [number, number]> = {
  nSources: [2, 8], nBlocks: [1, 64], upsamplingDepth: [1, 8], encBasis: [2, 4096], encKernel: [3, 1023],
  bottleneck: [1, 2048], hidden: [1, 4096], dwKernel: [1, 63],
};
const size = (key: keyof SudoRmRfConfig) => number({ integer: true, min: SIZE_LIMITS[key][0], max: SIZE_LIMITS[key][1] }).optional();
const int = (min: number, max?: number) => number({ integer: true, min, ...(max === undefined ? {} : { max }) });
/** A folder (`~` names the home folder: config files and text fields get no shell to expand it). */
const folder = text().transform(expandHome);
/** A custom message for a value of the wrong type only (fields and checks keep their own). */
const typeError = (message: string) => (issue: z.core.$ZodRawIssue) => (issue.code === 'invalid_type' ? got(message)(issue) : undefined);

const MODEL = fields({
  preset: z.enum(Object.keys(PRESETS) as [PresetName, ...PresetName[]]).optional(),
  overrides: fields({
    nSources: size('nSources'), nBlocks: size('nBlocks'), upsamplingDepth: size('upsamplingDepth'), encBasis: size('encBasis'),
    encKernel: size('encKernel'), bottleneck: size('bottleneck'), hidden: size('hidden'), dwKernel: size('dwKernel'),
  }).optional(),
  /** A saved model to go on training. */
  from: folder.optional(),
  /** Deepen it to that many blocks first (see deepen.ts). */
  blocks: size('nBlocks'),
}).check((ctx) => {
  const m = ctx.value;
  if (m.blocks !== undefined && m.from === undefined) problem(ctx, ['blocks'], 'deepens a saved model: it needs "from"');
  if (m.from !== undefined && (m.preset !== undefined || m.overrides !== undefined)) {
    problem(ctx, [], 'takes either "from" (a saved model to fine-tune) or "preset"/"overrides", not both');
  }
}).transform((m): { preset: PresetName; overrides: Partial<SudoRmRfConfig> } | { from: string; blocks?: number } => (m.from !== undefined
  ? { from: m.from, ...(m.blocks === undefined ? {} : { blocks: m.blocks }) }
  : { preset: m.preset ?? '0.25x', overrides: m.overrides ?? {} }));

const probability = (fallback: number) => number({ min: 0, max: 1 }).default(fallback);
const pair = (lo: number, hi: number, fallback: readonly [number, number], integer = false) => range(lo, hi, integer).default((): [number, number] => [fallback[0], fallback[1]]);
const D = DEFAULT_AUGMENT;

/** Per-source augmentation: every field is optional, `{}` is DEFAULT_AUGMENT. */
const AUGMENT: z.ZodType<AugmentConfig, unknown> = fields({
  eq: probability(D.eq), eqDb: number({ min: 0, max: 24 }).default(D.eqDb),
  bandLimit: probability(D.bandLimit),
  codec: probability(D.codec),
  reverb: probability(D.reverb), reverbSeconds: pair(0.05, 3, D.reverbSeconds), reverbDrrDb: pair(-20, 40, D.reverbDrrDb),
  speed: probability(D.speed), speedRange: pair(0.5, 2, D.speedRange),
  pause: probability(D.pause), pauseFraction: pair(0, 0.9, D.pauseFraction),
  envLayers: pair(0, 4, D.envLayers, true), layerGainDb: pair(-40, 10, D.layerGainDb),
  bed: probability(D.bed), bedGainDb: pair(-40, 10, D.bedGainDb),
  runs: probability(D.runs),
  absentSpeech: probability(D.absentSpeech), absentEnv: probability(D.absentEnv),
}).refine((a) => a.absentSpeech + a.absentEnv <= 1, { message: 'must have absentSpeech + absentEnv <= 1' });

const DATA = fields({
  /** Built-in real-recordings corpus package set, or none when only user folders are used. */
  corpus: z.enum(Object.keys(PACKAGE_SETS) as [PackageSet, ...PackageSet[]]).nullable().default('full'),
  /** Corpus cache folder; the default cache when null. */
  cacheDir: folder.nullish().transform((f) => f ?? null),
  /**
   * User data: folders of speech and of environmental sound, flat or with sub-folders (speakers for
   * speech, labels for env).
   */
  speechDirs: z.array(folder, { error: got('must be an array of folder paths') }).default(() => []),
  envDirs: z.array(folder, { error: got('must be an array of folder paths') }).default(() => []),
  /** ESC-50 layout (audio/ + meta/esc50.csv): environmental sound. */
  esc50: folder.nullish().transform((f) => f ?? null),
  segmentSeconds: TRAIN_FIELDS.segmentSeconds.default(4),
  snrDb: z.custom<[number, number]>(
    (v) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && v[0] <= v[1],
    { error: got('must be [low, high] in dB with low <= high', (v) => JSON.stringify(v)) },
  ).transform(([low, high]): [number, number] => [low, high]).default((): [number, number] => [-5, 5]),
  /** Prior of each mixture type (normalised). */
  mixtureTypes: fields(Object.fromEntries(MIXTURE_TYPES.map((t) => [t, number({ min: 0 }).optional()])) as Record<MixtureType, z.ZodOptional<z.ZodNumber>>)
    .check((ctx) => {
      if (Object.values(ctx.value).every((w) => !w)) problem(ctx, [], 'must give at least one mixture type a prior > 0');
    })
    .transform((priors): Partial<Record<MixtureType, number>> => priors)
    .default(() => ({ 'speech+env': 1 })),
  /** Per-source augmentation; null: plain crops. `{}` gives DEFAULT_AUGMENT. */
  augment: AUGMENT.nullish().transform((a) => a ?? null),
}).check((ctx) => {
  const d = ctx.value;
  if (d.corpus === null && d.speechDirs.length + d.envDirs.length === 0 && !d.esc50) {
    problem(ctx, [], 'has no audio: set "corpus" or give speechDirs / envDirs / esc50');
  }
});

export type DataConfig = z.output<typeof DATA>;

const SCHEDULE_FORMS = 'must be "constant", { "halveEvery": N } or { "plateau": { "patience": N } }';
/** "constant" (the default), { "halveEvery": N } or { "plateau": { "patience": N } }. */
const SCHEDULE = z.preprocess((v) => (v === 'constant' ? undefined : v), fields({
  halveEvery: int(1).optional(),
  plateau: fields({ patience: int(1).default(2) }).optional(),
}, { error: typeError(SCHEDULE_FORMS) }).check((ctx) => {
  const s = ctx.value;
  if (s.halveEvery !== undefined && s.plateau !== undefined) problem(ctx, [], 'takes "halveEvery" or "plateau", not both');
  else if (s.halveEvery === undefined && s.plateau === undefined) problem(ctx, [], SCHEDULE_FORMS);
}).optional().transform((s): LrSchedule => {
  if (s?.halveEvery !== undefined) return { kind: 'halve-every', epochs: s.halveEvery };
  if (s?.plateau !== undefined) return { kind: 'plateau', patience: s.plateau.patience };
  return { kind: 'constant' };
}));

const NAME = got("must be 1-64 letters, digits, '.', '_' or '-'");

/** The training config (JSON): every field is optional. */
const TRAIN_CONFIG = fields({
  name: z.string({ error: NAME }).regex(/^[\w.-]{1,64}$/, { error: NAME }).default('run'),
  seed: TRAIN_FIELDS.seed.default(0),
  /** Start from a preset (with optional size overrides) or fine-tune a saved model folder. */
  model: MODEL.prefault({}),
  data: DATA.prefault({}),
  batchSize: TRAIN_FIELDS.batchSize.default(4),
  epochs: TRAIN_FIELDS.epochs.default(10),
  stepsPerEpoch: TRAIN_FIELDS.stepsPerEpoch.default(200),
  optimizer: fields({
    lr: TRAIN_FIELDS.lr.default(1e-3),
    clipNorm: number({ above: 0 }).default(5),
    schedule: SCHEDULE,
  }).prefault({}),
  /** Absent: no reweighting (the plain mean). */
  reweighting: REWEIGHT_CONFIG.prefault([]),
  validation: fields({
    mixtures: int(1, 100_000).default(64),
    batchSize: TRAIN_FIELDS.batchSize.default(8),
    seed: TRAIN_FIELDS.seed.default(1234),
  }).prefault({}),
  /** Consecutive non-finite steps after which training rolls back to the last good checkpoint. */
  rollbackAfter: int(1).default(3),
  /**
   * How the loss pairs outputs with sources: 'fixed' scores output s against source s in mixtures
   * of different classes (stems named by what they hold, speech first) and uses PIT only within a
   * class; 'pit' searches every mixture's best permutation.
   */
  slots: z.enum(['fixed', 'pit'] as const satisfies readonly SlotAssignment[]).default('fixed'),
  /**
   * Score the outputs after the mixture-consistency projection that separation applies, i.e. the
   * stems users get (core/losses/consistency.ts); per-source weights then weigh those stems.
   */
  mixtureConsistency: z.boolean().default(false),
});

export type TrainConfig = z.output<typeof TRAIN_CONFIG>;

// Activations kept during a training step, with per-block checkpointing: one block's tape
// (about 28 tensors of [rows, hidden]), every block's input [rows, bottleneck], and the encoder's
// and masks' tensors (a few of [rows, encBasis] per source). Past MAX_STEP_BYTES the wasm heap (4 GiB,
// shared with the weights and Adam's moments) runs out mid-step.
const MAX_STEP_BYTES = 3 * 2 ** 30;

function stepBytes(c: SudoRmRfConfig, batchSize: number, segmentSeconds: number): number {
  const rows = batchSize * Math.ceil((segmentSeconds * MODEL_RATE) / encoderStride(c));
  return 4 * rows * (28 * c.hidden + c.nBlocks * c.bottleneck + (4 + 3 * c.nSources) * c.encBasis);
}

/** Validates a training config from JSON; throws ConfigError listing every bad field. */
export function parseTrainConfig(raw: unknown): TrainConfig {
  const config = parseWith(TRAIN_CONFIG, raw, { root: 'config' });
  const augment = config.data.augment;
  if (augment && augment.absentSpeech + augment.absentEnv > 0 && config.slots !== 'fixed') {
    // A silent target names its slot; with a permutation search there is no slot to keep silent.
    throw new ConfigError([{ path: 'data.augment', message: 'needs slots "fixed" for absentSpeech and absentEnv' }]);
  }
  if ('preset' in config.model) {
    const bytes = stepBytes(presetModelConfig(config.model), config.batchSize, config.data.segmentSeconds);
    if (bytes > MAX_STEP_BYTES) {
      throw new ConfigError([{ path: 'batchSize', message: `${config.batchSize} x ${config.data.segmentSeconds} s with this model needs about ${(bytes / 2 ** 30).toFixed(1)} GiB of activations per step, over the ${MAX_STEP_BYTES / 2 ** 30} GiB that fit: lower batchSize, data.segmentSeconds or the model size` }]);
    }
  }
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
