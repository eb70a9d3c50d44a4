// The U-ConvBlock of Sudo rm -rf (Tzinis et al., MLSP 2020; etzinis/sudo_rm_rf, sudormrf.py):
// 1x1 expansion + gLN + PReLU, a stride-1 depthwise conv and depth-1 stride-2 depthwise
// downsamplings (each + gLN), nearest x2 upsampling with additive merges from the deepest level up,
// gLN + PReLU, 1x1 back to the bottleneck + gLN, residual, then gLN + PReLU.
import type { Tensor, Tensor2D, Tensor3D } from '../tf';
import type { Init } from './init';
import { addUpsampled, depthwise, globalLayerNorm, pointwise, prelu } from './ops';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
  /** Left out of training (default: trained). */
  frozen?: true;
}

export interface UConvShape {
  /** Bottleneck channels (input and output of the block). */
  bottleneck: number;
  /** Channels inside the block. */
  hidden: number;
  depth: number;
  /** Depthwise kernel size (odd). */
  kernel: number;
}

const ONE: Init = { kind: 'constant', value: 1 };
const ZERO: Init = { kind: 'constant', value: 0 };
const PRELU: Init = { kind: 'constant', value: 0.25 };

export function normSpecs(prefix: string, ch: number): ParamSpec[] {
  return [
    { name: `${prefix}/gamma`, shape: [ch], init: ONE },
    { name: `${prefix}/beta`, shape: [ch], init: ZERO },
  ];
}

/** Weights of a 1x1 conv stored as [cIn, cOut] for an untransposed matMul. */
export function pointwiseSpecs(prefix: string, cIn: number, cOut: number): ParamSpec[] {
  return [
    { name: `${prefix}/weight`, shape: [cIn, cOut], init: { kind: 'uniform', fanIn: cIn } },
    { name: `${prefix}/bias`, shape: [cOut], init: { kind: 'uniform', fanIn: cIn } },
  ];
}

/** Parameter specs of one block, in the order `uConvBlock` consumes them. */
export function uConvSpecs(prefix: string, s: UConvShape): ParamSpec[] {
  const specs = [
    ...pointwiseSpecs(`${prefix}/proj`, s.bottleneck, s.hidden),
    ...normSpecs(`${prefix}/proj/norm`, s.hidden),
    { name: `${prefix}/proj/prelu`, shape: [s.hidden], init: PRELU },
  ];
  for (let k = 0; k < s.depth; k++) {
    specs.push(
      // Depthwise weights [kernel, ch]; fan-in of a depthwise conv is its kernel size.
      { name: `${prefix}/dw${k}/weight`, shape: [s.kernel, s.hidden], init: { kind: 'uniform', fanIn: s.kernel } },
      { name: `${prefix}/dw${k}/bias`, shape: [s.hidden], init: { kind: 'uniform', fanIn: s.kernel } },
      ...normSpecs(`${prefix}/dw${k}/norm`, s.hidden),
    );
  }
  specs.push(
    ...normSpecs(`${prefix}/final/norm`, s.hidden),
    { name: `${prefix}/final/prelu`, shape: [s.hidden], init: PRELU },
    ...pointwiseSpecs(`${prefix}/exp`, s.hidden, s.bottleneck),
    ...normSpecs(`${prefix}/exp/norm`, s.bottleneck),
    ...normSpecs(`${prefix}/act/norm`, s.bottleneck),
    { name: `${prefix}/act/prelu`, shape: [s.bottleneck], init: PRELU },
  );
  return specs;
}

/** Index of each of a block's parameters (by name without the block's prefix) in `uConvSpecs` order. */
const paramIndex = new Map<number, Map<string, number>>();
function indexOf(depth: number): Map<string, number> {
  let index = paramIndex.get(depth);
  if (!index) {
    const shape = { bottleneck: 1, hidden: 1, depth, kernel: 1 };
    index = new Map(uConvSpecs('', shape).map((s, i) => [s.name.slice(1), i]));
    paramIndex.set(depth, index);
  }
  return index;
}

/**
 * One U-ConvBlock on x [batch, time, bottleneck]; time must be a multiple of 2^(depth-1).
 * `p` holds the block's tensors in `uConvSpecs` order (a flat list, as gradient checkpointing takes it).
 */
export function uConvBlock(x: Tensor3D, p: readonly Tensor[], depth: number): Tensor3D {
  const index = indexOf(depth);
  const w = (name: string) => p[index.get(name)!]!;
  const norm = (t: Tensor3D, name: string) => globalLayerNorm(t, w(`${name}/norm/gamma`), w(`${name}/norm/beta`));
  const proj = pointwise(x, w('proj/weight') as Tensor2D, w('proj/bias'));
  const h = prelu(norm(proj, 'proj'), w('proj/prelu'));
  const levels: Tensor3D[] = [];
  for (let k = 0; k < depth; k++) {
    const input = k === 0 ? h : levels[k - 1]!;
    levels.push(norm(depthwise(input, w(`dw${k}/weight`) as Tensor2D, w(`dw${k}/bias`), k === 0 ? 1 : 2), `dw${k}`));
  }
  let merged = levels[depth - 1]!;
  for (let k = depth - 2; k >= 0; k--) merged = addUpsampled(levels[k]!, merged);
  const act = prelu(norm(merged, 'final'), w('final/prelu'));
  const expanded = norm(pointwise(act, w('exp/weight') as Tensor2D, w('exp/bias')), 'exp');
  return prelu(norm(expanded.add(x), 'act'), w('act/prelu'));
}
