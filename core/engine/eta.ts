// Elapsed time and time left for the engine's jobs (separations and exports): the time left in a
// stage comes from the rate so far in that stage, since the stages go at very different speeds. A
// stage that says it starts (no fraction, or 0) began then; one whose first report is already a
// fraction of it began when the stage before last reported.

/** A rate over less time than this is mostly start-up cost. */
const MIN_SECONDS = 1;

export interface JobTimes {
  /** Seconds since the job started. */
  elapsedSec: number;
  /** Seconds left in the current stage; absent until the stage has run long enough to tell. */
  etaSec?: number;
}

export class JobClock {
  private readonly start: number;
  private stage: string | null = null;
  private stageStart = 0;
  private lastReport: number;

  constructor(private readonly now: () => number = () => performance.now() / 1000) {
    this.start = now();
    this.lastReport = this.start;
  }

  /** Seconds since the job started (for a window that attaches between reports). */
  elapsedSec(): number {
    return this.now() - this.start;
  }

  at(stage: string, fraction: number | null): JobTimes {
    const t = this.now();
    if (stage !== this.stage) {
      this.stage = stage;
      this.stageStart = fraction === null || fraction === 0 ? t : this.lastReport;
    }
    this.lastReport = t;
    const spent = t - this.stageStart;
    const done = fraction ?? 0;
    const times: JobTimes = { elapsedSec: t - this.start };
    if (fraction !== null && spent >= MIN_SECONDS && done > 0) times.etaSec = (spent / done) * Math.max(0, 1 - fraction);
    return times;
  }
}
