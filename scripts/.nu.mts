// New-user material: a held-out long recording (seed 777) as 44.1 kHz stereo, channels at different gains, with references.
import { mkdirSync } from 'node:fs';
import { parseTrainConfig } from '../core/train/config';
import { longHeldOutSet } from '../core/train/heldout';
import { resample, writeAudioFile } from '../core/io/audio';
const seconds = Number(process.argv[2] ?? 40);
const data = parseTrainConfig({ data: { corpus: 'heldout', segmentSeconds: 4, mixtureTypes: { 'speech+env': 1 } } }).data;
const set = await longHeldOutSet({ data, split: 'test', mixtures: 1, seed: 777, seconds });
const b = set.batches[0]!;
const T = b.time;
const src = [b.sources.subarray(0, T), b.sources.subarray(T, 2 * T)];
const up = await Promise.all(src.map((s) => resample(s, 8000, 44100, 'fast')));
const gains = [[0.9, 0.5], [0.6, 0.8]]; // [channel][source]
let peak = 0;
for (const c of [0, 1]) for (let t = 0; t < up[0]!.length; t++) peak = Math.max(peak, Math.abs(gains[c]![0]! * up[0]![t]! + gains[c]![1]! * up[1]![t]!));
const g = 0.8 / peak;
const ch = (s: number) => [0, 1].map((c) => up[s]!.map((v) => g * gains[c]![s]! * v));
const sp = ch(0), en = ch(1);
mkdirSync('/tmp/nu', { recursive: true });
await writeAudioFile('/tmp/nu/mix.wav', [0, 1].map((c) => sp[c]!.map((v, t) => v + en[c]![t]!)), 44100, 'wav16');
await writeAudioFile('/tmp/nu/ref-speech.wav', sp, 44100, 'wav32f');
await writeAudioFile('/tmp/nu/ref-env.wav', en, 44100, 'wav32f');
console.log('written', seconds, 's', set.packageOf.get(b.clipIds[0]![1]!));
