import { defaultCacheDir } from '../../core/data/fetch';
import { prepareCorpus, readManifest, summarise } from '../../core/data/manifest';
import { PACKAGE_SETS } from '../../core/data/packages';
import type { PackageSet } from '../../core/data/packages';
import { parseTrainConfig } from '../../core/train/config';
import { printDataCheck, runDataCheck } from '../dataCheck';
import { dataSection, parseCommandArgs, readJsonFile } from '../args';
import { formatTable, ProgressBar, UsageError } from '../format';
import type { Command } from '../command';

export const dataCommand: Command = {
  summary: 'Fetch the real-recordings corpus from Debian packages, list what is cached, or check a training config\'s data',
  usage: 'tilt data fetch [--set ci|full] [--cache DIR] [--json] | tilt data list [--cache DIR] [--json] | tilt data check --config cfg.json [--json]',
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      set: { type: 'string', default: 'full' }, cache: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' },
    }, true);
    const cacheDir = values.cache ?? defaultCacheDir();
    const [sub] = positionals;
    if (sub === 'fetch') {
      if (!(values.set! in PACKAGE_SETS)) throw new UsageError(`--set must be one of ${Object.keys(PACKAGE_SETS).join(', ')}`);
      const bar = new ProgressBar('data');
      const manifest = await prepareCorpus(values.set as PackageSet, {
        cacheDir,
        onProgress: (p) => {
          if (p.phase === 'fetch') bar.update(p.fraction, `${p.pkg}: ${p.stage}`);
          else bar.update(p.done / p.total, `decoding ${p.done}/${p.total}`);
        },
      });
      bar.done(`corpus ready in ${cacheDir}: ${manifest.entries.length} clips, ${manifest.skipped.length} left out`);
      if (values.json) console.log(JSON.stringify({ cacheDir, clips: manifest.entries.length, hours: summarise(manifest.entries) }));
      else printSummary(manifest.entries);
      return 0;
    }
    if (sub === 'check') {
      if (!values.config) throw new UsageError('data check needs --config cfg.json');
      const { data } = parseTrainConfig({ data: dataSection(await readJsonFile(values.config)) });
      const check = await runDataCheck(data);
      if (values.json) console.log(JSON.stringify(check));
      else printDataCheck(check);
      return check.problems.length ? 1 : 0;
    }
    if (sub === 'list') {
      const manifest = await readManifest(cacheDir);
      if (values.json) {
        console.log(JSON.stringify({ cacheDir, packages: manifest.packages, clips: manifest.entries.length, hours: summarise(manifest.entries) }));
        return 0;
      }
      console.log(`corpus in ${cacheDir}`);
      console.log(formatTable(['package', 'licence', 'clips'], manifest.packages.map((p) => [
        p.name, p.licence, manifest.entries.filter((e) => e.package === p.name).length,
      ])));
      printSummary(manifest.entries);
      return 0;
    }
    throw new UsageError('data needs "fetch", "list" or "check"');
  },
};

function printSummary(entries: Parameters<typeof summarise>[0]): void {
  const hours = summarise(entries);
  console.log(formatTable(['class', 'train h', 'validation h', 'test h'], Object.entries(hours).map(([c, s]) => [c, s.train, s.validation, s.test])));
}
