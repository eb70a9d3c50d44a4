import { initBackend, describeBackend } from '../../core/backend';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';

export const backendCommand: Command = {
  summary: 'Show which TensorFlow.js backend runs here and why the faster ones do not',
  usage: 'tilt backend [--json]',
  async run(args) {
    const { values } = parseCommandArgs(args, { json: { type: 'boolean' } });
    const info = await initBackend();
    if (values.json) console.log(JSON.stringify(info));
    else {
      console.log(`backend: ${describeBackend(info)}`);
      for (const s of info.skipped) console.log(`  ${s.choice}: ${s.reason}`);
    }
    return 0;
  },
};
