// Sudo rm -rf (Tzinis, Wang, Smaragdis, MLSP 2020), faithful to etzinis/sudo_rm_rf's sudormrf.py:
// encoder conv (kernel 21, stride 10, 512 bases) + ReLU, gLN + 1x1 bottleneck, U-ConvBlocks, 1x1 back
// to the bases, a (bases+1, 1) Conv2d mask per source with softmax across sources, and a grouped
// transposed-conv decoder. Layout inside is [batch, time, channels]; see ops.ts for why.
import { tf } from '../tf';
import type { Tensor, Tensor2D, Tensor3D, Tensor4D, Variable } from '../tf';
import type { Separator } from './types';
import { initTensor, seededRandom } from './init';
import { normSpecs, pointwiseSpecs, uConvBlock, uConvSpecs, type ParamSpec } from './blocks';
import { applyMasks, bandMatrix, blockDiagonal, checkpoint, frames, globalLayerNorm, linear, matMul, overlapAdd, pointwise } from './ops';

export interface SudoRmRfConfig {
  nSources: number;
  nBlocks: number;
  upsamplingDepth: number;
  /** Encoder bases (output channels of the encoder conv); even. */
  encBasis: number;
  /** Encoder kernel (odd); stride and padding are (kernel - 1) / 2, as kernel // 2 in the original. */
  encKernel: number;
  /** Channels between blocks. */
  bottleneck: number;
  /** Channels inside each U-ConvBlock. */
  hidden: number;
  /** Depthwise kernel (odd). */
  dwKernel: number;
}

const BASE: SudoRmRfConfig = {
  nSources: 2,
  nBlocks: 16,
  upsamplingDepth: 5,
  encBasis: 512,
  encKernel: 21,
  bottleneck: 128,
  hidden: 512,
  dwKernel: 5,
};

export type PresetName = '1.0x' | '0.5x' | '0.25x';

export const PRESETS: Readonly<Record<PresetName, Readonly<SudoRmRfConfig>>> = {
  '1.0x': BASE,
  '0.5x': { ...BASE, nBlocks: 8 },
  '0.25x': { ...BASE, nBlocks: 4 },
};

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function encoderStride(c: SudoRmRfConfig): number {
  return (c.encKernel - 1) / 2;
}

/** Inputs are zero-padded to a multiple of this many samples (as in the original). */
export function lengthMultiple(c: SudoRmRfConfig): number {
  const a = encoderStride(c);
  const b = 2 ** c.upsamplingDepth;
  return (a * b) / gcd(a, b);
}

export function validateConfig(c: SudoRmRfConfig): void {
  const positive: (keyof SudoRmRfConfig)[] = ['nSources', 'nBlocks', 'upsamplingDepth', 'encBasis', 'bottleneck', 'hidden', 'dwKernel'];
  for (const k of positive) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`SudoRmRfConfig.${k} must be a positive integer, got ${c[k]}`);
  }
  if (!Number.isInteger(c.encKernel) || c.encKernel < 3 || c.encKernel % 2 === 0) {
    throw new Error(`SudoRmRfConfig.encKernel must be an odd integer >= 3, got ${c.encKernel}`);
  }
  if (c.dwKernel % 2 === 0) throw new Error(`SudoRmRfConfig.dwKernel must be odd, got ${c.dwKernel}`);
  if (c.encBasis % 2 !== 0) throw new Error(`SudoRmRfConfig.encBasis must be even (mask kernel encBasis+1), got ${c.encBasis}`);
}

/** Every parameter of the model, in creation (and initialisation) order. */
export function parameterSpecs(c: SudoRmRfConfig): ParamSpec[] {
  const kernel = c.encKernel;
  const specs: ParamSpec[] = [
    // Encoder conv weights [kernel, bases] (PyTorch [bases, 1, kernel]).
    { name: 'encoder/weight', shape: [kernel, c.encBasis], init: { kind: 'uniform', fanIn: kernel } },
    { name: 'encoder/bias', shape: [c.encBasis], init: { kind: 'uniform', fanIn: kernel } },
    ...normSpecs('ln', c.encBasis),
    ...pointwiseSpecs('l1', c.encBasis, c.bottleneck),
  ];
  const block = { bottleneck: c.bottleneck, hidden: c.hidden, depth: c.upsamplingDepth, kernel: c.dwKernel };
  for (let i = 0; i < c.nBlocks; i++) specs.push(...uConvSpecs(`blocks/${i}`, block));
  specs.push(
    ...pointwiseSpecs('masks/reshape', c.bottleneck, c.encBasis),
    // Mask Conv2d(1, nSrc, (bases+1, 1)) weights [nSrc, bases+1] and bias [nSrc].
    { name: 'masks/weight', shape: [c.nSources, c.encBasis + 1], init: { kind: 'uniform', fanIn: c.encBasis + 1 } },
    { name: 'masks/bias', shape: [c.nSources], init: { kind: 'uniform', fanIn: c.encBasis + 1 } },
    // Decoder ConvTranspose1d(nSrc*bases -> nSrc, groups nSrc) weights [nSrc, bases, kernel]
    // (PyTorch [nSrc*bases, 1, kernel], whose fan-in is 1*kernel).
    { name: 'decoder/weight', shape: [c.nSources, c.encBasis, kernel], init: { kind: 'uniform', fanIn: kernel } },
    // SI-SDR ignores constant offsets, so the decoder bias has no true gradient: trained, it would only
    // random-walk (Adam scales rounding noise up to the learning rate) and add a DC offset to every
    // stem, several times the signal at the model's input level. It stays zero (kept for the layout).
    { name: 'decoder/bias', shape: [c.nSources], init: { kind: 'constant', value: 0 }, frozen: true },
  );
  return specs;
}

