import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PORT, DEFAULT_RENDERER_DIR, startServer } from '../../server/server';
import { parseCommandArgs, parseNumberOption } from '../args';
import { UsageError } from '../format';
import type { Command } from '../command';

/** A fresh clone has no built UI: build it once with the project's own Vite config. */
async function ensureRenderer(): Promise<void> {
  if (existsSync(join(DEFAULT_RENDERER_DIR, 'index.html'))) return;
  console.error('building the Tilt UI (first run)...');
  const { build } = await import('vite');
  await build({ configFile: join(import.meta.dirname, '../../vite.renderer.config.ts'), logLevel: 'warn' });
}

export const serveCommand: Command = {
  summary: 'Run the engine behind a local HTTP + WebSocket server and use the app in a browser',
  usage: 'tilt serve [--port N] [--host 127.0.0.1] [--allow-host NAME]... [--backend wasm|cpu|tfjs-node|tfjs-node-gpu]',
  async run(args) {
    const { values } = parseCommandArgs(args, {
      port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, 'allow-host': { type: 'string', multiple: true }, backend: { type: 'string' },
    });
    const port = parseNumberOption('port', values.port, DEFAULT_PORT, 0);
    if (!Number.isInteger(port) || port > 65535) throw new UsageError(`--port must be an integer in [0, 65535], got ${values.port}`);
    const allowedHosts = values['allow-host'] ?? [];
    for (const h of allowedHosts) if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.test(h)) throw new UsageError(`--allow-host takes a host name or address, got "${h}"`);
    await ensureRenderer();
    const server = await startServer({ port, host: values.host, allowedHosts, ...(values.backend ? { engine: { backend: values.backend } } : {}) });
    console.log(`Tilt is serving on ${server.url}`);
    console.log(`Open ${server.openUrl}`);
    console.log('The token in that URL is required for every request; keep it private. Ctrl+C stops the server.');
    if (!['127.0.0.1', 'localhost', '::1'].includes(server.host)) {
      console.log([
        '',
        `WARNING: listening on ${server.host}, beyond this machine, over plain HTTP: the token crosses the network`,
        'unencrypted, and anyone who sees it can read every audio file your account can read and write exports',
        'and models wherever they ask. Use this only on a network you trust.',
        `Browsers must reach the server as one of ${server.hosts.join(', ')}`,
        '(add names with --allow-host NAME); requests naming any other host are refused.',
      ].join('\n'));
    }
    await new Promise<void>((resolve) => {
      const stop = () => void server.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
