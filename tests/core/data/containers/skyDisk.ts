// Builds a small sky.dnr/sky.dsk pair the way the game's disk is laid out.
import { rncPack, lzTokens } from './rncEncoder';

export interface DiskFile {
  number: number;
  /** The samples (or any body) after the 22-byte header. */
  body: Uint8Array;
  /** 'packed': header kept, body RNC-packed; 'packed-header': header packed too; 'stored': as is. */
  mode: 'packed' | 'packed-header' | 'stored';
  /** Place the file at a 16-byte boundary and give its offset in paragraphs. */
  paragraph?: boolean;
}

export function header(bodyLength: number, packed: boolean): Uint8Array {
  const h = new Uint8Array(22);
  const view = new DataView(h.buffer);
  const total = 22 + bodyLength;
  // Bit 7 marks packing; the high byte holds bits 16-23 of the total size.
  view.setUint16(0, (packed ? 0x80 : 0) | ((total >> 16) << 8), true);
  view.setUint16(12, total & 0xffff, true);
  return h;
}

export function makeDisk(files: DiskFile[]): { dnr: Uint8Array; dsk: Uint8Array } {
  const dsk: number[] = [];
  const dnr = new Uint8Array(4 + files.length * 8);
  const view = new DataView(dnr.buffer);
  view.setUint32(0, files.length, true);
  for (const [i, f] of files.entries()) {
    if (f.paragraph) while (dsk.length % 16) dsk.push(0xaa);
    const h = header(f.body.length, f.mode !== 'stored');
    const whole = new Uint8Array([...h, ...f.body]);
    const bytes = f.mode === 'stored' ? whole
      : f.mode === 'packed' ? new Uint8Array([...h, ...rncPack([lzTokens(f.body)])])
        : new Uint8Array([...h, ...rncPack([lzTokens(whole)])]);
    const offset = f.paragraph ? (dsk.length >> 4) | 0x800000 : dsk.length;
    const flags = bytes.length | (f.mode === 'stored' ? 0x800000 : 0) | (f.mode === 'packed-header' ? 0x400000 : 0);
    const at = 4 + i * 8;
    view.setUint16(at, f.number, true);
    dnr.set([offset & 0xff, (offset >> 8) & 0xff, offset >> 16, flags & 0xff, (flags >> 8) & 0xff, flags >> 16], at + 2);
    dsk.push(...bytes);
  }
  return { dnr, dsk: Uint8Array.from(dsk) };
}

/** A short 8-bit "speech" body with repeats, so that the packer finds matches. */
export function speech(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => 128 + Math.round(50 * Math.sin((i * (seed + 3)) / 11)));
}
