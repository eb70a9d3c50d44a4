// The Ogg page and MPEG frame checks, fed a stream block by block as openAudio reads a file: however
// the stream is cut, the verdict is the one given for the whole at once.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mpegCheck, oggCheck, type StreamCheck } from '../../../core/io/integrity';
import { Rng } from '../../../core/data/random';
import { ensureTestAudio, pkgFile } from '../../fixtures/test-audio';

const OGG = () => pkgFile('minetest-data', 'usr/share/games/minetest/games/minetest_game/mods/fire/sounds/fire_large.ogg');
const MP3 = () => pkgFile('scratch', 'usr/share/scratch/Media/Sounds/Effects/Typing.mp3');
const MP3_ID3 = () => pkgFile('scratch', 'usr/share/scratch/Media/Sounds/Effects/WaterRunning.mp3');

before(async () => {
  await ensureTestAudio();
});

/** The verdict for `bytes` fed in blocks of the given sizes (cycled), or all at once. */
function verdict(check: StreamCheck, bytes: Uint8Array, sizes: number[] = [bytes.length]): string | null {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!);
    const v = check.push(bytes.subarray(at, at + n));
    at += n;
    if (v !== undefined) return v;
  }
  return check.end();
}

function id3Length(b: Uint8Array): number {
  if (b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return 0;
  return 10 + (((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f));
}

/** Copies of a stream with what befalls files: cut short, bytes overwritten, a stretch lost, zero padding, junk. */
function variants(b: Uint8Array, rng: Rng): Uint8Array[] {
  const at = (f: number) => Math.floor(b.length * f);
  const hit = b.slice();
  for (let i = 0; i < 64; i++) hit[at(0.4) + i] = (i * 31 + 7) & 0xff;
  const flipped = b.slice();
  flipped[at(rng.uniform(0.1, 0.9))]! ^= 0x10;
  const junkTail = b.slice();
  for (let i = at(0.8); i < b.length; i++) junkTail[i] = (i * 37 + 11) & 0x7f;
  const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
  return [
    b, b.subarray(0, at(0.7)), b.subarray(0, b.length - 3), hit, flipped, junkTail,
    cat(b.subarray(0, at(0.3)), b.subarray(at(0.5))),
    cat(b, new Uint8Array(5000)),
    cat(b, new Uint8Array(100), Uint8Array.of(1, 2, 3)),
    cat(new Uint8Array(300).fill(0x55), b),
  ];
}

test('Ogg and MPEG checks give the same verdict however the stream is cut into blocks', async () => {
  const rng = new Rng('integrity');
  const cuts = [[1], [7, 1, 300], [4096], [65_536, 3], Array.from({ length: 50 }, () => Math.floor(rng.uniform(1, 20_000)))];
  const seen = new Set<string>();
  const streams: [string, Uint8Array, () => StreamCheck][] = [];
  for (const v of variants(new Uint8Array(await readFile(OGG())), rng)) streams.push(['ogg', v, () => oggCheck(44100)]);
  for (const file of [MP3(), MP3_ID3()]) {
    for (const v of variants(new Uint8Array(await readFile(file)), rng)) streams.push(['mp3', v, () => mpegCheck(id3Length(v))]);
  }
  for (const [kind, bytes, check] of streams) {
    const whole = verdict(check(), bytes);
    seen.add(`${kind}: ${whole?.replace(/\b\d+(\.\d+)?\b/g, 'N') ?? 'whole'}`);
    for (const sizes of cuts) assert.equal(verdict(check(), bytes, sizes), whole, `${kind} (${bytes.length} bytes) in blocks of ${sizes.slice(0, 3).join(', ')}`);
  }
  // The variants reach each kind of verdict.
  for (const v of [
    'ogg: whole', 'ogg: truncated: the Ogg page at byte N is incomplete (audio after N s lost)',
    'ogg: corrupt Ogg page at byte N (checksum mismatch; audio after N s is damaged)',
    'mp3: whole', 'mp3: truncated: the MPEG frame at byte N is incomplete (audio after N s lost)',
    'mp3: corrupt MP3 data: N bytes unreadable at byte N (audio after N s damaged)',
    'mp3: corrupt MP3 data: the stream breaks off at byte N (audio after N s lost)',
  ]) assert.ok(seen.has(v), `${v} in ${[...seen].join(' | ')}`);
});

test('a check walks megabytes of padding block by block and skips an ID3 tag longer than a block', () => {
  // 8 MB of zeros after a frame: padding (whole); the same with one byte set at the end: a broken stream.
  const frame = new Uint8Array(417);
  frame.set([0xff, 0xfb, 0x90, 0x64]); // MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417 bytes
  const padded = new Uint8Array(8 << 20);
  padded.set(frame);
  const feed = (b: Uint8Array) => verdict(mpegCheck(0), b, [1 << 20]);
  assert.equal(feed(padded), null);
  padded[padded.length - 1] = 1;
  assert.equal(feed(padded), 'corrupt MP3 data: the stream breaks off at byte 417 (audio after 0.03 s lost)');
  // An ID3 tag longer than the first blocks is skipped, not kept.
  const tagged = new Uint8Array(3 << 20);
  tagged.set(frame, 2 << 20);
  assert.equal(verdict(mpegCheck(2 << 20), tagged, [65_536]), null);
});
