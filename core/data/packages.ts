// The Debian packages that hold real recordings, and how each file in them is labelled.
import type { SoundClass } from '../types';
import { unpackOpensfx, unpackRcc, unpackSkySpeech, unpackZip, type Keep } from './unpack';

export interface ClipLabel {
  class: SoundClass;
  /** Speaker (speech) or sound type (env). */
  label: string;
  /**
   * Files sharing a group never go to different splits: the speaker for speech, the sound family
   * (file name without its variant number) for env.
   */
  group: string;
}

export interface CorpusPackage {
  name: string;
  /** .deb size in MB (apt-cache show, Debian bookworm), for choosing what to download. */
  sizeMB: number;
  /** Label for an audio file path relative to the package root, or null to leave it out. */
  label(relPath: string): ClipLabel | null;
  /**
   * For packages whose audio sits inside containers (zip, game archives): writes it out as plain
   * audio files under `<root>/${UNPACKED_DIR}/`, idempotently, before the files are labelled.
   */
  unpack?(root: string): Promise<void>;
}

/** Where `unpack` writes a package's extracted audio, relative to the package root. */
export const UNPACKED_DIR = 'tilt-unpacked';

const AUDIO = /\.(wav|ogg|flac|mp3)$/i;

function stem(relPath: string): string {
  return relPath.split('/').pop()!.replace(/(\.(wav|ogg|flac|mp3))+$/i, '').toLowerCase();
}

/** "swordman_attack12" -> "swordman attack"; "default_dig_choppy.2" -> "default dig choppy". */
export function soundName(s: string): string {
  return s.replace(/([\s._-]*\d+)+$/, '').replace(/[\s._-]+/g, ' ').trim() || s;
}

function env(label: string, relPath: string): ClipLabel {
  const dir = relPath.split('/').slice(0, -1).join('/');
  return { class: 'env', label, group: `${dir}/${soundName(stem(relPath))}` };
}

