import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PORT, DEFAULT_RENDERER_DIR, startServer } from '../../server/server';
import { parseCommandArgs, parseNumberOption } from '../args';
import { UsageError } from '../format';
import type { Command } from '../main';

/** A fresh clone has no built UI: build it once with the project's own Vite config. */
async function ensureRenderer(): Promise<void> {
  if (existsSync(join(DEFAULT_RENDERER_DIR, 'index.html'))) return;
  console.error('building the Tilt UI (first run)...');
  const { build } = await import('vite');
  await build({ configFile: join(import.meta.dirname, '../../vite.renderer.config.ts'), logLevel: 'warn' });
}

export const serveCommand: Command = {
  summary: 'Run the engine behind a local HTTP + WebSocket server and use the app in a browser',
  usage: 'tilt serve [--port N] [--host 127.0.0.1] [--backend wasm|cpu|tfjs-node|tfjs-node-gpu]',
  async run(args) {
    const { values } = parseCommandArgs(args, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, backend: { type: 'string' } });
    const port = parseNumberOption('port', values.port, DEFAULT_PORT, 0);
    if (!Number.isInteger(port) || port > 65535) throw new UsageError(`--port must be an integer in [0, 65535], got ${values.port}`);
    await ensureRenderer();
    const server = await startServer({ port, host: values.host, ...(values.backend ? { engine: { backend: values.backend } } : {}) });
    console.log(`Tilt is serving on ${server.url}`);
    console.log(`Open ${server.openUrl}`);
    console.log('The token in that URL is required for every request; keep it private. Ctrl+C stops the server.');
    if (!['127.0.0.1', 'localhost', '::1'].includes(server.host)) {
      console.log(`Warning: listening on ${server.host}, beyond this machine. Anyone with the token can use it.`);
    }
    await new Promise<void>((resolve) => {
      const stop = () => void server.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
