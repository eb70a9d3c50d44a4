// RIFF/WAVE parsing and writing. Hand-written rather than through a general library so that every
// malformed header maps to a precise reason (truncated, corrupt, unsupported codec) instead of an
// exception from deep inside a parser.

/** A WAV problem, turned into an AudioFileError (with the file name) by the caller. */
export class WavFormatError extends Error {}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

const CODEC_NAMES: Record<number, string> = {
  0x0002: 'MS ADPCM',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG',
  0x0055: 'MPEG layer 3',
};

// Chunk sizes that recorders write while streaming and never fix up: read the data to the end.
const STREAMING_SIZES = new Set([0, 0xffffffff]);

export interface WavInfo {
  sampleRate: number;
  channels: Float32Array[];
  /** 'pcm' | 'float' | 'alaw' | 'mulaw'. */
  encoding: 'pcm' | 'float' | 'alaw' | 'mulaw';
  bitsPerSample: number;
}

function ascii(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

export function isWav(b: Uint8Array): boolean {
  return b.length >= 12 && ascii(b, 0) === 'RIFF' && ascii(b, 8) === 'WAVE';
}

/** Where a WAV file's samples are and how they are stored: all a reader needs to decode any stretch of them. */
export interface WavLayout {
  sampleRate: number;
  channels: number;
  encoding: WavInfo['encoding'];
  bitsPerSample: number;
  /** Byte offset of the first sample. */
  dataStart: number;
  frames: number;
}

/**
 * Parses the chunks in front of the samples. `bytes` needs to hold the file up to the data chunk's
 * header only; `fileSize` (default bytes.length) is the whole file's, against which the data chunk
 * is checked. Throws WavFormatError with a reason; RangeError when `bytes` ends before the data chunk.
 */
export function parseWavLayout(bytes: Uint8Array, fileSize = bytes.length): WavLayout {
  if (!isWav(bytes)) throw new WavFormatError('corrupt header: not a RIFF/WAVE file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: { tag: number; channels: number; rate: number; blockAlign: number; bits: number } | undefined;
  let data: { start: number; size: number } | undefined;
  let pos = 12;
  while (pos + 8 <= fileSize) {
    if (pos + 8 > bytes.length) throw new RangeError(`parseWavLayout: the header goes on past byte ${bytes.length}`);
    const id = ascii(bytes, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > fileSize) throw new WavFormatError('corrupt header: fmt chunk too short');
      if (body + size > bytes.length) throw new RangeError(`parseWavLayout: the fmt chunk goes on past byte ${bytes.length}`);
      let tag = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const rate = view.getUint32(body + 4, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bits = view.getUint16(body + 14, true);
      if (tag === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40) throw new WavFormatError('corrupt header: WAVE_FORMAT_EXTENSIBLE fmt chunk too short');
        tag = view.getUint16(body + 24, true); // first two bytes of the sub-format GUID
      }
      fmt = { tag, channels, rate, blockAlign, bits };
    } else if (id === 'data') {
      const available = fileSize - body;
      if (STREAMING_SIZES.has(size)) data = { start: body, size: available };
      else if (size > available) {
        throw new WavFormatError(`truncated: data chunk declares ${size} bytes but only ${available} are present`);
      } else data = { start: body, size };
      if (fmt) break;
    }
    pos = body + size + (size & 1);
  }
  if (!fmt) throw new WavFormatError('corrupt header: no fmt chunk');
  if (!data) throw new WavFormatError('truncated: no data chunk');
  const { tag, channels: nCh, rate, bits } = fmt;
  if (nCh === 0) throw new WavFormatError('zero channels');
  if (rate === 0) throw new WavFormatError('corrupt header: sample rate 0');

  let encoding: WavInfo['encoding'];
  if (tag === WAVE_FORMAT_PCM && [8, 16, 24, 32].includes(bits)) encoding = 'pcm';
  else if (tag === WAVE_FORMAT_IEEE_FLOAT && (bits === 32 || bits === 64)) encoding = 'float';
  else if (tag === WAVE_FORMAT_ALAW && bits === 8) encoding = 'alaw';
  else if (tag === WAVE_FORMAT_MULAW && bits === 8) encoding = 'mulaw';
  else {
    const name = CODEC_NAMES[tag] ?? `format tag 0x${tag.toString(16).padStart(4, '0')}`;
    throw new WavFormatError(`unsupported codec: WAV ${name}, ${bits} bits`);
  }
  const frameBytes = (bits / 8) * nCh;
  if (fmt.blockAlign !== 0 && fmt.blockAlign !== frameBytes) {
    throw new WavFormatError(`corrupt header: block align ${fmt.blockAlign} does not match ${nCh} x ${bits} bits`);
  }
  return { sampleRate: rate, channels: nCh, encoding, bitsPerSample: bits, dataStart: data.start, frames: Math.floor(data.size / frameBytes) };
}

/** Decodes whole frames of interleaved samples stored as `layout` says into planar channels. */
export function decodeWavFrames(bytes: Uint8Array, layout: WavLayout): Float32Array[] {
  const bytesPer = layout.bitsPerSample / 8;
  const nCh = layout.channels;
  const frames = Math.floor(bytes.length / (bytesPer * nCh));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const channels = Array.from({ length: nCh }, () => new Float32Array(frames));
  const read = sampleReader(view, layout.encoding, layout.bitsPerSample);
  let p = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nCh; c++) {
      channels[c]![i] = read(p);
      p += bytesPer;
    }
  }
  return channels;
}

