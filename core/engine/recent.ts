// The recent results: the separations of this engine and of earlier ones (the desktop app, `tilt
// serve`), with where their stems were exported, kept in the engine's data folder beside the settings
// so that a restarted engine still lists them. Newest first and capped; every change rewrites the file
// atomically (a crash leaves the old list or the new one, never half of one); a file that cannot be read
// (corrupt, edited by hand, from another version) is kept aside, said so in the log, and the list
// starts empty.
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { AUDIO_FORMATS } from '../types';
import type { ExportResult, RecentResult, SeparationResult } from './types';

/** Results kept. */
export const MAX_RECENT = 50;
/** Exports kept per result. */
export const MAX_RECENT_EXPORTS = 10;
const VERSION = 1;

// What a list read from disk must hold, entry by entry (an entry that does not fit is left out).
const PATH_TEXT = z.string().min(1).max(4096).refine((v) => !v.includes('\0'));

/** An exported file as the list keeps it: its size says whether the file there is still the one written. */
const STORED_FILE = z.looseObject({
  stem: PATH_TEXT, fileName: PATH_TEXT, path: PATH_TEXT, format: z.enum(AUDIO_FORMATS), bytes: z.number().min(0),
});
const STORED_EXPORT = z.looseObject({ dir: PATH_TEXT, at: PATH_TEXT, files: z.array(STORED_FILE) });
const STORED_RECENT = z.looseObject({
  resultId: PATH_TEXT, fileName: PATH_TEXT, sourcePath: PATH_TEXT.optional(),
  model: z.looseObject({
    id: PATH_TEXT, name: PATH_TEXT,
    checkpoint: z.looseObject({ kind: z.enum(['best', 'last']), step: z.number() }).optional(),
  }),
  separatedAt: PATH_TEXT, durationSec: z.number(), exports: z.array(STORED_EXPORT),
});

type StoredFile = z.output<typeof STORED_FILE>;
type StoredRecent = Omit<RecentResult, 'available' | 'exports'> & { exports: z.output<typeof STORED_EXPORT>[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The same file separated by the same model (and checkpoint): a new separation of it takes the old one's place. */
function sameSeparation(a: StoredRecent, b: StoredRecent): boolean {
  return a.sourcePath !== undefined && a.sourcePath === b.sourcePath && a.model.id === b.model.id && a.model.checkpoint?.kind === b.model.checkpoint?.kind;
}

export class RecentResults {
  private entries: StoredRecent[] = [];
  private readonly loaded: Promise<void>;
  private writing: Promise<void> = Promise.resolve();

  /** `log`: where a list that cannot be read or written is reported (the engine's log, stderr). */
  constructor(readonly file: string, private readonly log: (message: string) => void = (m) => console.warn(m)) {
    this.loaded = this.load();
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log(`tilt: cannot read the recent results list ${this.file} (${(e as Error).message}): starting an empty one`);
      return;
    }
    let entries: unknown[];
    try {
      const v: unknown = JSON.parse(text);
      if (!isObject(v) || !Array.isArray(v.results)) throw new Error('it holds no "results" list');
      entries = v.results;
    } catch (e) {
      const aside = `${this.file}.corrupt`;
      const kept = await copyFile(this.file, aside).then(() => true, () => false);
      this.log(`tilt: the recent results list ${this.file} is not readable (${(e as Error).message}): starting an empty one${kept ? ` (the unreadable file is kept as ${aside})` : ''}`);
      return;
    }
    const valid = entries.map((e) => STORED_RECENT.safeParse(e)).flatMap((r) => (r.success ? [r.data as StoredRecent] : []));
    if (valid.length < entries.length) this.log(`tilt: left out ${entries.length - valid.length} unreadable entr${entries.length - valid.length === 1 ? 'y' : 'ies'} of the recent results list ${this.file}`);
    this.entries = valid.slice(0, MAX_RECENT);
  }

  /** Puts a finished separation first. */
  async add(r: SeparationResult, at = new Date()): Promise<void> {
    await this.loaded;
    const entry: StoredRecent = {
      resultId: r.resultId, fileName: r.fileName, ...(r.sourcePath ? { sourcePath: r.sourcePath } : {}),
      model: r.model, separatedAt: at.toISOString(), durationSec: r.durationSec, exports: [],
    };
    // Separated again: where the earlier separation's stems went is still worth showing.
    const earlier = this.entries.filter((e) => e.resultId === r.resultId || sameSeparation(e, entry));
    entry.exports = earlier.flatMap((e) => e.exports).slice(0, MAX_RECENT_EXPORTS);
    this.entries = [entry, ...this.entries.filter((e) => !earlier.includes(e))].slice(0, MAX_RECENT);
    await this.save();
  }

  /** Records where an export of result `resultId` wrote its files (nothing when the result is not in the list). */
  async noteExport(resultId: string, out: ExportResult, at = new Date()): Promise<void> {
    await this.loaded;
    const entry = this.entries.find((e) => e.resultId === resultId);
    if (!entry) return;
    const files = out.files.map((f) => ({ stem: f.stem, fileName: f.fileName, path: f.path, format: f.format, bytes: f.bytes }));
    entry.exports = [{ dir: out.dir, at: at.toISOString(), files }, ...entry.exports].slice(0, MAX_RECENT_EXPORTS);
    await this.save();
  }

  /** The list, newest first: `available` from the engine, `present` from the disk. */
  async list(available: (resultId: string) => boolean): Promise<RecentResult[]> {
    // After the writes so far: what is listed is what another engine (the CLI, the next start) reads.
    await this.flush();
    const present = async (f: StoredFile) => (await stat(f.path).catch(() => null))?.size === f.bytes;
    return Promise.all(this.entries.map(async (e) => ({
      ...structuredClone(e),
      available: available(e.resultId),
      exports: await Promise.all(e.exports.map(async (x) => ({
        dir: x.dir, at: x.at,
        files: await Promise.all(x.files.map(async (f) => ({ stem: f.stem, fileName: f.fileName, path: f.path, format: f.format, present: await present(f) }))),
      }))),
    })));
  }

  /** Whether `path` is a file an export in the list wrote. */
  async wrote(path: string): Promise<boolean> {
    await this.loaded;
    const p = resolve(path);
    return this.entries.some((e) => e.exports.some((x) => x.files.some((f) => resolve(f.path) === p)));
  }

  /** Resolves once every change so far is on disk (or failed, which is logged). */
  async flush(): Promise<void> {
    await this.loaded;
    await this.writing;
  }

  private save(): Promise<void> {
    // One write at a time, each of the list as it is then: the last one on disk is the newest list.
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(dirname(this.file), { recursive: true });
        await writeFileAtomic(this.file, `${JSON.stringify({ version: VERSION, results: this.entries }, null, 2)}\n`);
      } catch (e) {
        this.log(`tilt: cannot save the recent results list ${this.file}: ${(e as Error).message}`);
      }
    });
    return this.writing;
  }
}
