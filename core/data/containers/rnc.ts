// Rob Northen Compression (ProPack) method 1, the packer Beneath a Steel Sky uses for its files.
// After an 18-byte header come blocks of LZ77: each block has three canonical Huffman tables
// (literal-run lengths, match distances, match lengths) and a count of literal-run/match pairs.
// Bits are read least significant first from 16-bit little-endian words, and literal runs are
// plain bytes spliced into the stream between those words.

const SIGNATURE = 'RNC\x01';
const HEADER = 18;

const CRC16_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xa001 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-16 with the reflected 0x8005 polynomial and zero start (CRC-16/ARC), as RNC headers hold. */
export function crc16(b: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < b.length; i++) c = CRC16_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

interface Code { code: number; len: number; symbol: number }

// The reader keeps one 16-bit word prefetched past the bits in use. A literal run starts where that
// prefetched word would have been, so the word is dropped, the bytes taken, and the word after them
// fetched in its place.
class BitReader {
  private buf: number;
  private count = 16;

  constructor(private readonly src: Uint8Array, private pos: number, private readonly fail: (why: string) => never) {
    this.buf = this.word(pos);
  }

  // Past the end reads as zeros: the prefetch runs ahead of the data by design.
  private word(at: number): number {
    return (this.src[at] ?? 0) | ((this.src[at + 1] ?? 0) << 8);
  }

  peek16(): number {
    return this.buf & 0xffff;
  }

  skip(n: number): void {
    this.buf >>>= n;
    this.count -= n;
    if (this.count < 16) {
      this.pos += 2;
      this.buf = (this.buf | (this.word(this.pos) << this.count)) >>> 0;
      this.count += 16;
    }
  }

  read(n: number): number {
    if (n > 16) return this.read(16) + this.read(n - 16) * 0x10000;
    const v = this.buf & ((1 << n) - 1);
    this.skip(n);
    return v;
  }

  literals(n: number): Uint8Array {
    if (this.pos + n > this.src.length) this.fail(`truncated literal run (${n} bytes at ${this.pos})`);
    const out = this.src.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.count -= 16;
    this.buf = ((this.buf & ((1 << this.count) - 1)) | (this.word(this.pos) << this.count)) >>> 0;
    this.count += 16;
    return out;
  }
}

function readTable(bits: BitReader, fail: (why: string) => never): Code[] | null {
  const n = bits.read(5);
  // An empty table keeps the previous block's.
  if (n === 0) return null;
  const lens = Array.from({ length: n }, () => bits.read(4));
  const codes: Code[] = [];
  let next = 0;
  for (let len = 1; len <= 15; len++) {
    for (let symbol = 0; symbol < n; symbol++) {
      if (lens[symbol] !== len) continue;
      if (next >= 1 << len) fail('corrupt Huffman table (over-subscribed code lengths)');
      let rev = 0;
      for (let i = 0; i < len; i++) rev |= ((next >> i) & 1) << (len - 1 - i);
      codes.push({ code: rev, len, symbol });
      next++;
    }
    next <<= 1;
  }
  return codes;
}

// A symbol s >= 2 stands for a value of s bits: a leading one and s - 1 bits read after the code.
function readValue(bits: BitReader, codes: Code[], fail: (why: string) => never): number {
  const w = bits.peek16();
  const c = codes.find((x) => (w & ((1 << x.len) - 1)) === x.code);
  if (!c) fail('corrupt data (no Huffman code matches)');
  bits.skip(c.len);
  return c.symbol < 2 ? c.symbol : 2 ** (c.symbol - 1) + bits.read(c.symbol - 1);
}

export function isRnc(b: Uint8Array): boolean {
  return b.length >= 4 && String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) === SIGNATURE;
}

/** Unpacks one RNC method-1 stream (header included), checking both CRCs. */
export function rncUnpack(packed: Uint8Array, file = 'RNC data'): Uint8Array {
  const fail = (why: string): never => { throw new Error(`${file}: ${why}`); };
  if (packed.length < HEADER) fail(`truncated header (${packed.length} bytes)`);
  if (!isRnc(packed)) fail('not RNC method-1 data (no "RNC\\x01" signature)');
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const unpackedLen = view.getUint32(4);
  const packedLen = view.getUint32(8);
  const blocks = packed[17]!;
  if (HEADER + packedLen > packed.length) fail(`truncated (header says ${packedLen} packed bytes, ${packed.length - HEADER} present)`);
  const body = packed.subarray(0, HEADER + packedLen);
  if (crc16(body.subarray(HEADER)) !== view.getUint16(14)) fail('packed data CRC mismatch');

  const out = new Uint8Array(unpackedLen);
  let o = 0;
  const bits = new BitReader(body, HEADER, fail);
  bits.skip(2); // lock and key flags; Sky's files are neither locked nor encrypted
  let raw: Code[] = [], dist: Code[] = [], len: Code[] = [];
  for (let b = 0; b < blocks; b++) {
    raw = readTable(bits, fail) ?? raw;
    dist = readTable(bits, fail) ?? dist;
    len = readTable(bits, fail) ?? len;
    const pairs = bits.read(16);
    for (let i = 1; ; i++) {
      const run = readValue(bits, raw, fail);
      if (run) {
        if (o + run > out.length) fail(`literal run overflows the ${unpackedLen}-byte output`);
        out.set(bits.literals(run), o);
        o += run;
      }
      if (i >= pairs) break;
      const back = readValue(bits, dist, fail) + 1;
      const n = readValue(bits, len, fail) + 2;
      if (back > o) fail(`match reaches ${back} bytes back from ${o}`);
      if (o + n > out.length) fail(`match overflows the ${unpackedLen}-byte output`);
      for (let k = 0; k < n; k++, o++) out[o] = out[o - back]!;
    }
  }
  if (o !== unpackedLen) fail(`unpacked ${o} bytes, header says ${unpackedLen}`);
  if (crc16(out) !== view.getUint16(12)) fail('unpacked data CRC mismatch');
  return out;
}
