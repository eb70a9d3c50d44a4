// Beneath a Steel Sky's data disk: sky.dnr indexes the files held in sky.dsk. Each file starts with
// a 22-byte header of eleven u16 LE words; the first word's bit 7 marks an RNC-packed body.
// Speech lines are files 50000-59999, raw unsigned 8-bit mono at 11025 Hz after the header.
import { isRnc, rncUnpack } from './rnc';

export const SKY_SPEECH_RATE = 11025;
const HEADER = 22;

export interface SkyFile {
  number: number;
  offset: number;
  size: number;
  /** Stored as is: no RNC unpacking even if the header says packed. */
  stored: boolean;
  /** The packed stream holds the header too, instead of the header being kept unpacked before it. */
  packedHeader: boolean;
}

/** u32 LE count, then 8 bytes per file: number (u16), offset (24 bits) and flags (24 bits). */
export function readDinnerTable(dnr: Uint8Array, file = 'sky.dnr'): SkyFile[] {
  if (dnr.length < 4) throw new Error(`${file}: truncated (${dnr.length} bytes)`);
  const view = new DataView(dnr.buffer, dnr.byteOffset, dnr.byteLength);
  const count = view.getUint32(0, true);
  if (4 + count * 8 > dnr.length) throw new Error(`${file}: truncated (${count} entries need ${4 + count * 8} bytes, file has ${dnr.length})`);
  const u24 = (at: number) => dnr[at]! | (dnr[at + 1]! << 8) | (dnr[at + 2]! << 16);
  return Array.from({ length: count }, (_, i) => {
    const at = 4 + i * 8;
    const offset = u24(at + 2);
    const flags = u24(at + 5);
    return {
      number: view.getUint16(at, true),
      // Bit 23 marks an offset counted in 16-byte paragraphs, for files past 8 MB.
      offset: offset & 0x800000 ? (offset & 0x7fffff) * 16 : offset,
      size: flags & 0x3fffff,
      stored: (flags & 0x800000) !== 0,
      packedHeader: (flags & 0x400000) !== 0,
    };
  });
}

/** A file's contents, header first, unpacked when packed. */
export function skyFileData(dsk: Uint8Array, f: SkyFile, file = 'sky.dsk'): Uint8Array {
  const where = `${file}: file ${f.number}`;
  if (f.size < HEADER) throw new Error(`${where}: ${f.size} bytes is shorter than its header`);
  if (f.offset + f.size > dsk.length) throw new Error(`${where}: truncated (${f.offset}+${f.size} past the end)`);
  const raw = dsk.subarray(f.offset, f.offset + f.size);
  if (f.stored || !(raw[0]! & 0x80)) return raw;
  const body = raw.subarray(HEADER);
  if (!isRnc(body)) throw new Error(`${where}: header says RNC-packed but no RNC signature follows`);
  const unpacked = rncUnpack(body, where);
  if (f.packedHeader) return unpacked;
  const out = new Uint8Array(HEADER + unpacked.length);
  out.set(raw.subarray(0, HEADER));
  out.set(unpacked, HEADER);
  return out;
}

/** A speech file's samples, centred and scaled to [-1, 1). */
export function skySpeechSamples(data: Uint8Array): Float32Array {
  const pcm = data.subarray(HEADER);
  const x = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) x[i] = (pcm[i]! - 128) / 128;
  return x;
}
