// The Debian packages that hold real recordings, and how each file in them is labelled.
import type { SoundClass } from '../types';

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
}

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

export const PACKAGES: Record<string, CorpusPackage> = Object.fromEntries(([
  asterisk('en', 18.3), asterisk('es', 23.8), asterisk('fr', 18.5), asterisk('it', 18.3), asterisk('ru', 18.8),
  fillets('cs', 39.0), fillets('nl', 32.6),
  {
    name: 'festvox-ru', sizeMB: 178.7,
    label: (rel) => /festival\/voices\/russian\/msu_ru_nsh_clunits\/wav\/.+\.wav$/.test(rel)
      ? { class: 'speech', label: 'msu_ru_nsh', group: 'speaker:msu_ru_nsh' } : null,
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
] satisfies CorpusPackage[] as CorpusPackage[]).map((p) => [p.name, p]));

/**
 * Package sets. `ci` is the small set for tests and CI (~48 MB of .debs: one speech voice, ~200
 * labelled environmental clips, and real WAV, Ogg Vorbis and MP3 files). `full` is the training set.
 */
export const PACKAGE_SETS: Record<'ci' | 'full', string[]> = {
  ci: ['asterisk-core-sounds-en-wav', 'minetest-data', 'scratch'],
  full: [
    'fillets-ng-data-cs', 'fillets-ng-data-nl',
    'asterisk-core-sounds-en-wav', 'asterisk-core-sounds-es-wav', 'asterisk-core-sounds-fr-wav',
    'asterisk-core-sounds-it-wav', 'asterisk-core-sounds-ru-wav', 'festvox-ru',
    'megaglest-data', 'tuxpaint-stamps-default', 'scratch', 'minetest-data', 'widelands-data',
  ],
};

export type PackageSet = keyof typeof PACKAGE_SETS;
