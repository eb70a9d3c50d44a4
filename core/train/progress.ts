// Where a training job stands in each of its phases (downloading and decoding the data, scoring the
// starting model, training, scoring before/after), with the time left estimated from the rate so far in the phase.
import type { PrepareProgress } from '../data/manifest';

export type JobPhase = 'download' | 'decode' | 'baseline' | 'training' | 'scoring';

export interface PhaseProgress {
  phase: JobPhase;
  /** Of this phase, 0 to 1. */
  fraction: number;
  /** Seconds left in this phase; null until the phase has run long enough to tell. */
  etaSeconds: number | null;
  /** What is being done now (package, file count, step). */
  detail: string;
}

/** A rate over less time than this is mostly start-up cost (a worker warming, the first cached files). */
const MIN_SECONDS = 2;

/** Turns fractions into PhaseProgress, timing each phase from the first report of it. */
export class PhaseClock {
  private phase: JobPhase | null = null;
  private start = 0;
  private startFraction = 0;

  constructor(private readonly now: () => number = () => performance.now() / 1000) {}

  /** Starts timing afresh at the next report (after a pause, which is no part of the rate). */
  restart(): void {
    this.phase = null;
  }

  at(phase: JobPhase, fraction: number, detail: string): PhaseProgress {
    const t = this.now();
    if (phase !== this.phase) {
      this.phase = phase;
      this.start = t;
      this.startFraction = fraction;
    }
    const elapsed = t - this.start;
    const done = fraction - this.startFraction;
    const etaSeconds = elapsed >= MIN_SECONDS && done > 0 ? (elapsed / done) * Math.max(0, 1 - fraction) : null;
    return { phase, fraction, etaSeconds, detail };
  }

  /** A corpus fetch or decode as a phase; null for packages already on disk (nothing to wait for). */
  prepare(p: PrepareProgress): PhaseProgress | null {
    if (p.phase === 'decode') return this.at('decode', p.total ? p.done / p.total : 1, `${p.done} of ${p.total} files`);
    if (p.stage === 'cached') return null;
    const what = p.stage === 'extract' ? 'unpacking' : p.stage === 'done' ? 'unpacked' : 'downloading';
    return this.at('download', p.fraction, `${what} ${p.pkg} (package ${p.index + 1} of ${p.total})`);
  }
}

/** Passes on each phase's first and last reports and at most one every `ms` between them. */
export function throttled(send: (p: PhaseProgress) => void, ms: number): (p: PhaseProgress) => void {
  let phase: JobPhase | null = null;
  let last = -Infinity;
  return (p) => {
    const now = performance.now();
    if (p.phase === phase && p.fraction < 1 && now - last < ms) return;
    phase = p.phase;
    last = now;
    send(p);
  };
}

/** "1 h 04 min", "12 min", "45 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'n/a';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
