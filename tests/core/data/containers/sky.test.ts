import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDinnerTable, skyFileData, skySpeechSamples } from '../../../../core/data/containers/sky';
import { header, makeDisk, speech } from './skyDisk';

const a = speech(700, 1);
const b = speech(300, 2);
const c = speech(500, 3);
const { dnr, dsk } = makeDisk([
  { number: 50001, body: a, mode: 'packed' },
  { number: 59500, body: b, mode: 'stored', paragraph: true },
  { number: 50002, body: c, mode: 'packed-header', paragraph: true },
]);

test('the dinner table gives numbers, offsets (paragraph offsets scaled), sizes and flags', () => {
  const files = readDinnerTable(dnr);
  assert.deepEqual(files.map((f) => [f.number, f.stored, f.packedHeader]), [[50001, false, false], [59500, true, false], [50002, false, true]]);
  assert.equal(files[0]!.offset, 0);
  for (const f of files.slice(1)) assert.equal(f.offset % 16, 0);
  assert.ok(files[1]!.offset > 0 && files[2]!.offset > files[1]!.offset);
  assert.equal(files[1]!.size, 22 + b.length);
});

test('files come out header first with the body unpacked, however they were stored', () => {
  const files = readDinnerTable(dnr);
  assert.deepEqual(skyFileData(dsk, files[0]!), new Uint8Array([...header(a.length, true), ...a]));
  assert.deepEqual(skyFileData(dsk, files[1]!), new Uint8Array([...header(b.length, false), ...b]));
  assert.deepEqual(skyFileData(dsk, files[2]!), new Uint8Array([...header(c.length, true), ...c]));
  // A clear packing bit in the header means stored, whatever the table says.
  const plain = makeDisk([{ number: 50003, body: a, mode: 'stored' }]);
  const [f] = readDinnerTable(plain.dnr);
  assert.deepEqual(skyFileData(plain.dsk, { ...f!, stored: false }), plain.dsk);
});

test('speech samples are the bytes after the header as unsigned 8-bit', () => {
  const x = skySpeechSamples(new Uint8Array([...header(4, false), 0, 128, 192, 255]));
  assert.deepEqual([...x], [-1, 0, 0.5, 127 / 128]);
});

test('truncated or inconsistent disks fail with what is wrong', () => {
  assert.throws(() => readDinnerTable(dnr.subarray(0, 3), 'sky.dnr'), /^Error: sky\.dnr: truncated \(3 bytes\)$/);
  assert.throws(() => readDinnerTable(dnr.subarray(0, 20), 'sky.dnr'), /sky\.dnr: truncated \(3 entries need 28 bytes, file has 20\)/);
  const files = readDinnerTable(dnr);
  assert.throws(() => skyFileData(dsk.subarray(0, dsk.length - 1), files[2]!), /sky\.dsk: file 50002: truncated/);
  assert.throws(() => skyFileData(dsk, { ...files[0]!, size: 10 }), /file 50001: 10 bytes is shorter than its header/);
  const noRnc = dsk.slice();
  noRnc[22] = 0x58;
  assert.throws(() => skyFileData(noRnc, files[0]!), /file 50001: header says RNC-packed but no RNC signature follows/);
  const corrupt = dsk.slice();
  corrupt[60]! ^= 1;
  assert.throws(() => skyFileData(corrupt, files[0]!), /sky\.dsk: file 50001: packed data CRC mismatch/);
});
