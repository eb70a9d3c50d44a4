// Collects audio files from a drop, walking into dropped folders.
export const AUDIO_EXTENSIONS = ['wav', 'flac', 'ogg', 'oga', 'mp3'];
export const AUDIO_ACCEPT = AUDIO_EXTENSIONS.map((e) => `.${e}`).join(',');

export function isAudio(name: string): boolean {
  return AUDIO_EXTENSIONS.includes(name.split('.').pop()?.toLowerCase() ?? '');
}

function readEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    const next = () => reader.readEntries((batch) => {
      if (!batch.length) return resolve(all);
      all.push(...batch);
      next();
    }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    if (isAudio(file.name)) out.push(file);
  } else if (entry.isDirectory) {
    for (const e of await readEntries(entry as FileSystemDirectoryEntry)) await walk(e, out);
  }
}

/** Files of a drop: loose files as given (the engine reports bad ones), folders for their audio. */
export async function droppedFiles(dt: DataTransfer): Promise<File[]> {
  const out: File[] = [];
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.() ?? null);
  if (entries.some((e) => e?.isDirectory)) {
    for (const e of entries) if (e) await walk(e, out);
    return out;
  }
  return [...dt.files];
}
