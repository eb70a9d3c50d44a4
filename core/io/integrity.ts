// Structure checks for the compressed formats whose decoders resynchronise silently: a damaged Ogg
// page or MP3 frame would otherwise decode as a shorter file with no error at all. Each returns a
// reason naming the part lost, or null when the stream is whole. They are fed the stream block by
// block as it is read and hold a page or a frame at a time, so files of any length are checked in
// little memory; the verdict does not depend on how the stream is cut into blocks.

/**
 * The part of a stream a check still needs: blocks come in at the end, the check lets go of what it
 * has passed. `final` once nothing more will come (then `end` is the stream's length).
 */
class ByteWindow {
  /** Stream offset of buf[0]. */
  private start = 0;
  /** Offset below which nothing is kept (may be past `end`: bytes not yet seen are skipped). */
  private keep = 0;
  private buf: Uint8Array = new Uint8Array(0);
  final = false;

  /** Bytes seen so far. */
  get end(): number {
    return this.start + this.buf.length;
  }

  /** The byte at stream offset `i` (kept and seen). */
  at(i: number): number {
    return this.buf[i - this.start]!;
  }

  /** Stream offsets [from, to), cut at `end`. */
  bytes(from: number, to: number): Uint8Array {
    return this.buf.subarray(from - this.start, to - this.start);
  }

  push(block: Uint8Array): void {
    const at = this.end;
    const skip = Math.min(block.length, Math.max(0, this.keep - at));
    if (this.buf.length === 0) {
      this.buf = block.subarray(skip);
      this.start = at + skip;
      return;
    }
    const joined = new Uint8Array(this.buf.length + block.length);
    joined.set(this.buf);
    joined.set(block, this.buf.length);
    this.buf = joined;
  }

  /** Lets go of everything before offset `pos`. */
  release(pos: number): void {
    if (pos <= this.keep) return;
    this.keep = pos;
    const drop = Math.min(pos, this.end) - this.start;
    this.buf = this.buf.subarray(drop);
    this.start += drop;
  }
}

/** A check that pauses (yields) when it needs bytes not seen yet, and returns its verdict. */
type Check = Generator<void, string | null, void>;

/** Waits until the stream reaches offset `end`; false if it ends before. */
function* reach(w: ByteWindow, end: number): Generator<void, boolean, void> {
  while (w.end < end && !w.final) yield;
  return w.end >= end;
}

/** A check fed a stream block by block. */
export interface StreamCheck {
  /** Takes the next block; returns the damage found (a reason), null once the stream is known to be whole, undefined while it cannot tell yet. */
  push(block: Uint8Array): string | null | undefined;
  /** The stream has ended: the verdict. */
  end(): string | null;
}

function streamCheck(check: (w: ByteWindow) => Check): StreamCheck {
  const w = new ByteWindow();
  const run = check(w);
  let verdict: string | null | undefined;
  const step = (): string | null | undefined => {
    const r = run.next();
    if (r.done) verdict = r.value;
    return verdict;
  };
  return {
    push(block) {
      if (verdict !== undefined) return verdict;
      w.push(block);
      return step();
    },
    end() {
      if (verdict !== undefined) return verdict;
      w.final = true;
      const v = step();
      if (v === undefined) throw new Error('a structure check asked for bytes past the end');
      return v;
    },
  };
}

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
function oggCrc(page: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const v = i >= 22 && i < 26 ? 0 : page[i]!;
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ v) & 0xff]!) >>> 0;
  }
  return crc;
}

const seconds = (samples: number, rate: number) => `${(samples / rate).toFixed(2)} s`;

/**
 * Walks every page of an Ogg stream: each must start where the previous ended, carry its checksum
 * and the next sequence number. `rate` turns granule positions into times for the message.
 */
export function oggCheck(rate: number): StreamCheck {
  return streamCheck((w) => oggPages(w, rate));
}

