// A user's own material for the tilt measurements (docs/tilts.md): two flat folders of audio the
// default model never trained on, copied from the held-out packages of the corpus cache
// (`tilt data fetch --set full` and one `tilt evaluate --data heldout` put them there).
//   node --import tsx scripts/own-material.ts OUT_DIR [--speech-clips N]
// OUT_DIR/speech: Beneath a Steel Sky's voices (N clips, chosen by a seeded hash, every speaker kept);
// OUT_DIR/env: OpenTTD's and OpenArena's sound effects (all of them). Files are flat, under their
// own names (a number added on a clash), as a user's folder would hold them.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { basename, extname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCacheDir } from '../core/data/fetch';
import { readManifest } from '../core/data/manifest';

const SPEECH = 'beneath-a-steel-sky';
const ENV = ['openttd-opensfx', 'openarena-data'];

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'speech-clips': { type: 'string', default: '600' } } });
const out = positionals[0];
if (!out) throw new Error('usage: scripts/own-material.ts OUT_DIR [--speech-clips N]');
const speechClips = Number(values['speech-clips']);
const cacheDir = defaultCacheDir();
const manifest = await readManifest(cacheDir);

// Ranked by the file's path inside the cache, so the choice does not depend on where the cache is.
const rank = (file: string) => createHash('sha256').update(`own-material:${relative(cacheDir, file)}`).digest('hex');
const speech = manifest.entries.filter((e) => e.package === SPEECH).sort((a, b) => (rank(a.file) < rank(b.file) ? -1 : 1)).slice(0, speechClips);
const env = manifest.entries.filter((e) => ENV.includes(e.package));
if (speech.length === 0 || env.length === 0) throw new Error('the held-out packages are not in the corpus cache: run tilt evaluate --data heldout once');

for (const [name, entries] of [['speech', speech], ['env', env]] as const) {
  const dir = resolve(out, name);
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new Error(`${dir} is not empty`);
  const taken = new Set<string>();
  for (const e of entries) {
    const ext = extname(e.file);
    let name = basename(e.file);
    for (let k = 2; taken.has(name); k++) name = `${basename(e.file, ext)}-${k}${ext}`;
    taken.add(name);
    await copyFile(e.file, join(dir, name));
  }
  console.log(`${dir}: ${entries.length} files from ${[...new Set(entries.map((e) => e.package))].join(', ')}`);
}
