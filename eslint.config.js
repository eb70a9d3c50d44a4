// Layering (DEVELOPERS.md): core/ is framework-free; the preload sees only electron and the shared
// contract; the renderer reaches the main process only through the preload API; nothing imports apps.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const appDirs = ['electron', 'renderer', 'cli', 'server', 'scripts', 'tests'];
const noAppImports = appDirs.flatMap((d) => [`../${d}/*`, `../../${d}/*`, `../../../${d}/*`]);

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'release/**', 'test-results/**', '.cache/**', 'runs/**', '**/*.svelte'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'core/ is framework-free: no electron.' }],
        patterns: [
          { group: noAppImports, message: 'core/ may not import apps (electron, renderer, cli, server, scripts, tests).' },
          { group: ['svelte', 'svelte/*', 'wavesurfer.js', 'wavesurfer.js/*'], message: 'core/ has no UI.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'window', message: 'core/ has no DOM.' },
        { name: 'document', message: 'core/ has no DOM.' },
        { name: 'navigator', message: 'core/ has no DOM.' }],
    },
  },
  {
    files: ['electron/preload.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '^(?!electron$|\\./contract$|\\.\\./shared/contract$).*', message: 'The preload imports only electron and the shared contract.' }],
      }],
    },
  },
  {
    files: ['renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The renderer reaches main only through the preload API.' }],
        patterns: [
          { group: ['**/core/*', '**/electron/*', '!**/electron/contract', 'node:*'], message: 'The renderer uses the preload API and the shared contract only.' },
        ],
      }],
    },
  },
);
