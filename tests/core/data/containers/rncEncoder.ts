// A small RNC method-1 packer for the tests: written from the format description, independently of
// the decoder, with fixed 4-bit Huffman codes and a greedy longest-match search.

export type Token = { literal: Uint8Array } | { back: number; length: number };

/** CRC-16/ARC, bit by bit (the decoder uses a table). */
export function crc16Bitwise(b: Uint8Array): number {
  let c = 0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  }
  return c;
}

class Writer {
  readonly out: number[] = new Array(18).fill(0);
  private word = -1;
  private used = 16;

  bits(v: number, n: number): void {
    for (let i = 0; i < n; i++) {
      // A new bit word starts only when a bit needs it, after any literal bytes already written.
      if (this.used === 16) {
        this.word = this.out.length;
        this.out.push(0, 0);
        this.used = 0;
      }
      if ((v >>> i) & 1) this.out[this.word + (this.used >> 3)]! |= 1 << (this.used & 7);
      this.used++;
    }
  }

  bytes(b: Uint8Array): void {
    this.out.push(...b);
  }
}

// Every table: 16 symbols of 4 bits, so symbol s has canonical code s, sent most significant bit first.
function table(w: Writer): void {
  w.bits(16, 5);
  for (let s = 0; s < 16; s++) w.bits(4, 4);
}

function value(w: Writer, v: number): void {
  const s = v < 2 ? v : 32 - Math.clz32(v);
  let rev = 0;
  for (let i = 0; i < 4; i++) rev |= ((s >> i) & 1) << (3 - i);
  w.bits(rev, 4);
  if (s >= 2) w.bits(v - 2 ** (s - 1), s - 1);
}

/**
 * Packs blocks of tokens: each block a list of literal-run/match pairs, the last pair without a
 * match. `emptyTables` sends later blocks' tables as empty, which keeps the previous ones.
 */
export function rncPack(blocks: Token[][], opts: { emptyTables?: boolean } = {}): Uint8Array {
  const w = new Writer();
  w.bits(0, 2);
  const unpacked: number[] = [];
  for (const [bi, tokens] of blocks.entries()) {
    if (bi > 0 && opts.emptyTables) for (let t = 0; t < 3; t++) w.bits(0, 5);
    else for (let t = 0; t < 3; t++) table(w);
    const pairs: { literal: Uint8Array; match?: { back: number; length: number } }[] = [];
    let lit: number[] = [];
    for (const t of tokens) {
      if ('literal' in t) lit.push(...t.literal);
      else { pairs.push({ literal: Uint8Array.from(lit), match: t }); lit = []; }
    }
    pairs.push({ literal: Uint8Array.from(lit) });
    w.bits(pairs.length, 16);
    for (const p of pairs) {
      value(w, p.literal.length);
      if (p.literal.length) w.bytes(p.literal);
      unpacked.push(...p.literal);
      if (p.match) {
        value(w, p.match.back - 1);
        value(w, p.match.length - 2);
        for (let k = 0; k < p.match.length; k++) unpacked.push(unpacked[unpacked.length - p.match.back]!);
      }
    }
  }
  const out = Uint8Array.from(w.out);
  const view = new DataView(out.buffer);
  out.set([0x52, 0x4e, 0x43, 0x01]);
  view.setUint32(4, unpacked.length);
  view.setUint32(8, out.length - 18);
  view.setUint16(12, crc16Bitwise(Uint8Array.from(unpacked)));
  view.setUint16(14, crc16Bitwise(out.subarray(18)));
  out[17] = blocks.length;
  return out;
}

/** Greedy LZ77 tokens for `data`: the longest earlier match of at least 3 bytes, else a literal. */
export function lzTokens(data: Uint8Array): Token[] {
  const tokens: Token[] = [];
  let lit: number[] = [];
  for (let i = 0; i < data.length;) {
    let best = 0, back = 0;
    for (let j = Math.max(0, i - 4000); j < i; j++) {
      let n = 0;
      while (i + n < data.length && n < 4000 && data[j + n] === data[i + n]) n++;
      if (n > best) { best = n; back = i - j; }
    }
    if (best >= 3) {
      if (lit.length) tokens.push({ literal: Uint8Array.from(lit) });
      lit = [];
      tokens.push({ back, length: best });
      i += best;
    } else {
      lit.push(data[i++]!);
    }
  }
  if (lit.length) tokens.push({ literal: Uint8Array.from(lit) });
  return tokens;
}