function* oggPages(w: ByteWindow, rate: number): Check {
  let p = 0;
  let lastGranule = 0;
  let ended = false;
  const nextSeq = new Map<number, number>();
  while (yield* reach(w, p + 1)) {
    const isPage = (yield* reach(w, p + 27)) && w.at(p) === 0x4f && w.at(p + 1) === 0x67 && w.at(p + 2) === 0x67 && w.at(p + 3) === 0x53;
    // Bytes after the end-of-stream page (padding, a tag) follow complete audio.
    if (!isPage && ended) return null;
    if (!isPage) return `corrupt Ogg data at byte ${p} (after ${seconds(lastGranule, rate)}): no page starts there`;
    const segments = w.at(p + 26);
    yield* reach(w, p + 27 + segments);
    let size = 27 + segments;
    for (let i = 0; i < segments && p + 27 + i < w.end; i++) size += w.at(p + 27 + i);
    if (!(yield* reach(w, p + size))) return `truncated: the Ogg page at byte ${p} is incomplete (audio after ${seconds(lastGranule, rate)} lost)`;
    const page = w.bytes(p, p + size);
    const view = new DataView(page.buffer, page.byteOffset, 27);
    if (oggCrc(page) !== view.getUint32(22, true)) {
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
    ended = (page[5]! & 0x04) !== 0;
    p += size;
    w.release(p);
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
function mpegFrame(w: ByteWindow, p: number): MpegFrame | 'free' | null {
  if (p + 4 > w.end || w.at(p) !== 0xff || (w.at(p + 1) & 0xe0) !== 0xe0) return null;
  const version = (w.at(p + 1) >> 3) & 3;
  const layer = 4 - ((w.at(p + 1) >> 1) & 3);
  const bitrateIndex = w.at(p + 2) >> 4;
  const rateIndex = (w.at(p + 2) >> 2) & 3;
  const rates = MPEG_RATES[version];
  if (!rates || layer === 4 || bitrateIndex === 15 || rateIndex === 3) return null;
  if (bitrateIndex === 0) return 'free';
  const v1 = version === 3;
  const bitrate = BITRATES[v1 ? 'v1' : 'v2'][layer - 1]![bitrateIndex]! * 1000;
  const rate = rates[rateIndex]!;
  const padding = (w.at(p + 2) >> 1) & 1;
  if (layer === 1) return { size: (Math.floor((12 * bitrate) / rate) + padding) * 4, samples: 384, rate };
  const perFrame = layer === 3 && !v1 ? 576 : 1152;
  return { size: Math.floor(((perFrame / 8) * bitrate) / rate) + padding, samples: perFrame, rate };
}

/** Tags that may follow the last frame: ID3v1, APEv2, Lyrics3, an appended ID3v2. */
function trailingTag(w: ByteWindow, p: number): boolean {
  const text = String.fromCharCode(...w.bytes(p, p + 8));
  return text.startsWith('TAG') || text.startsWith('APETAGEX') || text.startsWith('LYRICS') || text.startsWith('ID3');
}

function allZero(w: ByteWindow, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (w.at(i) !== 0) return false;
  return true;
}

/**
 * Follows the chain of MPEG audio frames from byte `start`: every frame must begin where the
 * previous one ended, up to trailing tags or zero padding. Free-format streams (no frame sizes) are
 * not checked.
 */
export function mpegCheck(start: number): StreamCheck {
  return streamCheck((w) => mpegFrames(w, start));
}

function* mpegFrames(w: ByteWindow, start: number): Check {
  let p = start;
  let samples = 0;
  let rate = 0;
  w.release(p);
  while (yield* reach(w, p + 1)) {
    yield* reach(w, p + 4);
    const frame = mpegFrame(w, p);
    if (frame === 'free') return null;
    if (frame) {
      if (!(yield* reach(w, p + frame.size))) {
        if (w.end - p < 4 || allZero(w, p + 4, w.end)) return null;
        return `truncated: the MPEG frame at byte ${p} is incomplete (audio after ${seconds(samples, frame.rate)} lost)`;
      }
      samples += frame.samples;
      rate = frame.rate;
      p += frame.size;
      w.release(p);
      continue;
    }
    yield* reach(w, p + 8);
    if (trailingTag(w, p)) return null;
    // Zeros from here to the end are padding; anything else is junk up to the next frame that is
    // followed by another (a real resynchronisation point, not a stray 0xFF byte), if any.
    let nonzero = false;
    let next = p;
    let found = false;
    for (;;) {
      if (next >= w.end && !(yield* reach(w, next + 1))) break;
      const v = w.at(next);
      if (v !== 0) nonzero = true;
      if (v === 0xff && next > p && (yield* isFrameChain(w, next))) {
        found = true;
        break;
      }
      next++;
      if ((next & 0xffff) === 0) w.release(next);
    }
    if (!nonzero) return null;
    // Padding or junk between a tag and the first frame is common and loses no audio.
    if (samples === 0 && found) {
      p = next;
      w.release(p);
      continue;
    }
    const at = rate ? seconds(samples, rate) : 'the start';
    return found
      ? `corrupt MP3 data: ${next - p} bytes unreadable at byte ${p} (audio after ${at} damaged)`
      : `corrupt MP3 data: the stream breaks off at byte ${p} (audio after ${at} lost)`;
  }
  return null;
}

/** A frame header at `p` followed by another right after it (or by the end of the stream). */
function* isFrameChain(w: ByteWindow, p: number): Generator<void, boolean, void> {
  if (p + 4 > w.end) yield* reach(w, p + 4);
  const f = mpegFrame(w, p);
  if (!f || f === 'free') return false;
  const q = p + f.size;
  if (q + 4 > w.end) yield* reach(w, q + 4);
  return q >= w.end || mpegFrame(w, q) !== null;
}
