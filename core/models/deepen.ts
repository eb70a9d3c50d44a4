// Deepening a trained model, so a bigger model starts from what a smaller one learned instead of
// from scratch (in the spirit of Net2Net, Chen et al., ICLR 2016).
import { tf } from '../tf';
import type { Tensor2D } from '../tf';
import { createSudoRmRf, type SudoRmRf } from './sudormrf';

/**
 * A new model with `nBlocks` blocks: `model`'s weights, then new blocks that start close to the
 * identity, so the deeper model first separates as the trained one does. A block ends with
 * prelu(gLN(branch + x)); in a new block the branch's last norm has zero gain (the branch outputs 0
 * and still gets gradient through that gain), the PReLU has slope 1, and the output gLN puts back
 * the mean and deviation that the last block's output has on `calibration` mixtures [batch, time]
 * (gLN takes each example's own out; they vary little between examples). Everything else in the new
 * blocks keeps its seeded initialisation. `model` is left as it was.
 */
export function deepen(model: SudoRmRf, nBlocks: number, calibration: Tensor2D, seed = 0): SudoRmRf {
  const from = model.config.nBlocks;
  if (!Number.isInteger(nBlocks) || nBlocks < from) {
    throw new Error(`deepen: the model has ${from} blocks; it can grow to more, not to ${nBlocks}`);
  }
  const { mean, std } = outputLevel(model, calibration);
  const grown = createSudoRmRf({ ...model.config, nBlocks }, seed);
  const old = model.namedWeights();
  tf.tidy(() => {
    for (const [name, v] of grown.namedWeights()) {
      const block = /^blocks\/(\d+)\/(.+)$/.exec(name);
      if (block === null || Number(block[1]) < from) {
        v.assign(old.get(name)!);
        continue;
      }
      const value = NEW_BLOCK_VALUES[block[2]!]?.({ mean, std });
      if (value !== undefined) v.assign(tf.fill(v.shape, value));
    }
  });
  if (model.inputStd !== undefined) grown.inputStd = model.inputStd;
  if (model.fixedSlots !== undefined) grown.fixedSlots = model.fixedSlots;
  return grown;
}

/** A new block's weights that do not keep their initialisation, from the calibrated output level. */
const NEW_BLOCK_VALUES: Record<string, (level: { mean: number; std: number }) => number> = {
  'exp/norm/gamma': () => 0,
  'exp/norm/beta': () => 0,
  'act/prelu': () => 1,
  'act/norm/gamma': ({ std }) => std,
  'act/norm/beta': ({ mean }) => mean,
};

/** Each example's mean and standard deviation over time and channels of the last block's output, averaged. */
function outputLevel(model: SudoRmRf, calibration: Tensor2D): { mean: number; std: number } {
  const [mean, std] = tf.tidy(() => {
    const h = model.blockOutput(calibration); // [batch, frames, bottleneck]
    const { mean: m, variance } = tf.moments(h, [1, 2]);
    return [m.mean(), variance.sqrt().mean()];
  });
  const values = [mean!.dataSync()[0]!, std!.dataSync()[0]!];
  tf.dispose([mean!, std!]);
  return { mean: values[0]!, std: values[1]! };
}
