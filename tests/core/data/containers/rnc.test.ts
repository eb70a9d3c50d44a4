import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc16, rncUnpack } from '../../../../core/data/containers/rnc';
import { crc16Bitwise, lzTokens, rncPack } from './rncEncoder';

const enc = (s: string) => new TextEncoder().encode(s);

/** Fixes the packed-data CRC after the test has tampered with the stream. */
function withCrc(packed: Uint8Array): Uint8Array {
  const out = packed.slice();
  new DataView(out.buffer).setUint16(14, crc16Bitwise(out.subarray(18)));
  return out;
}

test('crc16 is CRC-16/ARC', () => {
  assert.equal(crc16(enc('123456789')), 0xbb3d);
  assert.equal(crc16(new Uint8Array(0)), 0);
});

test('a stream of literal runs unpacks to exactly its bytes', () => {
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
  const one = rncPack([[{ literal: data }]]);
  assert.deepEqual(rncUnpack(one), data);
  // One run per block.
  const parts = [data.subarray(0, 1), data.subarray(1, 17), data.subarray(17)];
  assert.deepEqual(rncUnpack(rncPack(parts.map((p) => [{ literal: p }]))), data);
});

test('matches copy from earlier output, overlapping runs included', () => {
  const tokens = [
    { literal: enc('abc') }, { back: 3, length: 30 }, // abcabc... overlapping its own output
    { literal: enc('xyz') }, { back: 1, length: 2 }, // the shortest match
    { back: 38, length: 5 }, // straight after a match (an empty literal run between), back to the start
  ];
  const expected = enc(`${'abc'.repeat(11)}xyzzz${'abcab'}`);
  assert.deepEqual(rncUnpack(rncPack([tokens])), expected);
});

test('a greedy LZ stream of 8-bit audio-like data round-trips, across blocks and reused tables', () => {
  const data = Uint8Array.from({ length: 3000 }, (_, i) => 128 + Math.round(60 * Math.sin(i / 7)) + ((i >> 6) & 3));
  const tokens = lzTokens(data);
  assert.ok(tokens.some((t) => 'back' in t) && tokens.some((t) => 'literal' in t), 'the test data has both');
  const half = Math.floor(tokens.length / 2);
  const blocks = [tokens.slice(0, half), tokens.slice(half)];
  assert.deepEqual(rncUnpack(rncPack(blocks)), data);
  assert.deepEqual(rncUnpack(rncPack(blocks, { emptyTables: true })), data);
});

test('trailing bytes after the packed length are ignored', () => {
  const packed = rncPack([[{ literal: enc('hello') }]]);
  const padded = new Uint8Array(packed.length + 7);
  padded.set(packed);
  assert.deepEqual(rncUnpack(padded), enc('hello'));
});

test('bad input fails with a message naming the file and the problem', () => {
  const good = rncPack([lzTokens(enc('the quick brown fox jumps over the lazy dog, the quick brown fox'))]);
  assert.throws(() => rncUnpack(good.subarray(0, 10), 'f.rnc'), /^Error: f\.rnc: truncated header \(10 bytes\)$/);
  assert.throws(() => rncUnpack(good.subarray(0, good.length - 3), 'f.rnc'), /f\.rnc: truncated \(header says \d+ packed bytes, \d+ present\)/);
  const notRnc = good.slice();
  notRnc[3] = 2;
  assert.throws(() => rncUnpack(notRnc), /not RNC method-1 data/);

  const flipped = good.slice();
  flipped[good.length - 2]! ^= 0x40;
  assert.throws(() => rncUnpack(flipped), /packed data CRC mismatch/);

  const wrongCrc = good.slice();
  new DataView(wrongCrc.buffer).setUint16(12, crc16(enc('something else')));
  assert.throws(() => rncUnpack(wrongCrc), /unpacked data CRC mismatch/);

  const longer = good.slice();
  const view = new DataView(longer.buffer);
  view.setUint32(4, view.getUint32(4) + 5);
  assert.throws(() => rncUnpack(longer), /unpacked \d+ bytes, header says \d+/);
  view.setUint32(4, 10);
  assert.throws(() => rncUnpack(longer), /overflows the 10-byte output/);
});

test('corrupt streams with valid CRCs fail cleanly instead of reading out of bounds', () => {
  // Three 1-bit codes: over-subscribed.
  const bad = rncPack([[{ literal: enc('hi') }]]);
  // Least significant bit first: 2 flag bits, a 5-bit count of 3, then 4-bit lengths 1, 1, 1.
  bad[18] = 0b10001100;
  bad[19] = 0b10001000;
  bad[20]! &= ~0b111;
  assert.throws(() => rncUnpack(withCrc(bad)), /over-subscribed/);

  // A match reaching back before the start of the output.
  assert.throws(() => rncUnpack(rncPack([[{ back: 1, length: 4 }]])), /match reaches 1 bytes back from 0/);

  // A literal run longer than the data left in the file.
  const run = rncPack([[{ literal: enc('abcdefgh') }]]);
  const cut = run.subarray(0, run.length - 4);
  new DataView(cut.buffer, cut.byteOffset).setUint32(8, cut.length - 18);
  assert.throws(() => rncUnpack(withCrc(cut)), /truncated literal run/);
});
