import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { crc32, ZipReader } from '../../../../core/data/containers/zip';

interface Item { name: string; data: Uint8Array; method: 0 | 8; crc?: number }

/** A zip with the given entries; `zip64` moves sizes, offsets and counts into the zip64 records. */
function makeZip(items: Item[], opts: { zip64?: boolean; comment?: string } = {}): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const it of items) {
    const body = it.method === 8 ? deflateRawSync(it.data) : Buffer.from(it.data);
    const name = Buffer.from(it.name);
    const crc = it.crc ?? crc32(it.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(it.method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(it.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(3, 28); // a local extra field the reader must skip
    parts.push(local, name, Buffer.from([0, 0, 0]), body);
    const extra = opts.zip64 ? Buffer.alloc(28) : Buffer.alloc(0);
    if (opts.zip64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(it.data.length), 4);
      extra.writeBigUInt64LE(BigInt(body.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(0x800, 8);
    c.writeUInt16LE(it.method, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(opts.zip64 ? 0xffffffff : body.length, 20);
    c.writeUInt32LE(opts.zip64 ? 0xffffffff : it.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(opts.zip64 ? 0xffffffff : offset, 42);
    central.push(c, name, extra);
    offset += 30 + name.length + 3 + body.length;
  }
  const dir = Buffer.concat(central);
  const tail: Buffer[] = [];
  if (opts.zip64) {
    const z = Buffer.alloc(56);
    z.writeUInt32LE(0x06064b50, 0);
    z.writeBigUInt64LE(44n, 4);
    z.writeBigUInt64LE(BigInt(items.length), 24);
    z.writeBigUInt64LE(BigInt(items.length), 32);
    z.writeBigUInt64LE(BigInt(dir.length), 40);
    z.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(offset + dir.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(z, loc);
  }
  const comment = Buffer.from(opts.comment ?? '');
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : items.length, 8);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : items.length, 10);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : dir.length, 12);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : offset, 16);
  eocd.writeUInt16LE(comment.length, 20);
  return new Uint8Array(Buffer.concat([...parts, dir, ...tail, eocd, comment])); // a copy that .slice() copies
}

// Plain Uint8Array views, so that Buffers compare equal to them.
const u8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const wav = Uint8Array.from({ length: 5000 }, (_, i) => (i % 50) * 3);
const text = new TextEncoder().encode('stored, not deflated');
let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'tilt-zip-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

async function open(bytes: Uint8Array, name = 'a.zip'): Promise<ZipReader> {
  await writeFile(join(dir, name), bytes);
  return ZipReader.open(join(dir, name));
}

test('crc32 is the zip CRC-32', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});

for (const zip64 of [false, true]) {
  test(`lists entries and reads stored and deflated ones exactly${zip64 ? ' (zip64 records)' : ''}`, async () => {
    const zip = await open(makeZip([
      { name: 'readme.txt', data: text, method: 0 },
      { name: 'sound/world/fire1.wav', data: wav, method: 8 },
    ], { zip64, comment: 'a comment, which the reader must look past' }));
    try {
      assert.deepEqual(zip.entries.map((e) => [e.name, e.method, e.size]), [['readme.txt', 0, text.length], ['sound/world/fire1.wav', 8, wav.length]]);
      assert.ok(zip.entries[1]!.compressedSize < wav.length, 'deflated');
      assert.deepEqual(u8(await zip.read(zip.entries[1]!)), wav);
      assert.deepEqual(u8(await zip.read(zip.entries[0]!)), text);
    } finally {
      await zip.close();
    }
  });
}

test('a CRC mismatch is an error, for stored and deflated entries alike', async () => {
  const zip = await open(makeZip([
    { name: 'bad.wav', data: wav, method: 8, crc: (crc32(wav) ^ 1) >>> 0 },
    { name: 'bad.txt', data: text, method: 0, crc: 1234 },
  ]));
  try {
    await assert.rejects(zip.read(zip.entries[0]!), /a\.zip: bad\.wav: CRC-32 mismatch/);
    await assert.rejects(zip.read(zip.entries[1]!), /bad\.txt: CRC-32 mismatch/);
  } finally {
    await zip.close();
  }
});

test('truncated and corrupt archives fail with what is wrong', async () => {
  const good = makeZip([{ name: 'x.wav', data: wav, method: 8 }]);
  await assert.rejects(open(good.subarray(0, good.length - 10), 'cut.zip'), /cut\.zip: not a zip file \(no end of central directory record\)/);
  await assert.rejects(open(new Uint8Array(0), 'empty.zip'), /not a zip file/);

  // Lose the front of the file: the directory now points past the end.
  const front = good.subarray(30);
  await assert.rejects(open(front, 'front.zip'), /front\.zip: truncated central directory/);

  const badDir = good.slice();
  const dirStart = new DataView(badDir.buffer).getUint32(badDir.length - 6, true);
  badDir[dirStart] = 0;
  await assert.rejects(open(badDir, 'dir.zip'), /dir\.zip: corrupt central directory at entry 0/);

  const badLocal = good.slice();
  badLocal[0] = 0;
  const z1 = await open(badLocal, 'local.zip');
  await assert.rejects(z1.read(z1.entries[0]!), /local\.zip: x\.wav: corrupt local header signature/);
  await z1.close();

  const badDeflate = good.slice();
  badDeflate[30 + 5 + 3] = 0b111; // a final block of the reserved type 3
  const z2 = await open(badDeflate, 'deflate.zip');
  await assert.rejects(z2.read(z2.entries[0]!), /deflate\.zip: x\.wav: corrupt deflate data \(invalid block type\)/);
  await z2.close();

  const z3 = await open(good, 'method.zip');
  await assert.rejects(z3.read({ ...z3.entries[0]!, method: 14 }), /unsupported compression method 14/);
  await assert.rejects(z3.read({ ...z3.entries[0]!, flags: 1 }), /encrypted entries are not supported/);
  await assert.rejects(z3.read({ ...z3.entries[0]!, compressedSize: good.length }), /truncated entry data/);
  await z3.close();
});
