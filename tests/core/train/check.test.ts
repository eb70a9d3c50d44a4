// The data check before a run, and cancelling a run's preparation: flat folders named with `~`,
// clips and hours per class and split, files left out with why, problems, the built-in corpus's
// pending download (nothing is downloaded: apt-get is a stand-in here), and cancel between files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkData } from '../../../core/train/check';
import { parseTrainConfig } from '../../../core/train/config';
import { DataCheckJob, TrainingJob } from '../../../core/train/host';
import type { FromTrainWorker } from '../../../core/train/protocol';
import type { PhaseProgress } from '../../../core/train/progress';
import { prepareCorpus, type PrepareProgress } from '../../../core/data/manifest';
import { missingPackages } from '../../../core/data/fetch';
import { PACKAGE_SETS, PACKAGES } from '../../../core/data/packages';
import { TEST_AUDIO_DIR } from '../../fixtures/test-audio';
import { makeUserFolders, type UserFolders } from '../../fixtures/user-folders';

let root: string;
let home: string;
let folders: UserFolders;
const savedHome = process.env.HOME;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tilt-check-'));
  home = join(root, 'home');
  folders = await makeUserFolders(home);
  process.env.HOME = home;
});

after(async () => {
  process.env.HOME = savedHome;
  await rm(root, { recursive: true, force: true });
});

const dataOf = (data: Record<string, unknown>) => parseTrainConfig({ data: { corpus: null, ...data } }).data;

test('flat folders named with ~ are checked: clips and hours per class and split, files left out with why', async () => {
  const data = dataOf({ speechDirs: ['~/voices'], envDirs: ['~/sounds'], cacheDir: join(root, 'cache') });
  assert.deepEqual(data.speechDirs, [folders.speech], '~ is the home folder');
  const phases: PhaseProgress['phase'][] = [];
  let decoded = 0;
  const check = await checkData(data, {
    onProgress: (p) => {
      phases.push(p.phase === 'decode' ? 'decode' : 'download');
      if (p.phase === 'decode') decoded = Math.max(decoded, p.done / p.total);
    },
  });
  assert.deepEqual(check.problems, []);
  assert.equal(check.corpus, null);
  assert.deepEqual(check.folders.map((f) => [f.path, f.kind, f.layout, f.clips]), [[folders.speech, 'speech', 'flat', 16], [folders.env, 'env', 'flat', 16]]);
  assert.ok(check.folders.every((f) => f.hours > 0));
  for (const cls of ['speech', 'env'] as const) {
    const clips = check.clips[cls];
    assert.equal(clips.train + clips.validation + clips.test, 16, cls);
    assert.ok(clips.train >= 10 && clips.validation >= 1 && clips.test >= 1, `${cls}: ${JSON.stringify(clips)}`);
    assert.ok(check.hours[cls].train > check.hours[cls].test, cls);
  }
  const left = Object.fromEntries(check.skipped.map((s) => [s.file.split('/').pop(), s.reason]));
  assert.deepEqual(Object.keys(left).sort(), ['empty.wav', 'notes.txt']);
  assert.equal(left['empty.wav'], 'empty file');
  assert.match(left['notes.txt']!, /not a format Tilt reads \(\.txt\)/);
  assert.equal(check.heldOutSplit, 'test');
  assert.match(check.notes.join('\n'), /voices: the speakers of the files directly in it are unknown/);
  assert.ok(phases.every((p) => p === 'decode') && decoded === 1, 'one decoding pass over both folders, to the end');
});

test('problems that stop a run are named: a missing folder, a class with no validation clips', async () => {
  const lone = join(root, 'lone');
  await mkdir(lone);
  await writeFile(join(lone, 'readme.md'), '# nothing here');
  const check = await checkData(dataOf({ speechDirs: [folders.speech, join(root, 'nowhere')], envDirs: [lone], cacheDir: join(root, 'cache') }));
  assert.deepEqual(check.folders.map((f) => [f.layout, f.error]), [['flat', undefined], [null, 'no such folder'], ['flat', undefined]]);
  assert.deepEqual(check.problems, [
    `${join(root, 'nowhere')}: no such folder`,
    `${lone} has no audio Tilt can use (1 file left out, listed below)`,
    'no env clips to train on',
    'no env clips for validation: add more env files (1 in 10 goes to validation, 1 in 10 to test)',
  ]);
  assert.equal(check.heldOutSplit, null);
});

