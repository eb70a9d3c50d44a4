// What the UI needs to draw a track without decoding it: a max-abs envelope per channel and its level.

/** Envelope resolution, over all channels: fine enough to zoom into a few seconds, bounded for hour-long files. */
export const MAX_PEAKS = 200_000;

/**
 * Max-abs envelope of every channel and the RMS level of a track that arrives block by block
 * (its length known up front, so the envelope's resolution is fixed before the first block).
 */
export class TrackMeter {
  readonly peaksPerSecond: number;
  private readonly hop: number;
  private readonly peaks: Float32Array[];
  private at = 0;
  private sumSq = 0;

  constructor(private readonly rate: number, frames: number, channels: number, perSecond = 100) {
    const seconds = frames / rate;
    this.peaksPerSecond = Math.max(1, Math.min(perSecond, Math.floor(MAX_PEAKS / channels / Math.max(seconds, 1e-9))));
    this.hop = rate / this.peaksPerSecond;
    const n = Math.max(1, Math.ceil(frames / this.hop));
    this.peaks = Array.from({ length: channels }, () => new Float32Array(n));
  }

  add(block: readonly Float32Array[]): void {
    const n = block[0]?.length ?? 0;
    for (const [c, ch] of block.entries()) {
      const p = this.peaks[c]!;
      for (let i = 0; i < n; i++) {
        const v = ch[i]!;
        const k = Math.min(p.length - 1, Math.floor((this.at + i + 0.5) / this.hop));
        const a = Math.abs(v);
        if (a > p[k]!) p[k] = a;
        this.sumSq += v * v;
      }
    }
    this.at += n;
  }

  /** One envelope per channel, clipped at 1 like the audio and rounded to 4 decimals to keep the JSON small; RMS in dBFS over all channels. */
  result(): { peaks: number[][]; peaksPerSecond: number; rmsDb: number } {
    const rms = Math.sqrt(this.sumSq / Math.max(1, this.at * this.peaks.length));
    return {
      peaks: this.peaks.map((p) => Array.from(p, (v) => Math.round(Math.min(1, v) * 1e4) / 1e4)),
      peaksPerSecond: this.peaksPerSecond,
      // Floored at -120 dBFS so digital silence stays a finite, JSON-safe number.
      rmsDb: rms > 0 ? Math.max(-120, 20 * Math.log10(rms)) : -120,
    };
  }
}

const LABELS: Record<string, string> = { mixture: 'Mixture', speech: 'Speech', env: 'Environmental sound' };

export function trackLabel(id: string): string {
  const n = /^source(\d+)$/.exec(id);
  return LABELS[id] ?? (n ? `Source ${n[1]}` : id);
}
