// Zip archives made whole in memory, for folders of a few MB (a model folder, downloaded from serve
// mode). Each file is deflated when that makes it smaller (model.json, the card), else stored (the
// weights hardly compress). No zip64: more than 65,535 files or 4 GB is refused.
import { readFile, stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { filesUnder } from './fs';

export interface ZipInput {
  /** Path inside the archive, with forward slashes. */
  name: string;
  data: Uint8Array;
  modified: Date;
}

const LIMIT = 0xffffffff;
/** Bit 11: names are UTF-8. */
const UTF8 = 0x0800;

/** MS-DOS time and date, the zip format's (two-second resolution, from 1980). */
function dosTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export function zip(files: readonly ZipInput[]): Buffer {
  if (files.length > 0xffff) throw new RangeError(`zip: ${files.length} files is more than a zip without zip64 holds`);
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const deflated = deflateRawSync(f.data);
    const method = deflated.length < f.data.length ? 8 : 0;
    const body = method === 8 ? deflated : f.data;
    if (f.data.length > LIMIT || offset + body.length > LIMIT) throw new RangeError('zip: more than 4 GB');
    const { time, date } = dosTime(f.modified);
    const crc = crc32(f.data);
    // The fields from "version needed" to the name's length, which both headers hold, at `at`.
    const describe = (header: Buffer, at: number) => {
      header.writeUInt16LE(20, at);
      header.writeUInt16LE(UTF8, at + 2);
      header.writeUInt16LE(method, at + 4);
      header.writeUInt16LE(time, at + 6);
      header.writeUInt16LE(date, at + 8);
      header.writeUInt32LE(crc, at + 10);
      header.writeUInt32LE(body.length, at + 14);
      header.writeUInt32LE(f.data.length, at + 18);
      header.writeUInt16LE(name.length, at + 22);
      return header;
    };
    const local = describe(Buffer.alloc(30), 4);
    local.writeUInt32LE(0x04034b50, 0);
    const entry = describe(Buffer.alloc(46), 6);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(0x0314, 4); // made by: Unix, zip 2.0 (so the mode below counts)
    entry.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    entry.writeUInt32LE(offset, 42);
    parts.push(local, name, Buffer.from(body.buffer, body.byteOffset, body.length));
    central.push(entry, name);
    offset += local.length + name.length + body.length;
  }
  const size = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, end]);
}

/** Every file under `dir` (sorted, sub-folders too), named `<top>/<path>` in the archive. */
export async function zipFolder(dir: string, top: string): Promise<Buffer> {
  const files: ZipInput[] = [];
  for (const path of await filesUnder(dir)) {
    const name = `${top}/${relative(dir, path).split(sep).join('/')}`;
    files.push({ name, data: await readFile(path), modified: (await stat(path)).mtime });
  }
  return zip(files);
}
