// The paper's three experiments (Tzinis, Bralios, Smaragdis, ICASSP 2021) as sets of arms that
// differ only in their reweighting: same seed, data, model initialisation and step budget.
import { parseTrainConfig } from '../train/config';
import type { TrainConfig } from '../train/config';
import type { SudoRmRfConfig } from '../models/sudormrf';
import type { MixtureType } from '../types';

export const EXPERIMENTS = ['robust', 'curriculum', 'class', 'class-source'] as const;
export type ExperimentName = (typeof EXPERIMENTS)[number];
export const SCALES = ['smoke', 'small', 'medium', 'full', 'tune'] as const;
export type Scale = (typeof SCALES)[number];

export interface ScaleSpec {
  /** Size overrides on the 0.25x preset. */
  model: Partial<SudoRmRfConfig>;
  segmentSeconds: number;
  batchSize: number;
  epochs: number;
  stepsPerEpoch: number;
  validationMixtures: number;
  testMixtures: number;
  evalBatchSize: number;
  /** Halve the learning rate every this many epochs (null: constant). */
  halveEvery: number | null;
  /** What the scale is for and what it costs. */
  note: string;
}

const SMALL_MODEL: Partial<SudoRmRfConfig> = { nBlocks: 4, upsamplingDepth: 4, encBasis: 128, encKernel: 41, bottleneck: 64, hidden: 128 };

export const SCALE_SPECS: Record<Scale, ScaleSpec> = {
  smoke: {
    model: { nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 },
    segmentSeconds: 0.5, batchSize: 2, epochs: 2, stepsPerEpoch: 3,
    validationMixtures: 4, testMixtures: 8, evalBatchSize: 4, halveEvery: null,
    note: 'plumbing check (seconds); its numbers mean nothing',
  },
  small: {
    // Stride-20 encoder (kernel 41, 2.5 ms hop) halves the frame rate of the 0.25x preset; with 128
    // bases and 4 narrow blocks a step of 8 x 1 s takes about 0.3 s of one core on wasm.
    model: SMALL_MODEL,
    segmentSeconds: 1, batchSize: 8, epochs: 12, stepsPerEpoch: 50,
    validationMixtures: 128, testMixtures: 1000, evalBatchSize: 20, halveEvery: null,
    note: 'affordable on a 2-core CPU (wasm): about 4 minutes per arm',
  },
  medium: {
    model: SMALL_MODEL,
    segmentSeconds: 1, batchSize: 8, epochs: 30, stepsPerEpoch: 50,
    validationMixtures: 128, testMixtures: 1000, evalBatchSize: 20, halveEvery: null,
    note: 'the small model trained 2.5x longer: about 9 minutes per arm on a 2-core CPU (wasm)',
  },
  tune: {
    // For --from: a short fine-tune of a saved model (its own size), as a user would run one.
    model: {},
    segmentSeconds: 1, batchSize: 8, epochs: 6, stepsPerEpoch: 50,
    validationMixtures: 64, testMixtures: 600, evalBatchSize: 20, halveEvery: null,
    note: 'a 300-step fine-tune of a saved model (use with --from): about 6 minutes per arm for the 12-block default model on a 2-core CPU (wasm)',
  },
  full: {
    model: {},
    segmentSeconds: 4, batchSize: 8, epochs: 40, stepsPerEpoch: 500,
    validationMixtures: 512, testMixtures: 3000, evalBatchSize: 16, halveEvery: 15,
    note: 'the 0.25x preset on 4 s segments; for a GPU machine (tfjs-node-gpu)',
  },
};

/** Seeds fixed for every arm: training data order and model initialisation, validation set, test set. */
export const SEEDS = { train: 17, validation: 1234, test: 4242 } as const;

/**
 * Loss values are -SI-SDR in dB, which within one batch spread over ~10 dB early in training.
 * alpha = 0.2 then weights the hardest mixture about e^2 = 7x the easiest: a clear tilt that keeps
 * the effective batch size near half the batch. The paper's alpha (1/5 on its scale) is the same number;
 * alpha = 1 here would put nearly all weight on one mixture per batch.
 */
export const ROBUST_ALPHA = 0.2;
/** Mirror of the robust arm: easy mixtures first, the tilt fading linearly to uniform by mid-run. */
export const CURRICULUM_BETA0 = -0.2;
/**
 * The same tilt read on the batch's standardized losses ("scale": "batch"): a mixture one batch
 * standard deviation easier than the mean weighs e times more, whatever the losses' spread in dB
 * (at -0.2 per dB the spread of a few dB left the effective batch near 7 of 8).
 */
