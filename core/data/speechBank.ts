// A few minutes of clean speech from the corpus's training split, shipped with Tilt
// (assets/speech-bank): what adapting the model to a recording (core/train/adapt.ts) mixes with
// the recording's own sound, so a fresh installation can adapt without fetching the corpus.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWav } from '../io/wav';
import { MODEL_RATE } from '../types';
import type { Clip } from './mixer';

export const SPEECH_BANK_DIR = fileURLToPath(new URL('../../assets/speech-bank', import.meta.url));
export const SPEECH_BANK_AUDIO = 'speech.wav';
export const SPEECH_BANK_INDEX = 'clips.json';

/** One clip of the bank: where it sits in the audio file and where it came from. */
export interface SpeechBankClip {
  /** First sample in the bank's audio, and the number of samples. */
  start: number;
  length: number;
  /** The corpus file (inside its Debian package) and its licence. */
  file: string;
  package: string;
  licence: string;
}

export interface SpeechBankIndex {
  rate: number;
  clips: SpeechBankClip[];
}

/** The bank's clips, in memory at MODEL_RATE. */
export async function loadSpeechBank(dir = SPEECH_BANK_DIR): Promise<Clip[]> {
  const index = JSON.parse(await readFile(join(dir, SPEECH_BANK_INDEX), 'utf8')) as SpeechBankIndex;
  const wav = parseWav(new Uint8Array(await readFile(join(dir, SPEECH_BANK_AUDIO))));
  if (wav.sampleRate !== MODEL_RATE || index.rate !== MODEL_RATE) throw new Error(`speech bank ${dir}: expected ${MODEL_RATE} Hz audio, got ${wav.sampleRate} Hz`);
  const audio = wav.channels[0]!;
  return index.clips.map((c) => {
    if (c.start + c.length > audio.length) throw new Error(`speech bank ${dir}: clip ${c.file} lies past the end of ${SPEECH_BANK_AUDIO}`);
    return { id: `${c.package}/${c.file}`, class: 'speech' as const, label: 'speech', split: 'train' as const, audio: audio.slice(c.start, c.start + c.length) };
  });
}
