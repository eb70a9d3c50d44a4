/**
 * Curriculum annealing of beta from beta0 (< 0) at step 0 to exactly 0 at step `steps`, and 0
 * after it. With t = min(k / steps, 1):
 * - linear:      beta0 * (1 - t)
 * - cosine:      beta0 * (1 + cos(pi t)) / 2
 * - exponential: beta0 * (exp(-rate t) - exp(-rate)) / (1 - exp(-rate)); decays like exp(-rate t),
 *                shifted and rescaled so it reaches 0 at t = 1 (rate > 0, default 5)
 * - step:        beta0 * (1 - floor(stages t) / stages); `stages` equal plateaus (default 4)
 * All are monotone non-decreasing in k for beta0 < 0.
 */
export type ScheduleName = 'linear' | 'exponential' | 'cosine' | 'step';
export const SCHEDULES: readonly ScheduleName[] = ['linear', 'exponential', 'cosine', 'step'];

export interface ScheduleOptions {
  schedule: ScheduleName;
  beta0: number;
  /** Annealing length in steps (> 0). */
  steps: number;
  /** exponential only; default 5. */
  rate?: number;
  /** step only; default 4. */
  stages?: number;
}

export const DEFAULT_EXPONENTIAL_RATE = 5;
export const DEFAULT_STAGES = 4;

export function scheduledBeta(opts: ScheduleOptions, step: number): number {
  const t = Math.max(step, 0) / opts.steps;
  if (t >= 1) return 0;
  switch (opts.schedule) {
    case 'linear':
      return opts.beta0 * (1 - t);
    case 'cosine':
      return (opts.beta0 * (1 + Math.cos(Math.PI * t))) / 2;
    case 'exponential': {
      const rate = opts.rate ?? DEFAULT_EXPONENTIAL_RATE;
      const floor = Math.exp(-rate);
      return (opts.beta0 * (Math.exp(-rate * t) - floor)) / (1 - floor);
    }
    case 'step': {
      const stages = opts.stages ?? DEFAULT_STAGES;
      return opts.beta0 * (1 - Math.floor(stages * t) / stages);
    }
  }
}