export function countParameters(c: SudoRmRfConfig): number {
  return parameterSpecs(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

function uniqueScope(base: string): string {
  const taken = tf.engine().registeredVariables;
  const used = (scope: string) => Object.keys(taken).some((n) => n.startsWith(`${scope}/`));
  if (!used(base)) return base;
  let i = 2;
  while (used(`${base}_${i}`)) i++;
  return `${base}_${i}`;
}

/**
 * Measured on wasm: a block's tape holds about 26 tensors of [rows, hidden] float32 (0.25x, batch 4
 * x 1 s: 1.1 GB peak without checkpointing, 0.44 GB with). Past this budget the tape would crowd the
 * wasm backend's 4 GiB heap, so the blocks are checkpointed; below it, keeping the tape saves the
 * recomputation (about a fifth of a training step).
 */
const TAPE_BUDGET_BYTES = 2 ** 30;
const TAPE_TENSORS_PER_BLOCK = 28;

/** Whether the blocks' intermediates for `rows` = batch * frames would exceed the tape budget. */
export function needsCheckpointing(c: SudoRmRfConfig, rows: number): boolean {
  return c.nBlocks * TAPE_TENSORS_PER_BLOCK * rows * c.hidden * 4 > TAPE_BUDGET_BYTES;
}

export class SudoRmRf implements Separator {
  readonly config: Readonly<SudoRmRfConfig>;
  readonly nSources: number;
  /** Prefix of every tfjs variable name of this instance (unique among live variables). */
  readonly scope: string;
  readonly variables: readonly Variable[];
  /** The variables training updates, in `variables` order (all but the frozen decoder bias). */
  readonly trainableVariables: readonly Variable[];
  /** Scope-free, stable weight names, in `variables` order (save/load keys). */
  readonly weightNames: readonly string[];
  /**
   * Recompute each block's forward in the backward pass instead of keeping its intermediates.
   * 'auto': only when the blocks' tape would not fit comfortably in memory (`needsCheckpointing`).
   */
  gradientCheckpointing: boolean | 'auto' = 'auto';
  inputStd?: number;
  fixedSlots?: boolean;
  private readonly byName: Map<string, Variable>;
  private readonly blockParams: Variable[][];
  private disposed = false;

  constructor(config: SudoRmRfConfig, seed: number, scope = 'sudormrf') {
    validateConfig(config);
    this.config = Object.freeze({ ...config });
    this.nSources = config.nSources;
    this.scope = uniqueScope(scope);
    const rand = seededRandom(seed);
    const specs = parameterSpecs(config);
    this.byName = new Map();
    for (const s of specs) {
      const v = tf.tidy(() => tf.variable(initTensor(s.shape, s.init, rand), !s.frozen, `${this.scope}/${s.name}`));
      this.byName.set(s.name, v);
    }
    this.weightNames = specs.map((s) => s.name);
    this.variables = specs.map((s) => this.byName.get(s.name)!);
    this.trainableVariables = this.variables.filter((v) => v.trainable);
    this.blockParams = [];
    for (let i = 0; i < config.nBlocks; i++) {
      this.blockParams.push(this.variables.filter((_, j) => specs[j]!.name.startsWith(`blocks/${i}/`)));
    }
  }

  private p(name: string): Variable {
    return this.byName.get(name)!;
  }

  paramCount(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  /** mixture [batch, time] -> sources [batch, nSrc, time]; any time >= 1. */
  apply(mixture: Tensor2D): Tensor3D {
    const c = this.config;
    return tf.tidy(() => {
      const { s, h, batch, nFrames, length } = this.trunk(mixture, 'apply');
      const rows = batch * nFrames;
      const pre = linear(h.reshape([rows, c.bottleneck]), this.p('masks/reshape/weight') as Tensor2D, this.p('masks/reshape/bias'));
      // Mask conv over the bases axis as one banded matMul; columns ordered (basis, source).
      const logits = matMul(pre, bandMatrix(this.p('masks/weight') as Tensor2D, c.encBasis)).reshape([rows, c.encBasis, c.nSources]) as Tensor3D;
      const masked = applyMasks(logits, this.p('masks/bias'), s).reshape([rows, c.encBasis * c.nSources]);
      // Decoder: each source's bases times its kernels, then overlap-add = grouped ConvTranspose1d.
      const kernel = c.encKernel;
      const fr = matMul(masked, blockDiagonal(this.p('decoder/weight') as Tensor3D))
        .reshape([batch, nFrames, c.nSources, kernel])
        .transpose([0, 2, 1, 3]) as Tensor4D;
      const wave = tf.add(overlapAdd(fr, encoderStride(c)), this.p('decoder/bias').reshape([1, c.nSources, 1]));
      return wave.slice([0, 0, 0], [batch, c.nSources, length]) as Tensor3D;
    });
  }

  /** mixture [batch, time] -> the last block's output [batch, frames, bottleneck] (what the mask head reads). */
  blockOutput(mixture: Tensor2D): Tensor3D {
    return tf.tidy(() => this.trunk(mixture, 'blockOutput').h);
  }

  /** Encoder, bottleneck and blocks; call inside a tidy. */
  private trunk(mixture: Tensor2D, what: string): { s: Tensor2D; h: Tensor3D; batch: number; nFrames: number; length: number } {
    if (this.disposed) throw new Error(`SudoRmRf.${what}: the model was disposed`);
    if (mixture.rank !== 2) throw new Error(`SudoRmRf.${what} expects [batch, time], got shape [${mixture.shape.join(', ')}]`);
    const [batch, length] = mixture.shape;
    if (length < 1 || batch < 1) throw new Error(`SudoRmRf.${what}: empty input of shape [${batch}, ${length}]`);
    const c = this.config;
    const multiple = lengthMultiple(c);
    const padded = Math.ceil(length / multiple) * multiple;
    const x = tf.pad(mixture, [[0, 0], [0, padded - length]]);
    const stride = encoderStride(c);
    const nFrames = padded / stride;
    const rows = batch * nFrames;
    // Encoder: strided frames times the conv weights = Conv1d(1, bases, kernel, stride, padding).
    const s = tf.relu(linear(frames(x, stride), this.p('encoder/weight') as Tensor2D, this.p('encoder/bias'))) as Tensor2D; // [rows, bases]
    const normed = globalLayerNorm(s.reshape([batch, nFrames, c.encBasis]), this.p('ln/gamma'), this.p('ln/beta'));
    let h = pointwise(normed, this.p('l1/weight') as Tensor2D, this.p('l1/bias')); // [batch, frames, bottleneck]
    const depth = c.upsamplingDepth;
    const block = (input: Tensor3D, params: Tensor[]) => uConvBlock(input, params, depth);
    const checkpointed = this.gradientCheckpointing === 'auto' ? needsCheckpointing(c, rows) : this.gradientCheckpointing;
    for (const params of this.blockParams) {
      h = checkpointed ? checkpoint(block, h, params) : block(h, params);
    }
    return { s, h, batch, nFrames, length };
  }

  /** Stable name -> variable. */
  namedWeights(): Map<string, Variable> {
    return new Map(this.byName);
  }

  /** Copies weights in by stable name; every weight must be present with its shape. */
  setWeights(weights: ReadonlyMap<string, Tensor> | Record<string, Tensor>): void {
    const get = (n: string) => (weights instanceof Map ? weights.get(n) : (weights as Record<string, Tensor>)[n]);
    for (const [name, v] of this.byName) {
      const t = get(name);
      if (!t) throw new Error(`setWeights: missing weight "${name}"`);
      if (t.shape.join() !== v.shape.join()) {
        throw new Error(`setWeights: weight "${name}" has shape [${t.shape}], expected [${v.shape}]`);
      }
    }
    for (const [name, v] of this.byName) v.assign(get(name)!);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.variables) v.dispose();
  }
}

/** A Sudo rm -rf model with deterministic weights from `seed`. */
export function createSudoRmRf(config: SudoRmRfConfig, seed = 0, scope?: string): SudoRmRf {
  return new SudoRmRf(config, seed, scope);
}
