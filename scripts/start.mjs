// `npm start`: builds the renderer and the Electron main/preload, then launches Electron.
// `node scripts/start.mjs --build-only` builds without launching (used by `npm run dist`).
import { build } from 'vite';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const buildOnly = process.argv.includes('--build-only');

await build({ configFile: `${root}vite.renderer.config.ts`, logLevel: 'warn' });
await build({ configFile: `${root}electron/vite.config.ts`, mode: 'main', logLevel: 'warn' });
await build({ configFile: `${root}electron/vite.config.ts`, mode: 'preload', logLevel: 'warn' });
console.log('built dist/renderer and dist/electron');
if (buildOnly) process.exit(0);

let electronPath;
try {
  // The electron package exports the binary's path, and throws when the binary was not downloaded.
  electronPath = createRequire(import.meta.url)('electron');
} catch (e) {
  console.error(`\nThe Electron binary is not installed (${e instanceof Error ? e.message.split('\n')[0] : e}).`);
  console.error('Install it with `npm install` on a machine with internet access (without ELECTRON_SKIP_BINARY_DOWNLOAD),');
  console.error('or use the same app in your browser: `npx tilt serve` and open the URL it prints.');
  process.exit(1);
}
const child = spawn(electronPath, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
