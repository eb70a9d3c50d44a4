// Stem names: they become parts of file names, so every name a model or a caller gives is checked
// here. Kept free of tensors and audio I/O so that the models list can use it too.

import type { BlendWeight, DenoiserBlend } from './defaults';

/** Bad mixture or options; `code` matches the engine's error codes. */
export class SeparationInputError extends Error {
  readonly code = 'bad-input';
  constructor(message: string) {
    super(message);
    this.name = 'SeparationInputError';
  }
}

/** A separation option that does not fit the model or its range: the input file is not at fault. */
export class SeparationOptionError extends Error {
  readonly code = 'bad-option';
  constructor(message: string) {
    super(message);
    this.name = 'SeparationOptionError';
  }
}

/** Names used when the model's metadata gives none: source1, source2, ... */
export function defaultStemNames(nSources: number): string[] {
  return Array.from({ length: nSources }, (_, i) => `source${i + 1}`);
}

// Stem names become part of file names: keep them to one safe path component (the app's requests name
// stems by the same rule, app/validate.ts).
export const STEM_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export function validateStemNames(names: readonly string[], nSources: number): void {
  if (names.length !== nSources) throw new SeparationInputError(`${names.length} stem names given for ${nSources} stems`);
  for (const n of names) {
    if (!STEM_NAME.test(n)) throw new SeparationInputError(`stem name "${n}" must be letters, digits, '-' or '_' (it becomes part of a file name)`);
  }
  if (new Set(names).size !== names.length) throw new SeparationInputError(`stem names must be distinct, got ${names.join(', ')}`);
}

/**
 * The stem names a model's metadata gives (models trained with class-ordered outputs name them, e.g.
 * ["speech", "env"]), checked as above; null when it gives none (no `stems`, or null: a checkpoint
 * whose outputs took no class). `stems` is metadata.stems as saved. The only reader of it: the app,
 * the CLI, the models list and evaluation all read stem names here.
 */
export function metadataStems(stems: unknown, nSources: number): string[] | null {
  if (stems === undefined || stems === null) return null;
  if (!Array.isArray(stems) || !stems.every((n): n is string => typeof n === 'string')) {
    throw new SeparationInputError(`the model's metadata.stems must be a list of names (got ${JSON.stringify(stems)})`);
  }
  validateStemNames(stems, nSources);
  return [...stems];
}

/** Whether the RNNoise blend fits a model: two stems in fixed slots (which one is speech is the stems' names). */
export function blendFitsModel(nSources: number, fixedSlots: boolean): boolean {
  return nSources === 2 && fixedSlots;
}

/**
 * SeparateOptions.denoiserBlend for a model whose own stems (model.json) are `stemNames`; null for a
 * share of 0 (no blend). 'auto' (the default) is the blend where it fits (blendFitsModel, a stem named
 * speech) and none elsewhere; a fixed share is given as asked, and separation refuses it on a model it
 * does not fit (checkBlend).
 */
export function denoiserBlendFor(weight: BlendWeight, stemNames: readonly string[], fixedSlots: boolean): DenoiserBlend | null {
  if (weight === 0) return null;
  const speechSlot = stemNames.indexOf('speech');
  if (weight === 'auto' && !(speechSlot >= 0 && blendFitsModel(stemNames.length, fixedSlots))) return null;
  if (speechSlot < 0) throw new SeparationOptionError(`Blending RNNoise into the speech stem needs a stem named speech; this model's stems are ${stemNames.join(', ')}`);
  return { weight, speechSlot };
}

/** The stems a model separates into, by name: its metadata's (metadataStems), else source1, source2, ... */
export function stemNamesOf(metadata: Record<string, unknown> | undefined, nSources: number): string[] {
  return metadataStems(metadata?.stems, nSources) ?? defaultStemNames(nSources);
}
