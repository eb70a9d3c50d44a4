import type { Command } from './command';
import { UsageError } from './format';

// Lazy so that `tilt --help` and argument errors return without loading TensorFlow.
const commands: Record<string, () => Promise<Command>> = {
  separate: async () => (await import('./commands/separate')).separateCommand,
  train: async () => (await import('./commands/train')).trainCommand,
  evaluate: async () => (await import('./commands/evaluate')).evaluateCommand,
  experiment: async () => (await import('./commands/experiment')).experimentCommand,
  data: async () => (await import('./commands/data')).dataCommand,
  models: async () => (await import('./commands/models')).modelsCommand,
  serve: async () => (await import('./commands/serve')).serveCommand,
  backend: async () => (await import('./commands/backend')).backendCommand,
};

function help(loaded: [string, Command][]): string {
  const width = Math.max(...loaded.map(([n]) => n.length));
  return [
    'tilt: audio source separation you can bias (speech / environmental sound)',
    '',
    'usage: tilt <command> [options]   (tilt <command> --help for its options)',
    '',
    ...loaded.map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'TILT_BACKEND=tfjs-node-gpu|tfjs-node|wasm|cpu forces a TensorFlow.js backend.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      const loaded = await Promise.all(Object.entries(commands).map(async ([n, load]) => [n, await load()] as [string, Command]));
      console.log(help(loaded));
      return name ? 0 : 1;
    }
    const load = commands[name];
    if (!load) throw new UsageError(`unknown command "${name}" (try tilt --help)`);
    const command = await load();
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(`usage: ${command.usage}\n\n${command.summary}`);
      return 0;
    }
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tilt: ${e.message}`);
      return 2;
    }
    console.error(`tilt: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env.TILT_DEBUG && e instanceof Error) console.error(e.stack);
    return 1;
  }
}
