import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

/**
 * Starts a worker thread from a module URL. A TypeScript module (development, tests, the CLI)
 * loads through tsx's loader registered inside the worker; bundled builds pass a .js module.
 */
export function startWorker(url: URL, env: NodeJS.ProcessEnv = process.env): Worker {
  if (!fileURLToPath(url).endsWith('.ts')) return new Worker(url, { env });
  const loader = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${loader}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true, env });
}
