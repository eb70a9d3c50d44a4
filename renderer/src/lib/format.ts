import type { StemFormat } from '../../../app/contract';

export function clock(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) sec = 0;
  const m = Math.floor(sec / 60);
  const s = sec - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 ** 2).toFixed(1)} MB`;
}

export function params(n: number | undefined): string {
  return n === undefined ? '—' : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`;
}

/** "44.1 kHz stereo", "8 kHz mono", "48 kHz, 6 ch". */
export function audioShape(rate: number, channels: number): string {
  const kHz = `${Number((rate / 1000).toFixed(3))} kHz`;
  return channels === 1 ? `${kHz} mono` : channels === 2 ? `${kHz} stereo` : `${kHz}, ${channels} ch`;
}

/** A label for each of the engine's formats (AUDIO_FORMATS): a format without one does not compile. */
export const FORMAT_LABELS: Readonly<Record<StemFormat, string>> = { wav16: 'WAV 16-bit', wav24: 'WAV 24-bit', wav32f: 'WAV 32-bit float', flac: 'FLAC' };

/** "45 s", "12 min", "1 h 04 min": a time left or taken. */
export function duration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '—';
  if (sec < 90) return `${Math.round(sec)} s`;
  const min = Math.round(sec / 60);
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}
