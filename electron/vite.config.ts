// Builds the Electron main process with its engine and training workers (ESM), and the sandboxed preload
// (CommonJS, self-contained: a sandboxed preload can require nothing but electron) into dist/electron.
import { defineConfig } from 'vite';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import pkg from '../package.json' with { type: 'json' };

const r = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const external = [
  'electron', /^node:/, ...builtinModules,
  ...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).map((d) => new RegExp(`^${d}(/.*)?$`)),
];

export default defineConfig(({ mode }) => ({
  build: {
    outDir: r('../dist/electron'),
    emptyOutDir: mode !== 'preload',
    target: 'node22',
    ssr: true,
    sourcemap: true,
    minify: false,
    rollupOptions: mode === 'preload'
      ? { input: { preload: r('preload.ts') } as Record<string, string>, external: ['electron'], output: { format: 'cjs' as const, entryFileNames: '[name].cjs' } }
      : { input: { main: r('main.ts'), 'engine-worker': r('engine-worker.ts'), 'train-worker': r('train-worker.ts') } as Record<string, string>, external, output: { format: 'es' as const, entryFileNames: '[name].js' } },
  },
  ssr: { noExternal: mode === 'preload' ? true : [] },
}));