export const CURRICULUM_BATCH_BETA0 = -1;
export const CURRICULUM_ANNEAL_FRACTION = 0.5;
export const CLASS_GAMMA = 3;
/** Curriculum: steps to reach these fractions of the uniform arm's best validation SI-SDRi. */
export const CURRICULUM_TARGETS = [0.5, 0.75, 0.9] as const;

export interface Arm {
  id: string;
  label: string;
  /** The reweighting section of the arm's training config (plain JSON). */
  reweighting: unknown;
}

export interface DataChoice {
  corpus: 'ci' | 'full';
  /** Corpus cache folder; the default cache when null. */
  cacheDir: string | null;
}

/** Learning rate of a fine-tune: the default model's own last rate, so the arms refine it instead of unlearning it. */
export const FINE_TUNE_LR = 1e-4;

export interface ExperimentPlan {
  experiment: ExperimentName;
  scale: Scale;
  data: DataChoice;
  /** A saved model folder every arm fine-tunes (same steps, lr FINE_TUNE_LR); null: from scratch (the scale's model). */
  from: string | null;
  mixtureTypes: Partial<Record<MixtureType, number>>;
  /** Why the experiment is set up this way (goes into the report). */
  design: string;
  arms: Arm[];
  test: { mixtures: number; batchSize: number; seed: number };
}

function armsOf(experiment: ExperimentName, totalSteps: number): { arms: Arm[]; mixtureTypes: ExperimentPlan['mixtureTypes']; design: string } {
  // Heterogeneous difficulty (same-class mixtures are harder) gives robust and curriculum weights
  // something to act on, and the per-type breakdown shows where a tilt helps or costs.
  const mixed = { 'speech+env': 2, 'speech+speech': 1, 'env+env': 1 };
  switch (experiment) {
    case 'robust':
      return {
        mixtureTypes: mixed,
        design: `Per-mixture weights p_i proportional to exp(alpha L_i), L_i = -SI-SDR (dB). alpha = ${ROBUST_ALPHA}: losses in dB spread ~10 dB within a batch, so this weights the hardest mixture about e^2 = 7x the easiest; larger alpha collapses a batch onto one example. Mixture types speech+env : speech+speech : env+env = 2 : 1 : 1.`,
        arms: [
          { id: 'uniform', label: 'uniform (alpha = 0)', reweighting: [{ robust: { alpha: 0 } }] },
          { id: `robust-${ROBUST_ALPHA}`, label: `robust alpha = ${ROBUST_ALPHA}`, reweighting: [{ robust: { alpha: ROBUST_ALPHA } }] },
        ],
      };
    case 'curriculum': {
      const steps = Math.max(1, Math.round(totalSteps * CURRICULUM_ANNEAL_FRACTION));
      return {
        mixtureTypes: mixed,
        design: `Per-mixture weights p_i proportional to exp(beta(k) L_i), beta(k) = ${CURRICULUM_BETA0} (1 - k / ${steps}) for k < ${steps}, then 0 (uniform for the second half of the run, so both arms end on the same objective); the third arm reads the losses standardized over the batch, z_i = (L_i - mean) / std, with beta0 = ${CURRICULUM_BATCH_BETA0} per batch standard deviation. Mixture types speech+env : speech+speech : env+env = 2 : 1 : 1.`,
        arms: [
          { id: 'uniform', label: 'uniform (beta = 0)', reweighting: [] },
          {
            id: `curriculum${CURRICULUM_BETA0}`, label: `curriculum beta0 = ${CURRICULUM_BETA0}, linear`,
            reweighting: [{ curriculum: { beta0: CURRICULUM_BETA0, schedule: 'linear', steps } }],
          },
          {
            id: `curriculum-batch${CURRICULUM_BATCH_BETA0}`, label: `curriculum beta0 = ${CURRICULUM_BATCH_BETA0} per batch std, linear`,
            reweighting: [{ curriculum: { beta0: CURRICULUM_BATCH_BETA0, schedule: 'linear', steps, scale: 'batch' } }],
          },
        ],
      };
    }
    case 'class':
      return {
        mixtureTypes: { 'speech+env': 1, 'speech+speech': 1, 'env+env': 1 },
        design: `The paper's design: speech+env, speech+speech and env+env mixtures in equal shares, one weight per mixture, its logit gamma of the mixture = the mean of gamma over its two sources' classes (speech+speech gets gamma.speech, env+env gamma.env, speech+env their mean). gamma = ${CLASS_GAMMA} on one class weights a mixture of two sources of that class e^${CLASS_GAMMA} = ${Math.exp(CLASS_GAMMA).toFixed(1)}x a mixture of the other class and e^${CLASS_GAMMA / 2} = ${Math.exp(CLASS_GAMMA / 2).toFixed(1)}x a speech+env mixture. The favoured class is checked per mixture type.`,
        arms: [
          { id: 'uniform', label: 'uniform', reweighting: [] },
          { id: 'gamma-speech', label: `gamma speech = ${CLASS_GAMMA}`, reweighting: [{ class: { speech: CLASS_GAMMA, env: 0 } }] },
          { id: 'gamma-env', label: `gamma env = ${CLASS_GAMMA}`, reweighting: [{ class: { speech: 0, env: CLASS_GAMMA } }] },
        ],
      };
    case 'class-source':
      return {
        mixtureTypes: { 'speech+env': 1 },
        design: `Speech+env mixtures only, weights per (mixture, source) (granularity "source"): each source's loss gets weight proportional to exp(gamma[class]). Per mixture, every speech+env mixture would get the same class logit and the batch would not be tilted at all. gamma = ${CLASS_GAMMA} gives the favoured class e^${CLASS_GAMMA} = ${Math.exp(CLASS_GAMMA).toFixed(1)}x the weight of the other. Uniform at either granularity is the plain mean.`,
        arms: [
          { id: 'uniform', label: 'uniform', reweighting: { granularity: 'source', terms: [] } },
          { id: 'gamma-speech', label: `gamma speech = ${CLASS_GAMMA}`, reweighting: { granularity: 'source', terms: [{ class: { speech: CLASS_GAMMA, env: 0 } }] } },
          { id: 'gamma-env', label: `gamma env = ${CLASS_GAMMA}`, reweighting: { granularity: 'source', terms: [{ class: { speech: 0, env: CLASS_GAMMA } }] } },
        ],
      };
  }
}

