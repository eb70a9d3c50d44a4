// FLAC encoding through libflacjs (libFLAC compiled with emscripten). The asm.js build is used because
// the wasm build of libflacjs fetches its .wasm by URL, which Node's fetch cannot do with a file path.
import { createRequire } from 'node:module';

interface FlacModule {
  isReady(): boolean;
  on(event: 'ready', cb: () => void): void;
}
interface FlacEncoder {
  encode(pcm?: Int32Array[], frames?: number, interleaved?: false): boolean;
  getSamples(): Uint8Array;
  clearData(): void;
  destroy(): void;
}
type EncoderCtor = new (flac: FlacModule, options: {
  sampleRate: number; channels: number; bitsPerSample: number; compression: number; totalSamples: number; verify: boolean;
}) => FlacEncoder;

const require = createRequire(import.meta.url);
let loaded: Promise<{ flac: FlacModule; Encoder: EncoderCtor }> | undefined;

function load(): Promise<{ flac: FlacModule; Encoder: EncoderCtor }> {
  loaded ??= new Promise((resolve) => {
    const flac = (require('libflacjs') as (variant?: string) => FlacModule)();
    const { Encoder } = require('libflacjs/lib/encoder') as { Encoder: EncoderCtor };
    if (flac.isReady()) resolve({ flac, Encoder });
    else flac.on('ready', () => resolve({ flac, Encoder }));
  });
  return loaded;
}

export const FLAC_BITS = 24;

function quantize(channels: readonly Float32Array[], bits: number): Int32Array[] {
  const frames = channels[0]?.length ?? 0;
  const scale = 2 ** (bits - 1);
  return channels.map((ch) => {
    const q = new Int32Array(frames);
    for (let i = 0; i < frames; i++) q[i] = Math.max(-scale, Math.min(scale - 1, Math.round(ch[i]! * scale)));
    return q;
  });
}

/** Encodes planar float channels as FLAC (24-bit, compression level 5, verified while encoding). */
export async function encodeFlac(channels: Float32Array[], sampleRate: number, bits = FLAC_BITS): Promise<Uint8Array> {
  const { flac, Encoder } = await load();
  const frames = channels[0]?.length ?? 0;
  const enc = new Encoder(flac, {
    sampleRate, channels: channels.length, bitsPerSample: bits, compression: 5, totalSamples: frames, verify: true,
  });
  try {
    if (!enc.encode(quantize(channels, bits), frames, false) || !enc.encode()) throw new Error('libFLAC failed to encode');
    return enc.getSamples();
  } finally {
    enc.destroy();
  }
}

/** A FLAC stream encoded block by block: each call hands out the bytes finished so far. */
export interface FlacStreamEncoder {
  encode(block: readonly Float32Array[]): Uint8Array;
  finish(): Uint8Array;
  destroy(): void;
}

/** Like encodeFlac, for audio that arrives in blocks; `totalFrames` (0: unknown) goes in the stream header. */
export async function createFlacEncoder(channels: number, sampleRate: number, totalFrames = 0, bits = FLAC_BITS): Promise<FlacStreamEncoder> {
  const { flac, Encoder } = await load();
  const enc = new Encoder(flac, { sampleRate, channels, bitsPerSample: bits, compression: 5, totalSamples: totalFrames, verify: true });
  const take = (): Uint8Array => {
    const bytes = enc.getSamples();
    enc.clearData();
    return bytes;
  };
  return {
    encode(block) {
      if (!enc.encode(quantize(block, bits), block[0]?.length ?? 0, false)) throw new Error('libFLAC failed to encode');
      return take();
    },
    finish() {
      if (!enc.encode()) throw new Error('libFLAC failed to finish the stream');
      return take();
    },
    destroy: () => enc.destroy(),
  };
}
