import { loadModel } from '../../core/models/io';
import { metadataStems } from '../../core/separate/stems';
import { initBackend } from '../../core/backend';
import { parseCommandArgs } from '../args';
import { formatTable, UsageError } from '../format';
import { modelStore, resolveModel } from '../models';
import type { Command } from '../command';

export const modelsCommand: Command = {
  summary: 'List the installed models, or show one model\'s configuration and card',
  usage: 'tilt models list [--json] | tilt models info MODEL [--json]',
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, true);
    const [sub, name] = positionals;
    if (sub === 'list') {
      const models = await modelStore().list();
      if (values.json) console.log(JSON.stringify(models.map(({ card: _card, ...m }) => m)));
      else if (models.length === 0) console.log('no models installed');
      else {
        console.log(formatTable(['id', 'name', 'params', 'sources', 'active', 'where'], models.map((m) => [
          m.id, m.name, m.params ?? '?', (m.sources ?? []).join('+'), m.active ? '*' : '', m.builtin ? 'shipped' : m.dir,
        ])));
      }
      return 0;
    }
    if (sub === 'info') {
      if (!name) throw new UsageError('models info needs a model id or folder');
      const { dir, label } = await resolveModel(name);
      await initBackend();
      const { model, metadata } = await loadModel(dir);
      const [params, nSources] = [model.paramCount(), model.nSources];
      model.dispose();
      const info = { model: label, dir, params, config: model.config, stems: metadataStems(metadata?.stems, nSources), card: metadata?.card ?? null };
      if (values.json) console.log(JSON.stringify(info));
      else {
        console.log(`${label}\n  folder: ${dir}\n  parameters: ${info.params}\n  stems: ${info.stems ? info.stems.join(', ') : 'unnamed'}`);
        console.log(formatTable(['setting', 'value'], Object.entries(model.config).map(([k, v]) => [k, v])));
      }
      return 0;
    }
    throw new UsageError('models needs "list" or "info MODEL"');
  },
};
