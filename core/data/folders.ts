// Users' folders as they type and keep them: `~` for the home folder, audio at any depth, and other
// files (documents, playlists, formats Tilt does not read) reported rather than silently passed over.
import { readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { extname, join } from 'node:path';

export const AUDIO_FILE = /\.(wav|flac|ogg|mp3)$/i;

/** `~` and `~/...` name the home folder (shells expand them, but config files and text fields do not). */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

export interface FolderFiles {
  /** Audio files at any depth, sorted. */
  audio: string[];
  /** Other files, with why each is left out. */
  other: { file: string; reason: string }[];
}

// Dot entries are system files (.DS_Store, macOS's ._name.wav resource forks that only look like
// audio) or tools' folders (.git): never the user's recordings.
const hidden = (name: string) => name.startsWith('.');

/** The audio files under `dir` (at any depth, or directly in it) and the other files found there. */
export async function folderFiles(dir: string, recursive = true): Promise<FolderFiles> {
  const out: FolderFiles = { audio: [], other: [] };
  for (const d of await readdir(dir, { withFileTypes: true })) {
    if (hidden(d.name)) continue;
    const p = join(dir, d.name);
    if (d.isDirectory()) {
      if (!recursive) continue;
      const sub = await folderFiles(p);
      out.audio.push(...sub.audio);
      out.other.push(...sub.other);
    } else if (d.isFile()) {
      if (AUDIO_FILE.test(d.name)) out.audio.push(p);
      else out.other.push({ file: p, reason: `not a format Tilt reads (${extname(d.name) || 'no extension'}): WAV, FLAC, Ogg Vorbis and MP3 are` });
    }
  }
  out.audio.sort();
  out.other.sort((a, b) => (a.file < b.file ? -1 : 1));
  return out;
}

/** The sub-folders of `dir` (not hidden), sorted. */
export async function subfolders(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory() && !hidden(d.name)).map((d) => d.name).sort();
}
