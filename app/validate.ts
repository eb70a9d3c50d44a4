// Input validation for every channel of the contract. Main and the server both run it on what
// arrives from the renderer before anything reaches the engine: the renderer is not trusted.
import type { ArgsOf, Channel, ReweightTerm, SoundClass, TrainData } from './contract';
import { parseReweightConfig, ReweightConfigError } from '../core/reweighting';
import { AUDIO_FORMATS, TRAIN_LIMITS } from '../core/types';

export class BadRequest extends Error {
  readonly code = 'bad-request';
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new BadRequest(`${what} must be an object`);
  return v as Obj;
}

function str(o: Obj, k: string, opts: { optional?: boolean; max?: number } = {}): string | undefined {
  const v = o[k];
  if (v === undefined && opts.optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new BadRequest(`${k} must be a non-empty string`);
  if (v.length > (opts.max ?? 4096) || v.includes('\0')) throw new BadRequest(`${k} is too long or has a NUL byte`);
  return v;
}

function num(o: Obj, k: string, min: number, max: number, opts: { int?: boolean } = {}): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (opts.int && !Number.isInteger(v))) {
    throw new BadRequest(`${k} must be a${opts.int ? 'n integer' : ' number'} in [${min}, ${max}]`);
  }
  return v;
}

function oneOf<T extends string>(o: Obj, k: string, values: readonly T[], optional = false): T | undefined {
  const v = o[k];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new BadRequest(`${k} must be one of ${values.join(', ')}`);
  return v as T;
}

function noExtra(o: Obj, keys: string[], what: string): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length) throw new BadRequest(`${what}: unexpected field ${extra.join(', ')}`);
}

const CLASSES: readonly SoundClass[] = ['speech', 'env'];
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const UUID = /^[0-9a-f-]{36}$/;

function id(o: Obj, k: string, re = ID): string {
  const v = str(o, k, { max: 64 })!;
  if (!re.test(v)) throw new BadRequest(`${k} is not a valid id`);
  return v;
}

function inputRef(v: unknown): void {
  const o = obj(v, 'input');
  const kind = oneOf(o, 'kind', ['path', 'upload'] as const);
  if (kind === 'path') {
    noExtra(o, ['kind', 'path'], 'input');
    str(o, 'path');
  } else {
    noExtra(o, ['kind', 'id', 'name'], 'input');
    id(o, 'id', UUID);
    str(o, 'name', { max: 255 });
  }
}

function reweighting(v: unknown): ReweightTerm[] {
  if (!Array.isArray(v) || v.length > 8) throw new BadRequest('reweighting must be a list of at most 8 terms');
  try {
    parseReweightConfig(v, 'reweighting');
  } catch (e) {
    if (e instanceof ReweightConfigError) throw new BadRequest(e.message);
    throw e;
  }
  return v as ReweightTerm[];
}

/** `bothClasses`: a run needs speech and env folders; a data check reports what is missing instead. */
function trainData(v: unknown, bothClasses = true): TrainData {
  const o = obj(v, 'data');
  const kind = oneOf(o, 'kind', ['corpus', 'folders'] as const);
  if (kind === 'corpus') {
    noExtra(o, ['kind'], 'data');
    return { kind };
  }
  noExtra(o, ['kind', 'folders'], 'data');
  if (!Array.isArray(o.folders) || o.folders.length === 0 || o.folders.length > 256) throw new BadRequest('data.folders must list 1 to 256 folders');
  for (const f of o.folders) {
    const fo = obj(f, 'folder');
    noExtra(fo, ['path', 'class'], 'folder');
    str(fo, 'path');
    oneOf(fo, 'class', CLASSES);
  }
  const classes = new Set((o.folders as { class: SoundClass }[]).map((f) => f.class));
  if (bothClasses && (!classes.has('speech') || !classes.has('env'))) throw new BadRequest('data.folders needs at least one speech folder and one env folder');
  return o as unknown as TrainData;
}

const EMPTY = (v: unknown, c: string) => noExtra(obj(v, c), [], c);

