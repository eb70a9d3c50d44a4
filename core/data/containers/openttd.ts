// OpenTTD sound sets (.cat, as in OpenSFX): a table of (offset, size) u32 LE pairs, then per entry a
// length-prefixed description and `size` bytes of RIFF WAV. The first offset is also the table's
// length, which is how the entry count is found. OpenSFX sets the top bit of every offset to mark
// its "new format"; it is not part of the offset.

export interface CatEntry {
  index: number;
  /** The entry's description, e.g. `"Cow". Original "Cow - Moan 2 - 96kHz.wav" by ...`. */
  name: string;
  wav: Uint8Array;
}

export function readCat(bytes: Uint8Array, file = 'sound set'): CatEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) throw new Error(`${file}: truncated (${bytes.length} bytes)`);
  const tableBytes = view.getUint32(0, true) & 0x7fffffff;
  if (tableBytes === 0 || tableBytes % 8 !== 0) throw new Error(`${file}: corrupt header (first offset ${tableBytes} is not a table length)`);
  if (tableBytes > bytes.length) throw new Error(`${file}: truncated table (${tableBytes / 8} entries need ${tableBytes} bytes, file has ${bytes.length})`);
  const out: CatEntry[] = [];
  for (let index = 0; index < tableBytes / 8; index++) {
    const offset = view.getUint32(index * 8, true) & 0x7fffffff;
    const size = view.getUint32(index * 8 + 4, true);
    const nameLen = bytes[offset];
    const start = offset + 1 + (nameLen ?? 0);
    if (nameLen === undefined || start + size > bytes.length) throw new Error(`${file}: entry ${index} is truncated (${offset}+${size} past the end)`);
    const name = Buffer.from(bytes.subarray(offset + 1, start)).toString('latin1').replace(/\0+$/, '');
    const wav = bytes.subarray(start, start + size);
    if (String.fromCharCode(...wav.subarray(0, 4)) !== 'RIFF') throw new Error(`${file}: entry ${index} (${name}) is not a RIFF WAV`);
    out.push({ index, name, wav });
  }
  return out;
}
