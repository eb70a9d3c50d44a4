import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCat } from '../../../../core/data/containers/openttd';
import { encodeWav } from '../../../../core/io/wav';

const wavA = encodeWav([Float32Array.from({ length: 400 }, (_, i) => Math.sin(i / 5) / 2)], 44100, { bits: 16, float: false });
const wavB = encodeWav([new Float32Array(100).fill(0.25)], 22050, { bits: 8, float: false });

/** A .cat as OpenSFX writes it: top bit set on offsets, names NUL-terminated, a trailing source name. */
function makeCat(entries: { name: string; wav: Uint8Array }[]): Uint8Array {
  const table = Buffer.alloc(entries.length * 8);
  const bodies: Buffer[] = [];
  let offset = table.length;
  for (const [i, e] of entries.entries()) {
    const name = Buffer.from(`${e.name}\0`, 'latin1');
    const body = Buffer.concat([Buffer.from([name.length]), name, e.wav, Buffer.from('\x0csrc/x_00.wav', 'latin1')]);
    table.writeUInt32LE((offset | 0x80000000) >>> 0, i * 8);
    table.writeUInt32LE(e.wav.length, i * 8 + 4);
    bodies.push(body);
    offset += body.length;
  }
  return new Uint8Array(Buffer.concat([table, ...bodies]));
}

const u8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

test('reads each entry\'s description and its WAV bytes exactly', () => {
  const entries = readCat(makeCat([
    { name: '"Cow". Original "Cow - Moan 2.wav" by "Jarred". License: CC0.', wav: wavA },
    { name: '"Tropical: Bird (1)". By Someone.', wav: wavB },
  ]));
  assert.deepEqual(entries.map((e) => [e.index, e.name]), [
    [0, '"Cow". Original "Cow - Moan 2.wav" by "Jarred". License: CC0.'],
    [1, '"Tropical: Bird (1)". By Someone.'],
  ]);
  assert.deepEqual(u8(entries[0]!.wav), wavA);
  assert.deepEqual(u8(entries[1]!.wav), wavB);
});

test('truncated or corrupt sets fail with what is wrong', () => {
  const good = makeCat([{ name: 'a', wav: wavA }, { name: 'b', wav: wavB }]);
  assert.throws(() => readCat(good.subarray(0, 4), 'x.cat'), /^Error: x\.cat: truncated \(4 bytes\)$/);
  assert.throws(() => readCat(good.subarray(0, 12), 'x.cat'), /x\.cat: truncated table \(2 entries need 16 bytes, file has 12\)/);
  assert.throws(() => readCat(good.subarray(0, good.length - 30), 'x.cat'), /x\.cat: entry 1 is truncated/);
  const odd = good.slice();
  odd[0] = 7;
  assert.throws(() => readCat(odd, 'x.cat'), /x\.cat: corrupt header \(first offset \d+ is not a table length\)/);
  const notWav = makeCat([{ name: 'a', wav: new TextEncoder().encode('JUNK....WAVEfmt ') }]);
  assert.throws(() => readCat(notWav, 'x.cat'), /x\.cat: entry 0 \(a\) is not a RIFF WAV/);
});