const validators: { [C in Channel]: (v: unknown) => void } = {
  'app:info': (v) => EMPTY(v, 'app:info'),
  'backend:describe': (v) => EMPTY(v, 'backend:describe'),
  'separate:start': (v) => {
    const o = obj(v, 'separate');
    noExtra(o, ['input', 'modelId'], 'separate');
    inputRef(o.input);
    if (o.modelId !== undefined) id(o, 'modelId');
  },
  'separate:export': (v) => {
    const o = obj(v, 'export');
    noExtra(o, ['resultId', 'stems', 'format', 'rate', 'outDir', 'overwrite', 'keepBoth', 'mix'], 'export');
    id(o, 'resultId', UUID);
    if (!Array.isArray(o.stems) || o.stems.length > 16 || !o.stems.every((s) => typeof s === 'string' && ID.test(s))) {
      throw new BadRequest('stems must be a list of stem names');
    }
    oneOf(o, 'format', AUDIO_FORMATS);
    oneOf(o, 'rate', ['model', 'input'] as const);
    str(o, 'outDir', { optional: true });
    if (o.overwrite !== undefined && typeof o.overwrite !== 'boolean') throw new BadRequest('overwrite must be true or false');
    if (o.keepBoth !== undefined && typeof o.keepBoth !== 'boolean') throw new BadRequest('keepBoth must be true or false');
    if (o.mix !== undefined) {
      const mix = obj(o.mix, 'mix');
      const stems = Object.keys(mix);
      if (!stems.length || stems.length > 16 || !stems.every((s) => ID.test(s))) throw new BadRequest('mix must map stem names to gains');
      for (const s of stems) num(mix, s, 0, 4);
    }
  },
  'separate:discard': (v) => {
    const o = obj(v, 'discard');
    noExtra(o, ['resultId'], 'discard');
    id(o, 'resultId', UUID);
  },
  'job:cancel': (v) => jobOnly(v),
  'train:check': (v) => {
    const o = obj(v, 'check');
    noExtra(o, ['data'], 'check');
    trainData(o.data, false);
  },
  'train:start': (v) => {
    const o = obj(v, 'train');
    noExtra(o, ['name', 'baseModelId', 'data', 'reweighting', 'steps', 'batchSize', 'segmentSec', 'lr', 'seed', 'validateEvery', 'download'], 'train');
    if (o.download !== undefined && typeof o.download !== 'boolean') throw new BadRequest('download must be true or false');
    str(o, 'name', { max: 64 });
    id(o, 'baseModelId');
    trainData(o.data);
    reweighting(o.reweighting);
    num(o, 'steps', 1, 1e7, { int: true });
    num(o, 'batchSize', TRAIN_LIMITS.batchSize.min, TRAIN_LIMITS.batchSize.max, { int: true });
    num(o, 'segmentSec', TRAIN_LIMITS.segmentSeconds.min, TRAIN_LIMITS.segmentSeconds.max);
    num(o, 'lr', 1e-7, 1);
    num(o, 'seed', 0, 2 ** 31, { int: true });
    num(o, 'validateEvery', 1, 1e7, { int: true });
  },
  'train:continue': (v) => {
    const o = obj(v, 'continue');
    noExtra(o, ['modelId'], 'continue');
    id(o, 'modelId');
  },
  'train:pause': (v) => jobOnly(v),
  'train:resume': (v) => jobOnly(v),
  'train:cancel': (v) => jobOnly(v),
  'train:preview-weights': (v) => {
    const o = obj(v, 'preview');
    noExtra(o, ['reweighting', 'step', 'totalSteps'], 'preview');
    reweighting(o.reweighting);
    num(o, 'totalSteps', 1, 1e7, { int: true });
    num(o, 'step', 0, o.totalSteps as number, { int: true });
  },
  'models:list': (v) => EMPTY(v, 'models:list'),
  'models:rename': (v) => {
    const o = obj(v, 'rename');
    noExtra(o, ['id', 'name'], 'rename');
    id(o, 'id');
    str(o, 'name', { max: 80 });
  },
  'models:delete': (v) => modelOnly(v),
  'models:activate': (v) => {
    const o = obj(v, 'activate');
    noExtra(o, ['id', 'checkpoint'], 'activate');
    id(o, 'id');
    oneOf(o, 'checkpoint', ['best', 'last'] as const, true);
  },
  'models:import': (v) => {
    const o = obj(v, 'import');
    noExtra(o, ['path'], 'import');
    str(o, 'path', { optional: true });
  },
  'models:export': (v) => {
    const o = obj(v, 'export');
    noExtra(o, ['id', 'destDir'], 'export');
    id(o, 'id');
    str(o, 'destDir', { optional: true });
  },
  'files:recent': (v) => EMPTY(v, 'files:recent'),
  'jobs:list': (v) => EMPTY(v, 'jobs:list'),
  'dialog:open-audio': (v) => EMPTY(v, 'dialog:open-audio'),
  'dialog:open-folder': (v) => EMPTY(v, 'dialog:open-folder'),
};

function jobOnly(v: unknown): void {
  const o = obj(v, 'job');
  noExtra(o, ['jobId'], 'job');
  id(o, 'jobId', UUID);
}

function modelOnly(v: unknown): void {
  const o = obj(v, 'model');
  noExtra(o, ['id'], 'model');
  id(o, 'id');
}

/** Throws BadRequest with a readable reason unless `args` is valid for `channel`. */
export function validateArgs<C extends Channel>(channel: C, args: unknown): ArgsOf<C> {
  validators[channel](args);
  return (args ?? {}) as ArgsOf<C>;
}
