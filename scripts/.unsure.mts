import { initBackend } from '../core/backend';
import { loadModel } from '../core/models/io';
import { parseTrainConfig } from '../core/train/config';
import { heldOutSet, longHeldOutSet } from '../core/train/heldout';
import { separateSignal } from '../core/separate/separate';
import { BlendTally } from '../core/separate/blendReport';
import { denoiserBlendFor, stemNamesOf } from '../core/separate/stems';
import { siSdr } from '../core/losses';
await initBackend();
const { model, metadata } = await loadModel('assets/models/tilt-default');
const blend = denoiserBlendFor('auto', stemNamesOf(metadata, model.nSources));
const n = Number(process.argv[2] ?? 20);
for (const [corpus, split, long] of [['heldout', 'test', true], ['full', 'validation', true], ['full', 'test', true], ['heldout', 'test', false], ['full', 'validation', false], ['full', 'test', false]] as const) {
  const data = parseTrainConfig({ data: { corpus, segmentSeconds: 4, mixtureTypes: { 'speech+env': 1 } } }).data;
  const set = long ? await longHeldOutSet({ data, split, mixtures: n, seed: 4242, seconds: 30 }) : await heldOutSet({ data, split, mixtures: 3 * n, seed: 4242 });
  const u: number[] = [];
  const rows: { unsure: number; alone: number; auto: number }[] = [];
  for (const b of set.batches) for (let i = 0; i < b.batch; i++) {
    const x = b.mixture.subarray(i * b.time, (i + 1) * b.time);
    const tally = new BlendTally();
    const refs = [0, 1].map((j) => b.sources.subarray((i * 2 + j) * b.time, (i * 2 + j + 1) * b.time));
    const score = (st: Float32Array[]) => (siSdr(st[0]!, refs[0]!) - siSdr(x, refs[0]!) + siSdr(st[1]!, refs[1]!) - siSdr(x, refs[1]!)) / 2;
    const auto = score(await separateSignal(model, x, { denoiserBlend: blend, onWindowBlend: tally.add }));
    const alone = score(await separateSignal(model, x));
    const unsure = tally.report()?.unsure ?? NaN;
    u.push(unsure);
    rows.push({ unsure, alone, auto });
  }
  u.sort((a, c) => a - c);
  const mean = (r: typeof rows) => r.length ? (r.reduce((a, v) => a + v.auto - v.alone, 0) / r.length).toFixed(2) : '-';
  for (const t of [0.25, 0.4, 0.5]) console.log(`  unsure>=${t}: n ${rows.filter((r) => r.unsure >= t).length} auto-alone ${mean(rows.filter((r) => r.unsure >= t))}; below: n ${rows.filter((r) => r.unsure < t).length} ${mean(rows.filter((r) => r.unsure < t))}`);
  const q = (p: number) => u[Math.min(u.length - 1, Math.floor(p * u.length))]!.toFixed(2);
  console.log(`${corpus} ${split} ${long ? 'long' : 'crops'} n=${u.length} mean ${(u.reduce((a, v) => a + v, 0) / u.length).toFixed(3)} p10 ${q(0.1)} p25 ${q(0.25)} median ${q(0.5)} p75 ${q(0.75)} p90 ${q(0.9)} | >=0.25: ${(u.filter((v) => v >= 0.25).length / u.length * 100).toFixed(0)}% >=0.4: ${(u.filter((v) => v >= 0.4).length / u.length * 100).toFixed(0)}% >=0.5: ${(u.filter((v) => v >= 0.5).length / u.length * 100).toFixed(0)}%`);
}
