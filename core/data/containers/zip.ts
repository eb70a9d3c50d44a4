// Zip reading through positioned reads, because game archives (0 A.D.'s public.zip is 3 GB) are far
// too big to load whole just to take a few hundred sounds out of them.
import { open, type FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated; anything else cannot be read. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
  /** General-purpose flags; bit 0 means encrypted. */
  flags: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
// 22-byte record plus the longest comment a u16 length allows.
const EOCD_SEARCH = 22 + 0xffff;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class ZipReader {
  private constructor(readonly path: string, private readonly fh: FileHandle, readonly entries: ZipEntry[]) {}

  static async open(path: string): Promise<ZipReader> {
    const fh = await open(path, 'r');
    try {
      return new ZipReader(path, fh, await readDirectory(path, fh));
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** The entry's bytes, inflated and CRC-checked. */
  async read(entry: ZipEntry): Promise<Uint8Array> {
    const where = `${this.path}: ${entry.name}`;
    if (entry.flags & 1) throw new Error(`${where}: encrypted entries are not supported`);
    if (entry.method !== 0 && entry.method !== 8) throw new Error(`${where}: unsupported compression method ${entry.method}`);
    const local = await readAt(this.fh, entry.localHeaderOffset, 30, `${where}: truncated local header`);
    if (u32(local, 0) !== LOCAL) throw new Error(`${where}: corrupt local header signature`);
    const start = entry.localHeaderOffset + 30 + u16(local, 26) + u16(local, 28);
    const raw = await readAt(this.fh, start, entry.compressedSize, `${where}: truncated entry data`);
    let data: Uint8Array;
    if (entry.method === 0) {
      data = raw;
    } else {
      try {
        data = inflateRawSync(raw);
      } catch (e) {
        throw new Error(`${where}: corrupt deflate data (${(e as Error).message})`, { cause: e });
      }
    }
    if (data.length !== entry.size) throw new Error(`${where}: ${data.length} bytes where the directory says ${entry.size}`);
    if (crc32(data) !== entry.crc32) throw new Error(`${where}: CRC-32 mismatch`);
    return data;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0;
}

function u64(b: Uint8Array, at: number): number {
  return u32(b, at) + u32(b, at + 4) * 2 ** 32;
}

async function readAt(fh: FileHandle, position: number, length: number, truncated: string): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) throw new Error(truncated);
    got += bytesRead;
  }
  return buf;
}

async function readDirectory(path: string, fh: FileHandle): Promise<ZipEntry[]> {
  const { size } = await fh.stat();
  const tailStart = Math.max(0, size - EOCD_SEARCH);
  const tail = await readAt(fh, tailStart, size - tailStart, `${path}: truncated`);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) if (u32(tail, i) === EOCD) { eocd = i; break; }
  if (eocd < 0) throw new Error(`${path}: not a zip file (no end of central directory record)`);
  let count = u16(tail, eocd + 10);
  let dirSize = u32(tail, eocd + 12);
  let dirOffset = u32(tail, eocd + 16);
  // Zip64 keeps the real values in its own record, named by a locator just before the EOCD.
  if (eocd >= 20 && u32(tail, eocd - 20) === ZIP64_LOCATOR) {
    const z = await readAt(fh, u64(tail, eocd - 12), 56, `${path}: truncated zip64 end of central directory`);
    if (u32(z, 0) !== ZIP64_EOCD) throw new Error(`${path}: corrupt zip64 end of central directory`);
    count = u64(z, 32);
    dirSize = u64(z, 40);
    dirOffset = u64(z, 48);
  }
  if (dirOffset + dirSize > size) throw new Error(`${path}: truncated central directory`);
  const dir = await readAt(fh, dirOffset, dirSize, `${path}: truncated central directory`);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || u32(dir, p) !== CENTRAL) throw new Error(`${path}: corrupt central directory at entry ${i}`);
    const flags = u16(dir, p + 8);
    const nameLen = u16(dir, p + 28);
    const extraLen = u16(dir, p + 30);
    const next = p + 46 + nameLen + extraLen + u16(dir, p + 32);
    if (next > dir.length) throw new Error(`${path}: corrupt central directory at entry ${i}`);
    const nameBytes = dir.subarray(p + 46, p + 46 + nameLen);
    // Bit 11 marks UTF-8 names; older archives use a code page that is ASCII for the names we want.
    const name = Buffer.from(nameBytes).toString(flags & 0x800 ? 'utf8' : 'latin1');
    const entry: ZipEntry = {
      name, flags, method: u16(dir, p + 10), crc32: u32(dir, p + 16),
      compressedSize: u32(dir, p + 20), size: u32(dir, p + 24), localHeaderOffset: u32(dir, p + 42),
    };
    applyZip64Extra(entry, dir.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen), `${path}: ${name}`);
    entries.push(entry);
    p = next;
  }
  return entries;
}

// Sizes and offsets that overflow 32 bits read as 0xFFFFFFFF and live, in this order, in extra field 1.
function applyZip64Extra(e: ZipEntry, extra: Uint8Array, where: string): void {
  for (let q = 0; q + 4 <= extra.length; q += 4 + u16(extra, q + 2)) {
    if (u16(extra, q) !== 1) continue;
    let r = q + 4;
    const end = r + u16(extra, q + 2);
    const take = () => { const v = r + 8 <= end ? u64(extra, r) : NaN; r += 8; return v; };
    if (e.size === 0xffffffff) e.size = take();
    if (e.compressedSize === 0xffffffff) e.compressedSize = take();
    if (e.localHeaderOffset === 0xffffffff) e.localHeaderOffset = take();
    if ([e.size, e.compressedSize, e.localHeaderOffset].some(Number.isNaN)) throw new Error(`${where}: truncated zip64 extra field`);
    return;
  }
}