export function experimentPlan(experiment: ExperimentName, scale: Scale, data: DataChoice, from: string | null = null): ExperimentPlan {
  if (!EXPERIMENTS.includes(experiment)) throw new RangeError(`unknown experiment "${experiment}" (use ${EXPERIMENTS.join(', ')})`);
  if (!SCALES.includes(scale)) throw new RangeError(`unknown scale "${scale}" (use ${SCALES.join(', ')})`);
  if (scale === 'tune' && from === null) throw new RangeError('scale "tune" fine-tunes a saved model: give one with --from');
  const s = SCALE_SPECS[scale];
  const { arms, mixtureTypes, design } = armsOf(experiment, s.epochs * s.stepsPerEpoch);
  return { experiment, scale, data, from, mixtureTypes, design, arms, test: { mixtures: s.testMixtures, batchSize: s.evalBatchSize, seed: SEEDS.test } };
}

/** The arm's validated training config; arms of a plan differ only in name and reweighting. */
export function armConfig(plan: ExperimentPlan, arm: Arm): TrainConfig {
  const s = SCALE_SPECS[plan.scale];
  return parseTrainConfig({
    name: `${plan.experiment}-${arm.id}`,
    seed: SEEDS.train,
    model: plan.from ? { from: plan.from } : { preset: '0.25x', overrides: s.model },
    data: {
      corpus: plan.data.corpus,
      ...(plan.data.cacheDir ? { cacheDir: plan.data.cacheDir } : {}),
      segmentSeconds: s.segmentSeconds,
      snrDb: [-5, 5],
      mixtureTypes: plan.mixtureTypes,
    },
    batchSize: s.batchSize,
    epochs: s.epochs,
    stepsPerEpoch: s.stepsPerEpoch,
    optimizer: { lr: plan.from ? FINE_TUNE_LR : 1e-3, clipNorm: 5, schedule: s.halveEvery ? { halveEvery: s.halveEvery } : 'constant' },
    reweighting: arm.reweighting,
    validation: { mixtures: s.validationMixtures, batchSize: s.evalBatchSize, seed: SEEDS.validation },
  });
}
