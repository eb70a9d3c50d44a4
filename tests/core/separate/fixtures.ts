// Real speech for the separation tests (Debian's asterisk-core-sounds-en-wav: 8 kHz 16-bit mono
// telephone prompts) and small deterministic separators built from tf ops.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { tf } from '../../../core/tf';
import type { Tensor2D, Tensor3D, Variable } from '../../../core/tf';
import type { Separator } from '../../../core/models/types';

const CACHE = join(import.meta.dirname, '..', '..', '..', '.cache', 'test-audio');
const PACKAGE = 'asterisk-core-sounds-en-wav';
const VOICE_DIR = join(CACHE, 'root', 'usr', 'share', 'asterisk', 'sounds', 'en_US_f_Allison');

/** Downloads and unpacks the package once (apt-get download + dpkg-deb -x, no root needed). */
export function speechDir(): string {
  if (existsSync(VOICE_DIR)) return VOICE_DIR;
  mkdirSync(CACHE, { recursive: true });
  const download = (): void => void execFileSync('apt-get', ['download', PACKAGE], { cwd: CACHE, stdio: 'pipe' });
  try {
    download();
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'pipe' });
    download();
  }
  const deb = readdirSync(CACHE).find((f) => f.startsWith(PACKAGE) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${PACKAGE} left no .deb in ${CACHE}`);
  execFileSync('dpkg-deb', ['-x', join(CACHE, deb), join(CACHE, 'root')]);
  return VOICE_DIR;
}

export function readWav(path: string): { rate: number; samples: Float32Array } {
  const wav = new wavefile.WaveFile(readFileSync(path));
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number; audioFormat: number };
  if (fmt.numChannels !== 1 || fmt.bitsPerSample !== 16 || fmt.audioFormat !== 1) throw new Error(`${path}: expected mono 16-bit PCM`);
  // The raw little-endian bytes (wavefile's own conversion is far slower for minutes of audio).
  const bytes = (wav.data as { samples: Uint8Array }).samples;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
  return { rate: fmt.sampleRate, samples };
}

/** At least `seconds` of real speech at 8 kHz: the package's prompts concatenated, looped if needed. */
export function longSpeech(seconds: number): Float32Array {
  const dir = speechDir();
  const files = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort();
  const out = new Float32Array(Math.round(seconds * 8000));
  let at = 0;
  for (let i = 0; at < out.length; i = (i + 1) % files.length) {
    const { samples } = readWav(join(dir, files[i]!));
    const n = Math.min(samples.length, out.length - at);
    out.set(samples.subarray(0, n), at);
    at += n;
  }
  return out;
}

/** Windowed-sinc low-pass (Hann), unit DC gain. */
export function lowPassTaps(taps: number, cutoffHz: number, rate: number): Float32Array {
  const h = new Float32Array(taps);
  const mid = (taps - 1) / 2;
  const fc = cutoffHz / rate;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const t = i - mid;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1));
    h[i] = sinc * hann;
    sum += h[i]!;
  }
  for (let i = 0; i < taps; i++) h[i]! /= sum;
  return h;
}

/**
 * A time-invariant linear "separator": source 1 is the signal below `cutoffHz`, source 2 the rest.
 * Its receptive field is (taps - 1) / 2 samples each side, so chunked separation with a larger margin
 * must reproduce its single-pass output. `gains` scales the outputs (to break mixture consistency).
 */
export class BandSplitSeparator implements Separator {
  readonly nSources = 2;
  readonly variables: readonly Variable[] = [];
  private readonly filter: tf.Tensor3D;
  calls = 0;
  inputStd?: number;

  constructor(
    readonly taps = 65,
    cutoffHz = 1000,
    private readonly gains: readonly [number, number] = [1, 1],
  ) {
    this.filter = tf.tensor3d(lowPassTaps(taps, cutoffHz, 8000), [taps, 1, 1]);
  }

  apply(mixture: Tensor2D): Tensor3D {
    this.calls++;
    return tf.tidy(() => {
      const low = tf.conv1d(mixture.expandDims(2) as Tensor3D, this.filter, 1, 'same').squeeze([2]) as Tensor2D;
      const high = mixture.sub(low);
      return tf.stack([low.mul(this.gains[0]), high.mul(this.gains[1])], 1) as Tensor3D;
    });
  }

  dispose(): void {
    this.filter.dispose();
  }
}

/** Wraps a separator and reverses its output order for the chunks (rows, counted across calls) `swap` picks. */
export class SwappingSeparator implements Separator {
  readonly variables: readonly Variable[] = [];
  private row = 0;

  constructor(
    private readonly inner: Separator,
    private readonly swap: (row: number) => boolean,
  ) {}

  get nSources(): number {
    return this.inner.nSources;
  }

  apply(mixture: Tensor2D): Tensor3D {
    return tf.tidy(() => {
      const rows = tf.unstack(this.inner.apply(mixture)) as tf.Tensor2D[]; // each [nSrc, time]
      return tf.stack(rows.map((r) => (this.swap(this.row++) ? r.reverse(0) : r))) as Tensor3D;
    });
  }

  dispose(): void {
    this.inner.dispose();
  }
}

/** Records the largest tf.memory().numBytes seen while a forward call's output is alive. */
export class MemoryProbe implements Separator {
  readonly variables: readonly Variable[] = [];
  peakBytes = 0;

  constructor(private readonly inner: Separator) {}

  get nSources(): number {
    return this.inner.nSources;
  }

  apply(mixture: Tensor2D): Tensor3D {
    const y = this.inner.apply(mixture);
    this.peakBytes = Math.max(this.peakBytes, tf.memory().numBytes);
    return y;
  }

  dispose(): void {
    this.inner.dispose();
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Signal-to-error ratio in dB of `est` against `ref`. */
export function snrDb(ref: Float32Array, est: Float32Array): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i]! * ref[i]!;
    e += (ref[i]! - est[i]!) ** 2;
  }
  return 10 * Math.log10(s / e);
}
