// Audio that packages keep inside containers (zip, Qt resources, game archives), written out as
// plain files so that labelling, decoding and licences treat it like any other file in the package.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodeWav } from '../io/wav';
import { ZipReader } from './containers/zip';
import { readCat } from './containers/openttd';
import { readRcc } from './containers/rcc';
import { readDinnerTable, skyFileData, skySpeechSamples, SKY_SPEECH_RATE } from './containers/sky';

export interface Contained {
  /** Where the file goes, relative to the unpack folder. */
  path: string;
  read(): Promise<Uint8Array> | Uint8Array;
}

/** Whether a path relative to the package root (unpack folder included) is worth extracting. */
export type Keep = (relPath: string) => boolean;

const DONE = '.tilt-unpacked.json';

/**
 * Writes the items `keep` accepts to `<root>/<dir>/`. The list of paths, saved last, marks the work
 * done; when it is missing (an interrupted run) or differs (labelling rules changed), everything is
 * written again into a scratch folder that replaces the old one only once complete.
 */
export async function writeContained(root: string, dir: string, items: Contained[], keep: Keep): Promise<void> {
  const wanted = items.filter((i) => keep(`${dir}/${i.path}`)).sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const i of wanted) {
    if (i.path.split('/').some((s) => s === '' || s === '.' || s === '..')) throw new Error(`unsafe path in container: ${i.path}`);
  }
  const list = JSON.stringify(wanted.map((i) => i.path));
  const target = join(root, dir);
  if (await readFile(join(target, DONE), 'utf8').then((s) => s === list, () => false)) return;
  const partial = `${target}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  for (const i of wanted) {
    const out = join(partial, i.path);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, await i.read());
  }
  await writeFile(join(partial, DONE), list);
  await rm(target, { recursive: true, force: true });
  await rename(partial, target);
}

/** Zip entries keep their names inside the unpack folder. */
export async function unpackZip(root: string, zipPath: string, dir: string, keep: Keep): Promise<void> {
  const zip = await ZipReader.open(join(root, zipPath));
  try {
    const files = zip.entries.filter((e) => !e.name.endsWith('/'));
    await writeContained(root, dir, files.map((e) => ({ path: e.name, read: () => zip.read(e) })), keep);
  } finally {
    await zip.close();
  }
}

/**
 * OpenSFX entries become `opensfx/<index>-<title>.wav`, the title being the quoted start of the
 * description less any "Climate:" or "Industry:" prefix ("Tropical: Bird (1)" -> "bird-1").
 */
export async function unpackOpensfx(root: string, catPath: string, dir: string, keep: Keep): Promise<void> {
  const entries = readCat(await readFile(join(root, catPath)), catPath);
  await writeContained(root, dir, entries.map((e) => {
    const title = (/^"([^"]+)"/.exec(e.name)?.[1] ?? e.name).replace(/^[^:]+:\s*/, '');
    const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    return { path: `opensfx/${String(e.index).padStart(2, '0')}-${slug}.wav`, read: () => e.wav };
  }), keep);
}

/** Files from each Qt resource file go under `<resource file name>/<path inside it>`. */
export async function unpackRcc(root: string, rccDir: string, names: string[], dir: string, keep: Keep): Promise<void> {
  const items: Contained[] = [];
  for (const name of names) {
    const sub = name.replace(/\.rcc$/, '');
    const { files, skipped } = readRcc(await readFile(join(root, rccDir, name)), name, (p) => keep(`${dir}/${sub}/${p}`));
    for (const s of skipped) process.emitWarning(`${name}: left out ${s.path}: ${s.reason}`);
    items.push(...files.map((f) => ({ path: `${sub}/${f.path}`, read: () => f.data })));
  }
  await writeContained(root, dir, items, keep);
}

// Which character speaks each line of the CD intro (file number - 59500), from the intro script.
const SKY_INTRO_SPEAKERS: Record<string, number[]> = {
  foster: [0, 14, 15, 18, 25, 31, 34, 41, 45, 46, 56, 74, 76, 79, 81, 88, 96, 100, 102, 106, 110, 112, 113, 114,
    116, 129, 130, 133, 139, 142, 144, 149, 154, 156, 159, 160, 163, 165, 166, 168, 171, 172],
  shaman: [4, 5, 7, 8, 10, 11, 13, 20, 23, 28, 35, 58, 83, 87, 90, 118, 121, 122, 131],
  joey: [27, 36, 39, 115],
  reich: [51, 54, 62, 65, 66, 67, 68, 70, 124, 127, 128, 135, 148, 155, 164],
  guard: [63, 132, 147, 167, 169, 170],
};
const SKY_INTRO = new Map(Object.entries(SKY_INTRO_SPEAKERS).flatMap(([who, ns]) => ns.map((n) => [59500 + n, who] as const)));
// First speech file of each game section (file number - 50000); the rest of 50000-59999 below the
// CD intro's files is unused.
const SKY_SECTIONS = [0, 600, 1100, 2430, 3380, 4530, 5080, 5230];
const SKY_INTRO_FIRST = 59494;

/**
 * Beneath a Steel Sky's speech as 8-bit WAVs: `sky/intro/<speaker>/<file>.wav` for the CD intro,
 * `sky/section-<n>/<file>.wav` for in-game lines, whose speakers the data does not record.
 */
export async function unpackSkySpeech(root: string, dataDir: string, dir: string, keep: Keep): Promise<void> {
  const dnrPath = join(dataDir, 'sky.dnr');
  const dskPath = join(dataDir, 'sky.dsk');
  let dsk: Promise<Uint8Array> | undefined;
  const items: Contained[] = [];
  for (const f of readDinnerTable(await readFile(join(root, dnrPath)), dnrPath)) {
    const line = f.number - 50000;
    const section = SKY_SECTIONS.findLastIndex((first) => first <= line);
    const who = SKY_INTRO.get(f.number);
    const path = who ? `sky/intro/${who}/${f.number}.wav`
      : line >= 0 && f.number < SKY_INTRO_FIRST ? `sky/section-${section}/${f.number}.wav` : null;
    if (!path) continue;
    items.push({
      path,
      read: async () => {
        const data = skyFileData(await (dsk ??= readFile(join(root, dskPath))), f, dskPath);
        return encodeWav([skySpeechSamples(data)], SKY_SPEECH_RATE, { bits: 8, float: false });
      },
    });
  }
  await writeContained(root, dir, items, keep);
}
