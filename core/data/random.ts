// Seeded randomness: a string hash for deterministic decisions and a small fast PRNG (sfc32).

/** 32-bit FNV-1a of a string, finished with a murmur3 mix so nearby keys land far apart. */
export function hash32(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) fixed by (seed, key). */
export function hashUnit(seed: number | string, key: string): number {
  return hash32(`${seed}\u0000${key}`) / 2 ** 32;
}

export class Rng {
  private a: number; private b: number; private c: number; private d: number;

  constructor(seed: number | string) {
    const s = String(seed);
    this.a = hash32(`${s}:a`); this.b = hash32(`${s}:b`); this.c = hash32(`${s}:c`); this.d = hash32(`${s}:d`) | 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 2 ** 32;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[this.int(items.length)]!;
  }
}
