// Licences from Debian copyright files. Machine-readable (DEP-5) files are matched per audio file
// (the last matching `Files:` stanza wins, as DEP-5 says; patterns are source-tree paths, so they are
// matched against the end of the installed path). Free-form files get a best-effort identifier.

export interface Dep5Stanza { patterns: RegExp[]; licence: string }

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`(^|/)${body}$`);
}

export function parseDep5(text: string): Dep5Stanza[] {
  const stanzas: Dep5Stanza[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const files = /^Files:[ \t]*((?:.*)(?:\n[ \t]+.*)*)/m.exec(block);
    const licence = /^License:[ \t]*(.+)$/m.exec(block);
    if (!files || !licence) continue;
    const globs = files[1]!.split(/\s+/).filter(Boolean);
    if (globs.every((g) => g.startsWith('debian/'))) continue;
    stanzas.push({ patterns: globs.map(globToRegExp), licence: licence[1]!.trim() });
  }
  return stanzas;
}

/** Licence of one installed file, or undefined when no stanza applies. */
export function licenceForPath(stanzas: Dep5Stanza[], relPath: string): string | undefined {
  let found: string | undefined;
  for (const s of stanzas) if (s.patterns.some((p) => p.test(relPath))) found = s.licence;
  return found;
}

const FREE_FORM: [RegExp, string][] = [
  [/GNU General Public License[^]*?either version 3/i, 'GPL-3+'],
  [/GNU General Public License[^]*?version 3/i, 'GPL-3'],
  [/GNU General Public License[^]*?either version 2/i, 'GPL-2+'],
  [/GNU General Public License[^]*?version 2/i, 'GPL-2'],
  [/Creative Commons Attribution[- ]Share[- ]?Alike[^]*?3\.0/i, 'CC-BY-SA-3.0'],
  [/Creative Commons Attribution[^]*?3\.0/i, 'CC-BY-3.0'],
  [/public domain/i, 'public-domain'],
];

/** A short identifier for the package as a whole: DEP-5 `Files: *`, else recognised free-form text. */
export function summariseLicence(copyright: string): string {
  const stanzas = parseDep5(copyright);
  const all = licenceForPath(stanzas, 'any-file-at-all');
  if (all) return all;
  for (const [re, id] of FREE_FORM) if (re.test(copyright)) return id;
  return 'unknown (see usr/share/doc/<package>/copyright)';
}