test('the built-in corpus: ready when on disk, else the download it needs, with its size, and nothing fetched', async () => {
  const ready = await checkData(dataOf({ corpus: 'ci', cacheDir: TEST_AUDIO_DIR }));
  assert.deepEqual(ready.corpus, { set: 'ci', ready: true, download: null });
  assert.ok(ready.clips.speech.train > 0 && ready.clips.env.test > 0);
  const empty = join(root, 'empty-cache');
  const missing = await checkData(dataOf({ corpus: 'ci', cacheDir: empty, envDirs: [folders.env] }));
  const mb = PACKAGE_SETS.ci.reduce((s, n) => s + PACKAGES[n]!.sizeMB, 0);
  assert.deepEqual(missing.corpus, { set: 'ci', ready: false, download: { packages: PACKAGE_SETS.ci, mb } });
  assert.deepEqual(missing.problems, [], 'the corpus will bring what the folders lack');
  assert.equal(missing.clips.env.train + missing.clips.env.validation + missing.clips.env.test, 16);
  assert.equal(existsSync(join(empty, 'packages')), false, 'the check downloads nothing');
});

/** A stand-in apt-get whose `download` writes its .deb slowly, as a real one over a network does. */
async function slowAptGet(): Promise<string> {
  const bin = join(root, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'apt-get'), '#!/bin/sh\nf="$2_1.0_all.deb"\nfor i in $(seq 1 200); do head -c 200000 /dev/zero >> "$f"; sleep 0.05; done\n');
  await chmod(join(bin, 'apt-get'), 0o755);
  return bin;
}

test('a corpus download reports its bytes as a fraction of the megabytes to fetch, and cancel stops it leaving no partial .deb', async () => {
  const cacheDir = join(root, 'download-cache');
  const path = process.env.PATH;
  process.env.PATH = `${await slowAptGet()}:${path}`;
  try {
    const abort = new AbortController();
    const seen: Extract<PrepareProgress, { phase: 'fetch' }>[] = [];
    const prepare = prepareCorpus(['minetest-data'], {
      cacheDir, signal: abort.signal,
      onProgress: (p) => {
        if (p.phase !== 'fetch') return;
        seen.push(p);
        if ((p.bytes ?? 0) > 1e6) abort.abort();
      },
    });
    await assert.rejects(prepare, (e: Error) => e.name === 'AbortError');
    const last = seen.at(-1)!;
    assert.equal(last.stage, 'download');
    assert.ok(Math.abs(last.fraction - last.bytes! / 1e6 / PACKAGES['minetest-data']!.sizeMB) < 1e-9, JSON.stringify(last));
    assert.ok(last.fraction > 0.25 && last.fraction < 1);
    assert.deepEqual(await readdir(join(cacheDir, 'debs')).then((names) => names.filter((n) => n !== 'partial')), [], 'no partial .deb where a finished one is looked for');
    assert.deepEqual(await readdir(join(cacheDir, 'debs', 'partial')), []);
    assert.deepEqual(await missingPackages(['minetest-data'], cacheDir), ['minetest-data']);
  } finally {
    process.env.PATH = path;
  }
});

test('cancel while a training job decodes the data: the job ends cancelled between files, with no checkpoint', async () => {
  const cacheDir = join(root, 'fresh-cache');
  const runDir = join(root, 'run-cancelled');
  const events: FromTrainWorker[] = [];
  // Messages arrive after the constructor returns: `job` is set by then.
  const job: TrainingJob = new TrainingJob({
    config: {
      name: 'cancel-early', model: { preset: '0.25x', overrides: { nBlocks: 1, upsamplingDepth: 2, encBasis: 16, bottleneck: 8, hidden: 16 } },
      data: { corpus: null, speechDirs: [folders.speech], envDirs: [folders.env], cacheDir, segmentSeconds: 0.5 },
      batchSize: 2, epochs: 1, stepsPerEpoch: 2,
    },
    runDir,
    workers: 1,
  }, (m) => {
    events.push(m);
    if (m.type === 'phase' && m.progress.phase === 'decode') job.cancel();
  });
  const done = await job.done;
  assert.equal(done.outcome, 'cancelled');
  assert.deepEqual([done.best, done.beforeAfter, done.card], [null, null, null]);
  assert.ok(!events.some((m) => m.type === 'started'), 'no training step ran');
  assert.equal(existsSync(join(runDir, 'last')), false);
  const decodedFiles = (await readdir(join(cacheDir, 'pcm8k'))).length;
  assert.ok(decodedFiles < folders.audioFiles - 2, `stopped between files: ${decodedFiles} of ${folders.audioFiles} decoded`);
});

test('a data check in a worker reports decoding progress and can be cancelled', async () => {
  const data = { corpus: null, speechDirs: [folders.speech], envDirs: [folders.env], cacheDir: join(root, 'worker-cache') };
  const phases: PhaseProgress[] = [];
  const job: DataCheckJob = new DataCheckJob({ data }, (p) => {
    phases.push(p);
    if (phases.length === 1) job.cancel();
  });
  assert.equal(await job.done, null, 'cancelled');
  assert.equal(phases[0]?.phase, 'decode');
  const check = await new DataCheckJob({ data }).done;
  assert.deepEqual(check?.problems, []);
  assert.equal(check?.folders.length, 2);
});
