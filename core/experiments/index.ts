export { EXPERIMENTS, SCALES, SCALE_SPECS, SEEDS, ROBUST_ALPHA, CURRICULUM_BETA0, CLASS_GAMMA, CURRICULUM_TARGETS, FINE_TUNE_LR, experimentPlan, armConfig } from './plan';
export type { ExperimentName, Scale, ScaleSpec, Arm, DataChoice, ExperimentPlan } from './plan';
export { runExperiment, armDir, weightsHash, batchHash, EXPERIMENT_FORMAT } from './runner';
export type { StepLog, TestScores, ArmFingerprint, ArmResult, ExperimentResult, ExperimentEvents, ArmState } from './runner';
export { writeReport, reportMarkdown, curvesCsv, testCsv, reportPlots, checkClaims, pairedDiff, stepsToReach, curriculumTargets } from './report';
export type { Claim, Verdict } from './report';
export type { PairedDiff } from '../train/metrics';
export { lineChart, niceTicks, linearScale, escapeXml, CHART_MARGIN, CHART_SIZE } from './svg';
export type { Series, LineChartOptions, ReferenceLine } from './svg';
