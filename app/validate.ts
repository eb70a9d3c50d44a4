// Input validation for every channel of the contract. Main and the server both run it on what
// arrives from the renderer before anything reaches the engine: the renderer is not trusted.
// One zod schema per channel, built from core's limits and schemas, so a request is held to the same
// rules as `tilt train`'s config; every bad field is named with its path (core/schema.ts). The
// requests outside the channels that name a stem file (the desktop drag, serve mode's stem download)
// are held here to separate:export's rules too.
import { z } from 'zod';
import { DESKTOP_CHANNELS, type ArgsOf, type Channel, type StemDrag } from './contract';
import { REWEIGHT_TERM } from '../core/reweighting';
import { STEM_NAME } from '../core/separate/stems';
import { WINDOW_SECONDS_RANGE } from '../core/separate/defaults';
import { ConfigError, fields, got, number, parseWith, problem, text, TRAIN_FIELDS, type ConfigIssue } from '../core/schema';
import { AUDIO_FORMATS, SOUND_CLASSES, TRAIN_LIMITS } from '../core/types';

export class BadRequest extends ConfigError {
  readonly code = 'bad-request';

  constructor(issues: ConfigIssue[]) {
    super(issues);
    this.name = 'BadRequest';
  }
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const UUID = /^[0-9a-f-]{36}$/;

/** A path or name on the engine's machine: no NUL byte, which would cut it short. */
const path = (max = 4096) => text(max).regex(/^[^\0]*$/, { error: 'must not contain a NUL byte' });
const id = (re = ID) => z.string({ error: got('is not a valid id') }).regex(re, { error: got('is not a valid id') });
const stem = z.string({ error: got('is not a valid stem name') }).max(64).regex(STEM_NAME, { error: got('is not a valid stem name') });

/**
 * A stem file of a result: which result, which stem, in which format, at which rate. Every request
 * that names one is held to it: separate:export (with a list of `stems`), a stem's drag out of the
 * desktop window (STEM_DRAG) and serve mode's stem download (server/server.ts, validateStemFile).
 */
const STEM_FILE = fields({
  resultId: id(UUID),
  stem,
  format: z.enum(AUDIO_FORMATS),
  rate: z.enum(['model', 'input']),
});

/** DESKTOP_CHANNELS.stemDrag's arguments: the stem file, and whether to begin the system's drag of it. */
const STEM_DRAG = STEM_FILE.extend({ start: z.boolean() });

const INPUT = z.discriminatedUnion('kind', [
  fields({ kind: z.literal('path'), path: path() }),
  fields({ kind: z.literal('upload'), id: id(UUID), name: path(255) }),
]);

const FOLDERS = z.array(fields({ path: path(), class: z.enum(SOUND_CLASSES) }))
  .check((ctx) => {
    if (ctx.value.length < 1 || ctx.value.length > 256) problem(ctx, [], `must list 1 to 256 folders (got ${ctx.value.length})`);
  });
const TRAIN_DATA = z.discriminatedUnion('kind', [fields({ kind: z.literal('corpus') }), fields({ kind: z.literal('folders'), folders: FOLDERS })]);
/** A run needs speech and env folders (a data check reports what is missing instead). */
const RUN_DATA = TRAIN_DATA.check((ctx) => {
  if (ctx.value.kind !== 'folders') return;
  const classes = new Set(ctx.value.folders.map((f) => f.class));
  if (!classes.has('speech') || !classes.has('env')) problem(ctx, ['folders'], 'needs at least one speech folder and one env folder');
});

/** The terms of a run or a preview (the granularity follows from them, core/engine/training.ts). */
const REWEIGHTING = z.array(REWEIGHT_TERM).max(8, { error: (issue) => `must list at most 8 terms (got ${(issue.input as unknown[]).length})` });

const JOB = fields({ jobId: id(UUID) });
const EMPTY = fields({});

/**
 * One schema per channel (a Record over Channel: a channel missing here does not compile), whose
 * output is exactly the channel's argument type (checked below).
 */
const SCHEMAS = {
  'app:info': EMPTY,
  'backend:describe': EMPTY,
  'separate:start': fields({
    input: INPUT, modelId: id().optional(), windowSeconds: number({ min: WINDOW_SECONDS_RANGE[0], max: WINDOW_SECONDS_RANGE[1] }).optional(),
    rnnoiseBlend: z.union([z.literal('auto'), number({ min: 0, max: 1 })]).optional(),
    adapt: z.boolean().optional(),
  }),
  'separate:export': STEM_FILE.omit({ stem: true }).extend({
    stems: z.array(stem).max(16),
    outDir: path().optional(),
    overwrite: z.boolean().optional(),
    keepBoth: z.boolean().optional(),
    mix: z.record(stem, number({ min: 0, max: 4 })).check((ctx) => {
      const n = Object.keys(ctx.value).length;
      if (n < 1 || n > 16) problem(ctx, [], `must map 1 to 16 stem names to gains (got ${n})`);
    }).optional(),
  }),
  'separate:discard': fields({ resultId: id(UUID) }),
  'job:cancel': JOB,
  'train:check': fields({ data: TRAIN_DATA }),
  'train:start': fields({
    name: path(64),
    baseModelId: id(),
    data: RUN_DATA,
    reweighting: REWEIGHTING,
    steps: TRAIN_FIELDS.steps,
    batchSize: TRAIN_FIELDS.batchSize,
    segmentSec: TRAIN_FIELDS.segmentSeconds,
    lr: TRAIN_FIELDS.lr,
    seed: TRAIN_FIELDS.seed,
    /** Becomes the run's stepsPerEpoch (at most `steps`), and steps / validateEvery its epochs. */
    validateEvery: TRAIN_FIELDS.stepsPerEpoch,
    download: z.boolean().optional(),
  }).check((ctx) => {
    const { steps, validateEvery } = ctx.value;
    const least = Math.ceil(steps / TRAIN_LIMITS.epochs.max);
    if (Math.ceil(steps / Math.min(validateEvery, steps)) > TRAIN_LIMITS.epochs.max) {
      problem(ctx, ['validateEvery'], `must be >= ${least} for ${steps} steps: a run validates at most ${TRAIN_LIMITS.epochs.max} times (got ${validateEvery})`);
    }
  }),
  'train:continue': fields({ modelId: id() }),
  'train:pause': JOB,
  'train:resume': JOB,
  'train:cancel': JOB,
  'train:preview-weights': fields({
    reweighting: REWEIGHTING,
    step: number({ integer: true, min: 0 }),
    totalSteps: TRAIN_FIELDS.steps,
  }).check((ctx) => {
    if (ctx.value.step > ctx.value.totalSteps) problem(ctx, ['step'], `must be <= totalSteps (${ctx.value.totalSteps}) (got ${ctx.value.step})`);
  }),
  'models:list': EMPTY,
  'models:rename': fields({ id: id(), name: path(80) }),
  'models:delete': fields({ id: id() }),
  'models:activate': fields({ id: id(), checkpoint: z.enum(['best', 'last']).optional() }),
  'models:import': fields({ path: path().optional() }),
  'models:export': fields({ id: id(), destDir: path().optional() }),
  'files:recent': EMPTY,
  'jobs:list': EMPTY,
  'dialog:open-audio': EMPTY,
  'dialog:open-folder': EMPTY,
} satisfies { [C in Channel]: z.ZodType<ArgsOf<C>, unknown> };

/** Compile-time: a field the contract has and a schema lacks (or the other way) fails to build. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const _exact: { [C in Channel]: true } = {} as { [C in Channel]: Same<z.output<(typeof SCHEMAS)[C]>, ArgsOf<C>> };
const _stemFile: Same<z.output<typeof STEM_FILE>, StemDrag> = true;
const _stemDrag: Same<z.output<typeof STEM_DRAG>, { [K in keyof StemDrag | 'start']: (StemDrag & { start: boolean })[K] }> = true;

/** Throws BadRequest naming every bad field unless `args` is valid for `channel`. */
export function validateArgs<C extends Channel>(channel: C, args: unknown): ArgsOf<C> {
  return parseWith(SCHEMAS[channel], args, { root: channel }, BadRequest) as ArgsOf<C>;
}

/**
 * Throws BadRequest naming every bad field unless `args` names a stem file of a result (STEM_FILE);
 * `root` names the request in a problem with the value itself.
 */
export function validateStemFile(args: unknown, root: string): StemDrag {
  return parseWith(STEM_FILE, args, { root }, BadRequest);
}

/** Throws BadRequest naming every bad field unless `args` are a stem drag's (DESKTOP_CHANNELS.stemDrag). */
export function validateStemDrag(args: unknown): StemDrag & { start: boolean } {
  return parseWith(STEM_DRAG, args, { root: DESKTOP_CHANNELS.stemDrag }, BadRequest);
}
