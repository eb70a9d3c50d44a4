// Lets Node import the renderer's rune modules (`*.svelte.ts`): strips their TypeScript, then compiles
// the runes ($state, $derived, $effect) with Svelte's client compiler, as Vite's Svelte plugin does.
// Importing this file registers the hook, so a test imports it first and the modules afterwards with
// `await import(...)` (static imports are all loaded before any module body runs).
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// The hooks run in a thread of their own, which loads this file again: only the main thread registers.
if (isMainThread) register(import.meta.url);

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.svelte.ts')) return nextLoad(url, context);
  const filename = fileURLToPath(url);
  const { default: ts } = await import('typescript');
  const { compileModule } = await import('svelte/compiler');
  const js = ts.transpileModule(await readFile(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
  }).outputText;
  return { format: 'module', source: compileModule(js, { filename, generate: 'client' }).js.code, shortCircuit: true };
}
