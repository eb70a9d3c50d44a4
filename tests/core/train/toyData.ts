// A learnable toy task: "speech" = low sinusoids (100-500 Hz), "env" = high ones (1.8-3.2 kHz),
// at 8 kHz with random phases and amplitudes, mixed at random gains.
import type { MixtureBatch, MixtureType, SoundClass } from '../../../core/types';

export { seededRandom as rng } from '../../../core/models/init';

const BANDS: Record<SoundClass, [number, number]> = { speech: [100, 500], env: [1800, 3200] };

function tone(time: number, cls: SoundClass, r: () => number): Float32Array {
  const [lo, hi] = BANDS[cls];
  const out = new Float32Array(time);
  for (let k = 0; k < 2; k++) {
    const f = lo + (hi - lo) * r();
    const phase = 2 * Math.PI * r();
    const amp = 0.3 + r();
    for (let i = 0; i < time; i++) out[i]! += amp * Math.sin((2 * Math.PI * f * i) / 8000 + phase);
  }
  return out;
}

/** Mixtures of one source of each class in each given order (classes per example). */
export function toyBatch(r: () => number, time: number, classes: SoundClass[][]): MixtureBatch {
  const batch = classes.length;
  const nSrc = classes[0]!.length;
  const mixture = new Float32Array(batch * time);
  const sources = new Float32Array(batch * nSrc * time);
  classes.forEach((row, b) => row.forEach((cls, s) => {
    const x = tone(time, cls, r);
    const gain = 10 ** ((r() * 10 - 5) / 20);
    for (let i = 0; i < time; i++) {
      sources[(b * nSrc + s) * time + i] = gain * x[i]!;
      mixture[b * time + i]! += gain * x[i]!;
    }
  }));
  const mixtureTypes = classes.map((row) => [...row].sort().reverse().join('+') as MixtureType);
  return { batch, nSrc, time, mixture, sources, classes, labels: classes.map((row) => row.map((c) => `${c}-tone`)), mixtureTypes };
}

export function speechEnvBatch(r: () => number, batch: number, time: number): MixtureBatch {
  return toyBatch(r, time, Array.from({ length: batch }, () => (r() < 0.5 ? ['speech', 'env'] : ['env', 'speech'])));
}
