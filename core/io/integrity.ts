// Structure checks for the compressed formats whose decoders resynchronise silently: a damaged Ogg
// page or MP3 frame would otherwise decode as a shorter file with no error at all. Each returns a
// reason naming the part lost, or null when the stream is whole.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32 (polynomial 0x04c11db7, unreflected) of a page whose checksum field reads as zero. */
function oggCrc(b: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    const v = i >= start + 22 && i < start + 26 ? 0 : b[i]!;
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ v) & 0xff]!) >>> 0;
  }
  return crc;
}

const seconds = (samples: number, rate: number) => `${(samples / rate).toFixed(2)} s`;

/**
 * Walks every page of an Ogg stream: each must start where the previous ended, carry its checksum
 * and the next sequence number. `rate` turns granule positions into times for the message.
 */
export function oggDamage(b: Uint8Array, rate: number): string | null {
  let p = 0;
  let lastGranule = 0;
  let ended = false;
  const nextSeq = new Map<number, number>();
  while (p < b.length) {
    const isPage = p + 27 <= b.length && b[p] === 0x4f && b[p + 1] === 0x67 && b[p + 2] === 0x67 && b[p + 3] === 0x53;
    // Bytes after the end-of-stream page (padding, a tag) follow complete audio.
    if (!isPage && ended) return null;
    if (!isPage) return `corrupt Ogg data at byte ${p} (after ${seconds(lastGranule, rate)}): no page starts there`;
    const view = new DataView(b.buffer, b.byteOffset + p, 27);
    const segments = b[p + 26]!;
    let size = 27 + segments;
    for (let i = 0; i < segments && p + 27 + i < b.length; i++) size += b[p + 27 + i]!;
    if (p + size > b.length) return `truncated: the Ogg page at byte ${p} is incomplete (audio after ${seconds(lastGranule, rate)} lost)`;
    if (oggCrc(b, p, p + size) !== view.getUint32(22, true)) {
      return `corrupt Ogg page at byte ${p} (checksum mismatch; audio after ${seconds(lastGranule, rate)} is damaged)`;
    }
    const serial = view.getUint32(14, true);
    const seq = view.getUint32(18, true);
    const expected = nextSeq.get(serial);
    if (expected !== undefined && seq !== expected) {
      return `corrupt Ogg stream: ${seq - expected} page(s) missing before byte ${p} (after ${seconds(lastGranule, rate)})`;
    }
    nextSeq.set(serial, seq + 1);
    const granule = view.getUint32(6, true) + view.getUint32(10, true) * 2 ** 32;
    // -1 marks a page on which no packet ends.
    if (view.getInt32(6, true) !== -1 || view.getInt32(10, true) !== -1) lastGranule = granule;
    ended = (b[p + 5]! & 0x04) !== 0;
    p += size;
  }
  // A stream that ends on a whole page without the end-of-stream flag is how some encoders write
  // complete files (548 of klettres-data's clips): nothing shows that audio is missing.
  return null;
}

const MPEG_RATES = [[11025, 12000, 8000], null, [22050, 24000, 16000], [44100, 48000, 32000]] as const;
// kbit/s by [MPEG-1?][layer 1..3][index].
const BITRATES: Record<'v1' | 'v2', number[][]> = {
  v1: [
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  ],
  v2: [
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  ],
};

interface MpegFrame { size: number; samples: number; rate: number }

/** The frame whose header starts at `p`; null if none does; 'free' for free-format bitrates, whose size a header does not give. */
function mpegFrame(b: Uint8Array, p: number): MpegFrame | 'free' | null {
  if (p + 4 > b.length || b[p] !== 0xff || (b[p + 1]! & 0xe0) !== 0xe0) return null;
  const version = (b[p + 1]! >> 3) & 3;
  const layer = 4 - ((b[p + 1]! >> 1) & 3);
  const bitrateIndex = b[p + 2]! >> 4;
  const rateIndex = (b[p + 2]! >> 2) & 3;
  const rates = MPEG_RATES[version];
  if (!rates || layer === 4 || bitrateIndex === 15 || rateIndex === 3) return null;
  if (bitrateIndex === 0) return 'free';
  const v1 = version === 3;
  const bitrate = BITRATES[v1 ? 'v1' : 'v2'][layer - 1]![bitrateIndex]! * 1000;
  const rate = rates[rateIndex]!;
  const padding = (b[p + 2]! >> 1) & 1;
  if (layer === 1) return { size: (Math.floor((12 * bitrate) / rate) + padding) * 4, samples: 384, rate };
  const perFrame = layer === 3 && !v1 ? 576 : 1152;
  return { size: Math.floor(((perFrame / 8) * bitrate) / rate) + padding, samples: perFrame, rate };
}

/** Tags that may follow the last frame: ID3v1, APEv2, Lyrics3, an appended ID3v2. */
function trailingTag(b: Uint8Array, p: number): boolean {
  const text = String.fromCharCode(...b.subarray(p, p + 8));
  return text.startsWith('TAG') || text.startsWith('APETAGEX') || text.startsWith('LYRICS') || text.startsWith('ID3');
}

/**
 * Follows the chain of MPEG audio frames from `start`: every frame must begin where the previous
 * one ended, up to trailing tags or zero padding. Free-format streams (no frame sizes) are not checked.
 */
export function mpegDamage(b: Uint8Array, start: number): string | null {
  let p = start;
  let samples = 0;
  let rate = 0;
  while (p < b.length) {
    const frame = mpegFrame(b, p);
    if (frame === 'free') return null;
    if (frame) {
      if (p + frame.size > b.length) {
        if (b.length - p < 4 || b.subarray(p + 4).every((v) => v === 0)) return null;
        return `truncated: the MPEG frame at byte ${p} is incomplete (audio after ${seconds(samples, frame.rate)} lost)`;
      }
      samples += frame.samples;
      rate = frame.rate;
      p += frame.size;
      continue;
    }
    if (trailingTag(b, p) || b.subarray(p).every((v) => v === 0)) return null;
    let next = p + 1;
    while (next < b.length && !isFrameChain(b, next)) next++;
    // Padding or junk between a tag and the first frame is common and loses no audio.
    if (samples === 0 && next < b.length) {
      p = next;
      continue;
    }
    const at = rate ? seconds(samples, rate) : 'the start';
    return next < b.length
      ? `corrupt MP3 data: ${next - p} bytes unreadable at byte ${p} (audio after ${at} damaged)`
      : `corrupt MP3 data: the stream breaks off at byte ${p} (audio after ${at} lost)`;
  }
  return null;
}

/** A frame header at `p` followed by another right after it: a real resynchronisation point, not a stray 0xFF byte. */
function isFrameChain(b: Uint8Array, p: number): boolean {
  const f = mpegFrame(b, p);
  if (!f || f === 'free') return false;
  const q = p + f.size;
  return q >= b.length || mpegFrame(b, q) !== null;
}