const asterisk = (lang: string, sizeMB: number): CorpusPackage => ({
  name: `asterisk-core-sounds-${lang}-wav`,
  sizeMB,
  label(rel) {
    // usr/share/asterisk/sounds/en_US_f_Allison/...: the voice is the name after the sex marker.
    const m = /asterisk\/sounds\/([a-z]{2}_[A-Z]{2})_([fm])_([^/]+)\//.exec(rel);
    if (!m || !AUDIO.test(rel) || /\/silence\//.test(rel)) return null;
    return { class: 'speech', label: m[3]!, group: `speaker:${m[3]}` };
  },
});

const fillets = (lang: string, sizeMB: number): CorpusPackage => ({
  name: `fillets-ng-data-${lang}`,
  sizeMB,
  label(rel) {
    // sound/<level>/<lang>/<level>-<speaker>-<line>.ogg; m and v are the two fish, other codes the
    // other characters. Names without a speaker code count as the level's own voice.
    const m = new RegExp(`sound/(.+)/${lang}/([^/]+)\\.ogg$`).exec(rel);
    if (!m) return null;
    const parts = m[2]!.split('-');
    const code = parts.length >= 3 && /^[a-z]+$/.test(parts[1]!) ? parts[1]! : `level-${m[1]!.replace(/\//g, '-')}`;
    const speaker = `fillets-${lang}-${code}`;
    return { class: 'speech', label: speaker, group: `speaker:${speaker}` };
  },
});

/**
 * A package whose audio sits in containers. `pattern` (a path under UNPACKED_DIR) picks the files and
 * `label` labels them from its match; `unpack` extracts just the files that `label` keeps.
 */
function contained(
  name: string, sizeMB: number, pattern: RegExp,
  label: (m: RegExpExecArray, rel: string) => ClipLabel | null,
  unpack: (root: string, keep: Keep) => Promise<void>,
): CorpusPackage {
  const re = new RegExp(`^${UNPACKED_DIR}/(?:${pattern.source})$`);
  const pkg: CorpusPackage = {
    name, sizeMB,
    label: (rel) => { const m = re.exec(rel); return m ? label(m, rel) : null; },
    unpack: (root) => unpack(root, (rel) => pkg.label(rel) !== null),
  };
  return pkg;
}

// Jingles (0-1), beep (21), morse (22), a voice (30), an empty placeholder (34) and the Toyland
// cartoon mixes (41-51, 53, 58, 60, 62-64, 70); the rest are edited Freesound recordings.
const OPENSFX_SKIP = new Set([0, 1, 21, 22, 30, 34, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 53, 58, 60, 62, 63, 64, 70]);

// OpenArena's world sounds that are recordings, by name without its number, with their label. The
// rest (drones, hums, moans, growls, teleporters, jump pads, ambience beds) are synthesised or too
// processed to count as recordings, judging by their spectrograms.
const OPENARENA_WORLD = new Map(Object.entries({
  cf_blubber: 'bubbling', cf_distant: 'distant rumble', clack: 'clack', curnt: 'electric crackle',
  demonwind: 'wind', drops: 'water drops', fan: 'fan', fire: 'fire', firesoft: 'fire',
  lava_amb_01_quiet: 'lava', tim_machine: 'machine', tim_pump: 'pump', waterfall: 'waterfall', wind: 'wind',
}));
const OPENARENA_MOVERS = new Map(Object.entries({ doors: 'door', plats: 'lift', switches: 'switch' }));

const ZERO_AD_DIRS = new RegExp('^(ambient/(building|dayscape|water|weather)|attack/(fire|destruction|impact|weapon)|resource'
  + '|actor/(fauna|gate|ship|singlesteps|human/movement|mounted/movement))(/|$)');
// 0 A.D. file names too terse to be labels.
const ZERO_AD_NAMES = new Map(Object.entries({
  c: 'fire', sp: 'fire', sz: 'fire', mstep: 'hoofsteps', smove: 'ship move', 'con saw': 'saw',
  'amb farm': 'farm ambience', 'amb port': 'harbour ambience', 'day temperate': 'temperate daytime',
  'day temperate gen': 'temperate daytime', 'day tropical': 'tropical daytime',
}));

// FlightGear's sounds that are recordings of engines, weather, water and cockpit mechanics. Left out:
// spoken callouts (mk-viii, tcas, the checklists) and synthesised warning tones, beeps and noise.
const FLIGHTGEAR_SKIP = /^(checklist|beep|avionics|gear hrn|overspeed|stall|whine|radionoise|wind 8khz)/;

// Red Eclipse ambience beds that are field recordings, by name without its number, with their label.
// The rest (jump pads, teleporters, hums, electric zaps, the "morph" set's machines) are synthesised.
const REDECLIPSE_AMBIENCE = new Map(Object.entries({
  blowwind: 'wind', cavedrip: 'water drops', creek: 'creek', cycadas: 'cicadas', distant_cars: 'distant traffic',
  fire: 'fire', forest: 'forest', hollowwind: 'wind', lava: 'bubbling', lavarumble: 'rumble', nightcrickets: 'crickets',
  river: 'river', vapour: 'steam', wastewind: 'wind', water: 'water', waterfall: 'waterfall', waterfall_indoor: 'waterfall',
  waterfall_medium: 'waterfall', waterfall_deep: 'waterfall', waterfall_huge: 'waterfall', wind: 'wind', door: 'door',
  'morph/rain': 'rain', 'morph/stormrain': 'rain', 'morph/stormwind': 'wind', 'morph/stormbolts': 'thunder', 'morph/wind': 'wind',
}));

// Battle Tanks' sounds that are recordings, by path under sounds/ without ".ogg", with their label. Left
// out: music (tunes/), the "horror" and "space" ambience beds and the submarine's pings (synthesised
// tones), screams, laughs and zombie voices, interface, pickup, teleport, missile, mine and weapon
// effects, klaxons, and the short engine/track loops and smooth-noise explosions that show no recording
// detail. The ambient beds carry low-bitrate codec holes above ~3 kHz but are field recordings.
const BTANKS_SOUNDS = new Map(Object.entries({
  'ambient/city': 'city traffic', 'ambient/country': 'countryside', 'ambient/forest': 'forest', 'ambient/swamp': 'swamp',
  train: 'train', helicopter: 'helicopter', 'engine-start': 'engine start', 'vehicle-sound': 'vehicle engine',
  fire: 'fire', 'fire-fadeout': 'fire', 'man-steps': 'footsteps', cow: 'cow',
  'building-explosion1': 'explosion', 'building-explosion2': 'explosion', 'building-explosion3': 'explosion',
  'nuke-explosion': 'explosion', 'old-nuke-explosion': 'explosion',
}));

export const PACKAGES: Record<string, CorpusPackage> = Object.fromEntries(([
  asterisk('en', 18.3), asterisk('es', 23.8), asterisk('fr', 18.5), asterisk('it', 18.3), asterisk('ru', 18.8),
  fillets('cs', 39.0), fillets('nl', 32.6),
  {
    name: 'festvox-ru', sizeMB: 178.7,
    label: (rel) => /festival\/voices\/russian\/msu_ru_nsh_clunits\/wav\/.+\.wav$/.test(rel)
      ? { class: 'speech', label: 'msu_ru_nsh', group: 'speaker:msu_ru_nsh' } : null,
  },
  {
    name: 'klettres-data', sizeMB: 39.5,
    // <lang>/{alpha,syllab}/*.ogg, one speaker per language. da/alpha's headers claim 128 kHz.
    label: (rel) => {
      const m = /klettres\/([^/]+)\/(alpha|syllab)\/[^/]+\.ogg$/.exec(rel);
      if (!m || (m[1] === 'da' && m[2] === 'alpha')) return null;
      return { class: 'speech', label: `klettres-${m[1]}`, group: `speaker:klettres-${m[1]}` };
    },
  },
  {
    name: 'ktuberling-data', sizeMB: 46.7,
    // sounds/<lang>/*: one speaker per language; the sr@* folders repeat sr/.
    label: (rel) => {
      const m = /ktuberling\/sounds\/([^/@]+)\/[^/]+\.(ogg|wav|opus)$/.exec(rel);
      return m ? { class: 'speech', label: `ktuberling-${m[1]}`, group: `speaker:ktuberling-${m[1]}` } : null;
    },
  },
  {
    name: 'gcin-voice', sizeMB: 7.7,
    // ogg/<syllable>/{3,5}.ogg: the file name is the speaker.
    label: (rel) => {
      const m = /gcin-voice\/ogg\/[^/]+\/(\d+)\.ogg$/.exec(rel);
      return m ? { class: 'speech', label: `gcin-${m[1]}`, group: `speaker:gcin-${m[1]}` } : null;
    },
  },
  {
    name: 'minetest-data', sizeMB: 3.6,
    label: (rel) => /\/sounds\/[^/]+\.ogg$/.test(rel) && !/soundstuff/.test(rel)
      ? env(soundName(stem(rel)).replace(/^default /, ''), rel) : null,
  },
  {
    name: 'scratch', sizeMB: 25.7,
    // Music loops, instruments, synth sounds and sung vocals are not environmental sound.
    label: (rel) => {
      const m = /Media\/Sounds\/(Animal|Effects|Human)\/[^/]+\.(wav|mp3)$/.exec(rel);
      return m ? env(soundName(stem(rel)), rel) : null;
    },
  },
  {
    name: 'tuxpaint-stamps-default', sizeMB: 160.9,
    label: (rel) => /stamps\/.+\.ogg$/.test(rel) && !/_desc_/.test(rel) && !/_desc\.ogg$/.test(rel)
      ? env(soundName(stem(rel)), rel) : null,
  },
  {
    name: 'megaglest-data', sizeMB: 242.0,
    // *_ack* and *_select* are unit voice lines (speech), music is music.
    label: (rel) => AUDIO.test(rel) && /\/sounds?\//.test(rel) && !/_ack|_select/i.test(rel) && !/\/music\//.test(rel)
      ? env(soundName(stem(rel)), rel) : null,
  },
  {
    name: 'widelands-data', sizeMB: 381.4,
    label: (rel) => /\.ogg$/.test(rel) && !/\/music\//.test(rel) && /\/(sound|world|tribes)\//.test(rel)
      ? env(soundName(stem(rel)), rel) : null,
  },
  {
    name: 'flightgear-data-base', sizeMB: 1339.3,
    label: (rel) => {
      if (!/flightgear\/(Sounds|Aircraft\/c172p\/Sounds)\/[^/]+\.wav$/.test(rel)) return null;
      const name = soundName(stem(rel));
      return FLIGHTGEAR_SKIP.test(name) ? null : env(name, rel);
    },
  },
  {
    name: 'redeclipse-data', sizeMB: 862.3,
    label: (rel) => {
      const m = /redeclipse\/data\/sounds\/ambience\/((?:morph\/)?[a-z_]+?)\d*\.ogg$/.exec(rel);
      const label = m && REDECLIPSE_AMBIENCE.get(m[1]!);
      return label ? env(label, rel) : null;
    },
  },
  {
    name: 'btanks-data', sizeMB: 26.4,
    label: (rel) => {
      const m = /btanks\/data\/sounds\/((?:ambient\/)?[a-z0-9-]+)\.ogg$/.exec(rel);
      const label = m && BTANKS_SOUNDS.get(m[1]!);
      // One group per label: "fire-fadeout" is the tail of "fire", and the explosions may share takes.
      return label ? { class: 'env', label, group: `btanks/${label}` } : null;
    },
  },
  contained('beneath-a-steel-sky', 66.0, /sky\/(?:intro\/([a-z]+)|section-(\d))\/(\d+)\.wav/,
    // CD intro lines name their speaker (from the intro script). In-game lines only carry their game
    // section, so they are labelled by section and grouped in blocks of 100 file numbers, as
    // neighbouring lines mostly come from one conversation. Foster speaks in both.
    ([, who, section, n]) => who
      ? { class: 'speech', label: `sky-${who}`, group: `speaker:sky-${who}` }
      : { class: 'speech', label: `sky-section-${section}`, group: `sky-section-${section}/${Math.floor(Number(n) / 100)}` },
    (root, keep) => unpackSkySpeech(root, 'usr/share/scummvm/beneath-a-steel-sky', UNPACKED_DIR, keep)),
  contained('openttd-opensfx', 9.9, /opensfx\/(\d+)-(.+)\.wav/,
    ([, index, title]) => (OPENSFX_SKIP.has(Number(index)) ? null
      : { class: 'env', label: soundName(title!), group: `opensfx/${soundName(title!)}` }),
    (root, keep) => unpackOpensfx(root, 'usr/share/games/openttd/baseset/opensfx/opensfx.cat', UNPACKED_DIR, keep)),
  contained('openarena-data', 44.0, /sound\/(world|player\/footsteps|movers\/([a-z]+))\/([a-z0-9_]+)\.wav/,
    ([, dir, mover, name], rel) => {
      const base = name!.replace(/\d+$/, '');
      const world = OPENARENA_WORLD.get(base);
      if (dir === 'world') return world ? env(world, rel) : null;
      if (mover) return env(OPENARENA_MOVERS.get(mover) ?? mover, rel);
      return base === 'energy' ? null : env(`footsteps ${base}`, rel); // energy steps are synthesised
    },
    (root, keep) => unpackZip(root, 'usr/share/games/openarena/baseoa/pak0.pk3', UNPACKED_DIR, keep)),
  contained('gcompris-qt-data', 44.2, /(memory-sound|explore_farm_animals|canal_lock)\/.+\/([A-Za-z0-9_]+)\.(?:ogg|wav)/,
    // memory-sound also has guitar notes, a music sting (LaPause), synthesised "Weird" sounds, a ring
    // tone and a gong, none of them environmental recordings. "LRBark_3_LA_cut" -> "bark".
    ([, activity, name]) => {
      if (/^(guitar|LRWeird|LRLaPause|LRRing|LRBuddhist)/.test(name!)) return null;
      const label = soundName(name!.replace(/^LR/, '').replace(/_?LA(_?cut)?$/i, '').replace(/([a-z])([A-Z])/g, '$1 $2')).toLowerCase();
      return { class: 'env', label, group: `${activity}/${label}` };
    },
    (root, keep) => unpackRcc(root, 'usr/share/gcompris-qt/rcc', ['memory-sound.rcc', 'explore_farm_animals.rcc', 'canal_lock.rcc'],
      UNPACKED_DIR, keep)),
  contained('0ad-data', 1377.6,
    // Ambience, animals, footsteps, fire, weapons and work sounds. Left out: music, unit voices, death
    // cries, interface sounds, siege orders, the market ambience (a crowd talking) and ship selection.
    /audio\/(.+)\/([^/]+)\.ogg/,
    ([, dir, file]) => {
      if (!ZERO_AD_DIRS.test(dir!) || /^(amb_trade|ship_select)/.test(file!)) return null;
      // Variants of one recording ("swordhit_17", "swordhit_17b") share a group.
      const name = soundName(file!.toLowerCase().replace(/(\d+)[a-z]$/, '$1'));
      const label = ZERO_AD_NAMES.get(name) ?? name.replace(/^(fs|foorstep|hstep)\b/, 'footstep');
      return { class: 'env', label, group: `${dir}/${name}` };
    },
    (root, keep) => unpackZip(root, 'usr/share/games/0ad/mods/public/public.zip', UNPACKED_DIR, keep)),
] satisfies CorpusPackage[] as CorpusPackage[]).map((p) => [p.name, p]));

/**
 * Package sets. `ci` is the small set for tests and CI (~48 MB of .debs: one speech voice, ~200
 * labelled environmental clips, and real WAV, Ogg Vorbis and MP3 files). `full` is the training set.
 * `heldout` is never trained or validated on: whole packages, other games' voices and other sound
 * effects, for measuring how separation holds up on recordings unlike the training data.
 */
export const PACKAGE_SETS: Record<'ci' | 'full' | 'heldout', string[]> = {
  ci: ['asterisk-core-sounds-en-wav', 'minetest-data', 'scratch'],
  full: [
    'fillets-ng-data-cs', 'fillets-ng-data-nl',
    'asterisk-core-sounds-en-wav', 'asterisk-core-sounds-es-wav', 'asterisk-core-sounds-fr-wav',
    'asterisk-core-sounds-it-wav', 'asterisk-core-sounds-ru-wav', 'festvox-ru',
    'klettres-data', 'ktuberling-data', 'gcin-voice',
    'megaglest-data', 'tuxpaint-stamps-default', 'scratch', 'minetest-data', 'widelands-data',
    'gcompris-qt-data', '0ad-data', 'flightgear-data-base', 'redeclipse-data', 'btanks-data',
  ],
  heldout: ['beneath-a-steel-sky', 'openttd-opensfx', 'openarena-data'],
};

export type PackageSet = keyof typeof PACKAGE_SETS;
