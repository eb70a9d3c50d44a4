// Qt binary resource files (.rcc, versions 1-3), as GCompris ships its activities' sounds. Layout:
// a "qres" header with the offsets of a tree of fixed-size nodes, a names area (u16 length, u32
// hash, UTF-16BE) and a data area (u32 length, bytes), all big-endian.
import { inflateSync } from 'node:zlib';

const COMPRESSED = 1;
const DIRECTORY = 2;
const COMPRESSED_ZSTD = 4;

export interface RccContents {
  files: { path: string; data: Uint8Array }[];
  /** Entries that exist but could not be read (zstd needs a newer Node than this project's). */
  skipped: { path: string; reason: string }[];
}

/** The files under the tree (paths without a leading slash), keeping only those `want` accepts. */
export function readRcc(bytes: Uint8Array, file = 'resource file', want: (path: string) => boolean = () => true): RccContents {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => { throw new Error(`${file}: ${why}`); };
  if (bytes.length < 20) fail(`truncated header (${bytes.length} bytes)`);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== 'qres') fail('not a Qt resource file (no "qres" magic)');
  const version = view.getUint32(4);
  if (version < 1 || version > 3) fail(`unsupported version ${version}`);
  const tree = view.getUint32(8);
  const dataArea = view.getUint32(12);
  const names = view.getUint32(16);
  const nodeSize = version >= 2 ? 22 : 14;
  const need = (at: number, n: number, what: string) => { if (at + n > bytes.length) fail(`truncated ${what} at ${at}`); };

  const nameAt = (offset: number): string => {
    const at = names + offset;
    need(at, 6, 'name');
    const len = view.getUint16(at);
    need(at + 6, len * 2, 'name');
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(view.getUint16(at + 6 + i * 2));
    return s;
  };

  const out: RccContents = { files: [], skipped: [] };
  const seen = new Set<number>();
  const visit = (index: number, prefix: string): void => {
    if (seen.has(index)) fail(`corrupt tree (node ${index} reached twice)`);
    seen.add(index);
    const at = tree + index * nodeSize;
    need(at, nodeSize, 'tree node');
    const flags = view.getUint16(at + 4);
    const path = index === 0 ? '' : `${prefix}${nameAt(view.getUint32(at))}`;
    if (flags & DIRECTORY) {
      const count = view.getUint32(at + 6);
      const first = view.getUint32(at + 10);
      for (let c = 0; c < count; c++) visit(first + c, path ? `${path}/` : '');
      return;
    }
    if (!want(path)) return;
    if (flags & COMPRESSED_ZSTD) {
      out.skipped.push({ path, reason: 'zstd-compressed, which this Node cannot inflate' });
      return;
    }
    const dataAt = dataArea + view.getUint32(at + 10);
    need(dataAt, 4, 'data entry');
    const len = view.getUint32(dataAt);
    need(dataAt + 4, len, `data of ${path}`);
    let data = bytes.subarray(dataAt + 4, dataAt + 4 + len);
    if (flags & COMPRESSED) {
      // qCompress format: the uncompressed size (u32 BE), then a zlib stream.
      if (len < 4) fail(`${path}: compressed entry too short`);
      const expected = view.getUint32(dataAt + 4);
      try {
        data = inflateSync(data.subarray(4));
      } catch (e) {
        fail(`${path}: corrupt zlib data (${(e as Error).message})`);
      }
      if (data.length !== expected) fail(`${path}: inflated to ${data.length} bytes, header says ${expected}`);
    }
    out.files.push({ path, data });
  };
  visit(0, '');
  return out;
}
