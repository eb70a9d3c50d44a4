// Runs every tests/**/*.test.ts with Node's test runner (TypeScript through tsx), two files at a time
// (CI has two cores). Extra arguments filter the files by substring: `npm test -- losses`.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = find('tests').sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const node = (args) => spawnSync(process.execPath, ['--import', 'tsx', ...args], { stdio: 'inherit' }).status ?? 1;
// The desktop tests build into dist/ as `npm start` does: one at a time, after the rest.
const desktop = files.filter((f) => f.startsWith(join('tests', 'electron')));
const rest = files.filter((f) => !desktop.includes(f));
// The shared audio first: files running side by side would otherwise fetch the same packages at once.
if (rest.length > 1 && node(['scripts/fetch-test-audio.ts']) !== 0) process.exit(1);
const codes = [
  rest.length ? node(['--test', '--test-concurrency=2', ...rest]) : 0,
  desktop.length ? node(['--test', '--test-concurrency=1', ...desktop]) : 0,
];
process.exit(codes.some((c) => c !== 0) ? 1 : 0);
