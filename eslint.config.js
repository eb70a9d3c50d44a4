// Layering (README, Layout): core/ is framework-free and imports no app; app/ is the shell-neutral
// layer (contract, validation, dispatch, CSP) over core; electron/, server/ and renderer/ are shells
// that never import each other; the preload sees only electron and the contract; the renderer only
// the contract (types) and its own code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import svelte from 'eslint-plugin-svelte';

/** Relative import patterns reaching the top-level folders `dirs` from any depth of the tree. */
const reach = (dirs) => dirs.flatMap((d) => ['../', '../../', '../../../', '../../../../'].map((up) => `${up}${d}/*`));
const shells = ['electron', 'server', 'renderer'];
const notIn = (dir) => shells.filter((d) => d !== dir);

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'release/**', 'test-results/**', '.cache/**', 'runs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Type-aware: a promise nobody awaits or handles loses its errors (an unhandled rejection).
    files: ['**/*.ts', '**/*.svelte'],
    // The renderer's Vite config belongs to renderer/tsconfig.json, which the project service does not look in.
    // Svelte's parser reads the markup and hands the scripts (and `*.svelte.ts` rune modules) to TypeScript's.
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vite.renderer.config.ts'] }, tsconfigRootDir: import.meta.dirname, parser: tseslint.parser, extraFileExtensions: ['.svelte'],
      },
    },
    rules: {
      // node:test's test() returns a promise the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'core/ is framework-free: no electron.' }],
        patterns: [
          { group: reach(['app', ...shells, 'cli', 'scripts', 'tests']), message: 'core/ may not import apps (app, electron, renderer, cli, server, scripts, tests).' },
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
    files: ['app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'app/ is shell-neutral: no electron.' }],
        patterns: [{ group: reach([...shells, 'cli', 'scripts', 'tests']), message: 'app/ is shared by the shells: it imports core only.' }],
      }],
    },
  },
  {
    files: ['electron/**/*.ts'],
    ignores: ['electron/preload.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: reach([...notIn('electron'), 'cli']), message: 'Shells do not import each other: share code through app/ or core/.' }] }],
    },
  },
  {
    files: ['electron/preload.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '^(?!electron$|\\.\\./app/contract$).*', message: 'The preload imports only electron and the shared contract.' }],
      }],
    },
  },
  {
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'Shells do not import each other.' }],
        patterns: [{ group: reach(notIn('server')), message: 'Shells do not import each other: share code through app/ or core/.' }],
      }],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The renderer reaches main only through the preload API.' }],
        patterns: [
          { group: ['**/core/*', '**/app/*', '!**/app/contract', ...reach([...notIn('renderer'), 'cli']), 'node:*'], message: 'The renderer uses the preload API and the shared contract only.' },
        ],
      }],
    },
  },
);