export function parseWav(bytes: Uint8Array): WavInfo {
  const layout = parseWavLayout(bytes);
  const frameBytes = (layout.bitsPerSample / 8) * layout.channels;
  const channels = decodeWavFrames(bytes.subarray(layout.dataStart, layout.dataStart + layout.frames * frameBytes), layout);
  return { sampleRate: layout.sampleRate, channels, encoding: layout.encoding, bitsPerSample: layout.bitsPerSample };
}

function sampleReader(view: DataView, encoding: WavInfo['encoding'], bits: number): (p: number) => number {
  if (encoding === 'float') return bits === 32 ? (p) => view.getFloat32(p, true) : (p) => view.getFloat64(p, true);
  if (encoding === 'alaw') return (p) => alawToLinear(view.getUint8(p)) / 32768;
  if (encoding === 'mulaw') return (p) => mulawToLinear(view.getUint8(p)) / 32768;
  switch (bits) {
    case 8: return (p) => (view.getUint8(p) - 128) / 128;
    case 16: return (p) => view.getInt16(p, true) / 32768;
    case 24: return (p) => ((view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16))) / 8388608;
    default: return (p) => view.getInt32(p, true) / 2147483648;
  }
}

// G.711 expansions (ITU-T reference).
function alawToLinear(a: number): number {
  a ^= 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t += seg === 0 ? 8 : 0x108;
  if (seg > 1) t <<= seg - 1;
  return a & 0x80 ? t : -t;
}

function mulawToLinear(u: number): number {
  u = ~u & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

export interface WavEncoding {
  /** 8, 16, 24 or 32 for PCM; 32 or 64 for float. */
  bits: 8 | 16 | 24 | 32 | 64;
  float: boolean;
  /** Write WAVE_FORMAT_EXTENSIBLE (the default for more than two channels, as the format asks). */
  extensible?: boolean;
}

/**
 * The bytes in front of the samples for `frames` frames of `nCh` channels; a file written before
 * its length is known gets its header again, with the final count, once the samples are in.
 */
export function wavHeader(nCh: number, sampleRate: number, enc: WavEncoding, frames: number): Uint8Array {
  const { bits, float } = enc;
  if (float ? bits !== 32 && bits !== 64 : bits === 64) throw new Error(`cannot write ${bits}-bit ${float ? 'float' : 'PCM'} WAV`);
  const extensible = enc.extensible ?? nCh > 2;
  const bytesPer = bits / 8;
  const dataSize = frames * nCh * bytesPer;
  const fmtSize = extensible ? 40 : 16;
  const headerSize = 12 + 8 + fmtSize + 8;
  const out = new Uint8Array(headerSize);
  const view = new DataView(out.buffer);
  const put = (at: number, s: string) => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  put(0, 'RIFF');
  view.setUint32(4, headerSize + dataSize + (dataSize & 1) - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  view.setUint32(16, fmtSize, true);
  const tag = float ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM;
  view.setUint16(20, extensible ? WAVE_FORMAT_EXTENSIBLE : tag, true);
  view.setUint16(22, nCh, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * nCh * bytesPer, true);
  view.setUint16(32, nCh * bytesPer, true);
  view.setUint16(34, bits, true);
  let p = 36;
  if (extensible) {
    view.setUint16(36, 22, true);
    view.setUint16(38, bits, true);
    view.setUint32(40, nCh <= 18 ? (2 ** nCh - 1) : 0, true); // speaker positions in canonical order
    // KSDATAFORMAT_SUBTYPE_{PCM,IEEE_FLOAT}: the tag then 00000000-0010-8000-00AA00389B71.
    view.setUint16(44, tag, true);
    out.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 46);
    p = 60;
  }
  put(p, 'data');
  view.setUint32(p + 4, dataSize, true);
  return out;
}

/** Interleaved sample bytes of planar channels; PCM samples are clipped to [-1, 1) and rounded. */
export function encodeWavFrames(channels: readonly Float32Array[], enc: WavEncoding): Uint8Array {
  const nCh = channels.length;
  const frames = channels[0]?.length ?? 0;
  const bytesPer = enc.bits / 8;
  const out = new Uint8Array(frames * nCh * bytesPer);
  const view = new DataView(out.buffer);
  const write = sampleWriter(view, enc.bits, enc.float);
  let p = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nCh; c++) {
      write(p, channels[c]![i]!);
      p += bytesPer;
    }
  }
  return out;
}

/** Writes planar float channels as a WAV file; PCM samples are clipped to [-1, 1) and rounded. */
export function encodeWav(channels: Float32Array[], sampleRate: number, enc: WavEncoding): Uint8Array {
  const frames = channels[0]?.length ?? 0;
  const header = wavHeader(channels.length, sampleRate, enc, frames);
  const body = encodeWavFrames(channels, enc);
  const out = new Uint8Array(header.length + body.length + (body.length & 1));
  out.set(header);
  out.set(body, header.length);
  return out;
}

function sampleWriter(view: DataView, bits: number, float: boolean): (p: number, x: number) => void {
  if (float) return bits === 32 ? (p, x) => view.setFloat32(p, x, true) : (p, x) => view.setFloat64(p, x, true);
  const scale = 2 ** (bits - 1);
  const q = (x: number) => Math.max(-scale, Math.min(scale - 1, Math.round(x * scale)));
  switch (bits) {
    case 8: return (p, x) => view.setUint8(p, q(x) + 128);
    case 16: return (p, x) => view.setInt16(p, q(x), true);
    case 24: return (p, x) => {
      const v = q(x);
      view.setUint8(p, v & 0xff);
      view.setUint8(p + 1, (v >> 8) & 0xff);
      view.setInt8(p + 2, v >> 16);
    };
    default: return (p, x) => view.setInt32(p, q(x), true);
  }
}
