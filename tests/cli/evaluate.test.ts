// `tilt evaluate` as a user runs it: the shipped model next to the baselines on real CI test mixtures.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTestAudio, TEST_AUDIO_DIR } from '../fixtures/test-audio';
import { makeUserFolders } from '../fixtures/user-folders';
import { runTilt } from '../fixtures/tilt-cli';

const MODEL = join(import.meta.dirname, '../../assets/models/tilt-default');
let home: string;

const tilt = (args: string[]) => runTilt(args, { home });

before(async () => {
  await ensureTestAudio();
  home = await mkdtemp(join(tmpdir(), 'tilt-evaluate-'));
  process.on('exit', () => void rm(home, { recursive: true, force: true }));
});

const ARGS = ['evaluate', '--model', MODEL, '--data', 'ci', '--cache', TEST_AUDIO_DIR, '--mixtures', '4', '--seconds', '2'];

test('--baselines --json: the model, RNNoise and the mixture scored by stem name on the same mixtures', async () => {
  const r = await tilt([...ARGS, '--baselines', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const reports = [out.report, ...out.baselines];
  assert.deepEqual(reports.map((x) => x.system), ['Tilt', 'RNNoise', 'mixture']);
  for (const x of reports) {
    assert.equal(x.overall.count, 4);
    assert.deepEqual([x.byClass.speech.count, x.byClass.env.count], [4, 4]);
    assert.equal(x.swaps.of, 4);
    assert.deepEqual(Object.keys(x.bySnr), ['[-5, -2)', '[-2, 2)', '[2, 5]']);
    assert.equal(Object.values(x.bySnr).reduce((n: number, s) => n + (s as { count: number }).count, 0), 4);
    // Every source comes from one of the CI packages.
    assert.ok(Object.keys(x.byPackage).every((p) => ['asterisk-core-sounds-en-wav', 'minetest-data', 'scratch'].includes(p)), Object.keys(x.byPackage).join());
    assert.equal(Object.values(x.byPackage).reduce((n: number, s) => n + (s as { count: number }).count, 0), 8);
  }
  const [model, rnnoise, mixture] = reports;
  assert.deepEqual([mixture.overall.mean, mixture.overall.std, mixture.swaps.count], [0, 0, 0]);
  assert.ok(model.overall.mean > 5, `Tilt ${model.overall.mean} dB`);
  assert.ok(rnnoise.overall.mean > 0, `RNNoise ${rnnoise.overall.mean} dB`);
  assert.ok(model.pit.overall.mean >= model.overall.mean - 1e-9);
});

test('the table puts the systems side by side and reports the swaps', async () => {
  const r = await tilt([...ARGS, '--mixtures', '2', '--baselines']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nSI-SDRi \(dB\) +system +n +mean +std +p1 /);
  for (const system of ['Tilt', 'RNNoise', 'mixture']) assert.match(r.stdout, new RegExp(`\\nall mixtures +${system} +2 `));
  assert.match(r.stdout, /\nspeech stem +RNNoise +2 /);
  assert.match(r.stdout, /stem swaps .*: Tilt \d of 2, RNNoise \d of 2, mixture 0 of 2/);
});

test('--config scores the mixtures of a training config\'s own folders, and refuses a second recipe', async () => {
  const folders = await makeUserFolders(join(home, 'material'));
  const config = join(home, 'mine.json');
  await writeFile(config, JSON.stringify({ data: { corpus: null, speechDirs: [folders.speech], envDirs: [folders.env], segmentSeconds: 1 } }));
  const r = await tilt(['evaluate', '--model', MODEL, '--config', config, '--split', 'validation', '--mixtures', '3', '--seconds', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.report.overall.count, 3);
  assert.equal(out.types.join(), 'speech+env');
  assert.deepEqual(Object.keys(out.report.byPackage).sort(), ['folder:sounds', 'folder:voices'], 'sources come from the two folders only');
  const clash = await tilt(['evaluate', '--config', config, '--data', 'ci']);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /--config takes the audio from the config: drop --data/);
});

test('--one-class: each system\'s leak on inputs without speech and without env, instead of the SI-SDRi table', async () => {
  const r = await tilt([...ARGS, '--mixtures', '3', '--one-class', '--baselines', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual([out.leakFloorDb, out.leakThresholdDb, out.mixtures, out.report], [-60, -10, 3, undefined]);
  assert.deepEqual(out.oneClass.map((x: { system: string }) => x.system), ['Tilt', 'RNNoise', 'mixture']);
  const [model, , mixture] = out.oneClass;
  for (const absent of ['speech', 'env']) {
    for (const x of out.oneClass) assert.equal(x.byAbsent[absent].overall.count, 3, `${x.system} without ${absent}`);
    assert.deepEqual([mixture.byAbsent[absent].overall.mean, mixture.byAbsent[absent].overall.leaking], [0, 1]);
    const leak = model.byAbsent[absent].overall;
    assert.ok(leak.mean < 0 && leak.mean >= -60 && leak.p95 >= leak.median, `Tilt without ${absent}: ${JSON.stringify(leak)}`);
  }
  // Inputs without speech hold only sounds, and the other way round.
  assert.ok(Object.keys(model.byAbsent.speech.byPackage).every((p) => ['minetest-data', 'scratch'].includes(p)));
  assert.deepEqual(Object.keys(model.byAbsent.env.byPackage), ['asterisk-core-sounds-en-wav']);

  const table = await tilt([...ARGS, '--mixtures', '2', '--one-class']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /\ninput +system +n +mean leak \(dB\) +median +p95 +leaking\n/);
  assert.match(table.stdout, /\nno speech \(env only\) +Tilt +2 +-?[\d.]+ +-?[\d.]+ +-?[\d.]+ +\d+%\n/);
  assert.match(table.stdout, /\nno env \(speech only\): asterisk-core-sounds-en-wav +Tilt +2 /);
  assert.doesNotMatch(table.stdout, /SI-SDRi/);
  const types = await tilt([...ARGS, '--one-class', '--types', 'speech+env']);
  assert.equal(types.code, 2);
  assert.match(types.stderr, /--one-class draws speech\+env mixtures and leaves one source out: drop --types/);
});

test('--long: recordings of several separation windows made of joined clips, swaps also counted per 4 s window', async () => {
  const r = await tilt([...ARGS, '--long', '--seconds', '12', '--mixtures', '2', '--baselines', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual([out.long, out.report.overall.count, out.report.swaps.of], [{ seconds: 12, swapWindowSeconds: 4 }, 2, 2]);
  const [model, , mixture] = [out.report, ...out.baselines];
  for (const x of [out.report, ...out.baselines]) assert.ok(x.windowSwaps.of >= 2 && x.windowSwaps.of <= 6, `${x.system}: ${JSON.stringify(x.windowSwaps)}`);
  assert.equal(mixture.windowSwaps.swapped, 0);
  assert.ok(model.overall.mean > 0, `the shipped model improves long CI mixtures: ${model.overall.mean}`);
  assert.equal(model.windowSwaps.swapped, 0, 'the shipped model keeps each stem\'s name across windows');

  // 30 s is the recordings' length, not a crop length the data's memory check would refuse.
  const table = await tilt([...ARGS, '--long', '--seconds', '30', '--mixtures', '1']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /on 1 test long mixtures of 30 s \(a conversation over a run of sounds\)/);
  assert.match(table.stdout, /\n4 s windows swapped \(of those where both sources are heard\): Tilt \d of [1-7]\n/);
  const both = await tilt([...ARGS, '--long', '--one-class']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--one-class and --long are two different sets: pick one/);
  const types = await tilt([...ARGS, '--long', '--types', 'env+env']);
  assert.equal(types.code, 2);
  assert.match(types.stderr, /--long joins speech clips over env clips \(speech\+env\): drop --types/);
});
