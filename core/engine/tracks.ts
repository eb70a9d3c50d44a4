// What the UI needs to draw a track without decoding it: a max-abs envelope and its level.

/** Envelope resolution: fine enough to zoom into a few seconds, bounded for hour-long files. */
export const MAX_PEAKS = 200_000;

export function peaksOf(signal: Float32Array, rate: number, perSecond = 100): { peaks: number[]; peaksPerSecond: number } {
  const seconds = signal.length / rate;
  const pps = Math.max(1, Math.min(perSecond, Math.floor(MAX_PEAKS / Math.max(seconds, 1e-9))));
  const hop = rate / pps;
  const n = Math.max(1, Math.ceil(signal.length / hop));
  const peaks = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    let m = 0;
    const end = Math.min(signal.length, Math.round((k + 1) * hop));
    for (let i = Math.round(k * hop); i < end; i++) m = Math.max(m, Math.abs(signal[i]!));
    // Clipped at 1 like the audio; 4 decimals keep the JSON small.
    peaks[k] = Math.round(Math.min(1, m) * 1e4) / 1e4;
  }
  return { peaks, peaksPerSecond: pps };
}

export function rmsDb(signal: Float32Array): number {
  let s = 0;
  for (let i = 0; i < signal.length; i++) s += signal[i]! * signal[i]!;
  const rms = Math.sqrt(s / Math.max(1, signal.length));
  // Floored at -120 dBFS so digital silence stays a finite, JSON-safe number.
  return rms > 0 ? Math.max(-120, 20 * Math.log10(rms)) : -120;
}

const LABELS: Record<string, string> = { mixture: 'Mixture', speech: 'Speech', env: 'Environmental sound' };

export function trackLabel(id: string): string {
  const n = /^source(\d+)$/.exec(id);
  return LABELS[id] ?? (n ? `Source ${n[1]}` : id);
}
