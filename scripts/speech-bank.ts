// Builds assets/speech-bank (core/data/speechBank.ts): clips of the full corpus's training split,
// taken from each speech package in turn (the one with the fewest seconds so far next), so every
// language and recording chain has its share; seeded.
//   node --import tsx scripts/speech-bank.ts [--seconds 300]
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { audible } from '../core/dsp/energy';
import { readPcm } from '../core/data/manifest';
import { SPEECH_BANK_AUDIO, SPEECH_BANK_DIR, SPEECH_BANK_INDEX, type SpeechBankClip, type SpeechBankIndex } from '../core/data/speechBank';
import { Rng } from '../core/data/random';
import { parseTrainConfig } from '../core/train/config';
import { dataEntries } from '../core/train/data';
import { encodeWav } from '../core/io/wav';
import { MODEL_RATE } from '../core/types';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '300' } } });
const wanted = Number(values.seconds) * MODEL_RATE;
const data = parseTrainConfig({ data: { corpus: 'full' } }).data;
const { entries, cacheDir } = await dataEntries(data);
const speech = entries.filter((e) => e.class === 'speech' && e.split === 'train' && e.pcm && e.duration >= 0.5 && e.duration <= 8);
const byPackage = new Map<string, typeof speech>();
for (const e of speech) byPackage.set(e.package, [...(byPackage.get(e.package) ?? []), e]);
const rng = new Rng('speech-bank');
for (const list of byPackage.values()) for (let i = list.length - 1; i > 0; i--) { const j = rng.int(i + 1); [list[i], list[j]] = [list[j]!, list[i]!]; }
const packages = [...byPackage.keys()].sort();
const seconds = new Map(packages.map((p) => [p, 0]));
const taken = new Map(packages.map((p) => [p, 0]));
const parts: Float32Array[] = [];
const clips: SpeechBankClip[] = [];
let at = 0;
while (at < wanted) {
  const left = packages.filter((p) => taken.get(p)! < byPackage.get(p)!.length);
  if (left.length === 0) break;
  const p = left.reduce((a, b) => (seconds.get(b)! < seconds.get(a)! ? b : a));
  const e = byPackage.get(p)![taken.get(p)!]!;
  taken.set(p, taken.get(p)! + 1);
  const audio = await readPcm(join(cacheDir, e.pcm!));
  if (!audible(audio)) continue;
  // Clips keep their own level; the mixer sets each source's level.
  parts.push(audio);
  // The file as it sits in its package, not in this machine's cache.
  const file = e.file.slice(e.file.indexOf(`/${p}/`) + p.length + 2);
  clips.push({ start: at, length: audio.length, file, package: p, licence: e.licence });
  seconds.set(p, seconds.get(p)! + audio.length / MODEL_RATE);
  at += audio.length;
}
const all = new Float32Array(at);
parts.reduce((o, p) => (all.set(p, o), o + p.length), 0);
const peak = all.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
if (peak > 1) all.forEach((v, i) => (all[i] = v / peak));
await mkdir(SPEECH_BANK_DIR, { recursive: true });
await writeFile(join(SPEECH_BANK_DIR, SPEECH_BANK_AUDIO), encodeWav([all], MODEL_RATE, { bits: 16, float: false }));
const index: SpeechBankIndex = { rate: MODEL_RATE, clips };
await writeFile(join(SPEECH_BANK_DIR, SPEECH_BANK_INDEX), JSON.stringify(index, null, 1) + '\n');
console.log(`${clips.length} clips, ${(at / MODEL_RATE).toFixed(0)} s, from ${packages.length} packages`);
