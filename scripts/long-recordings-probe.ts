// What makes long recordings hard (docs/training-data.md, "Runs of clips"): recordings of 30 s whose
// sources are runs of clips, each recipe changing one thing, with a model and RNNoise scored on them.
//   node --import tsx scripts/long-recordings-probe.ts [--model DIR] [--data full] [--split validation] [--recordings 10]
// Recipes: as `tilt evaluate --long` builds them; without gaps; without level changes; one voice line
// and one sound, each repeated; one of the two repeated, the other source as usual.
import { parseArgs } from 'node:util';
import { initBackend } from '../core/backend';
import { packageOfFile } from '../core/data/manifest';
import { levelAtSnr, type Clip, type MixerBatch } from '../core/data/mixer';
import { Rng } from '../core/data/random';
import { audibleClip, placeRun, SOUNDS, TURNS, type RunShape } from '../core/data/runs';
import { rnnoiseSystem } from '../core/evaluation/rnnoise';
import { evaluateSystems } from '../core/evaluation/run';
import { modelSystem } from '../core/evaluation/systems';
import { loadModel } from '../core/models/io';
import { parseTrainConfig } from '../core/train/config';
import { dataEntries, splitClips } from '../core/train/data';
import { MODEL_RATE } from '../core/types';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'assets/models/tilt-default' }, data: { type: 'string', default: 'full' },
    split: { type: 'string', default: 'validation' }, recordings: { type: 'string', default: '10' },
  },
});
const SECONDS = 30;
const SNR: [number, number] = [-5, 5];
const split = values.split === 'test' ? 'test' : 'validation';

interface Recipe { name: string; speech: RunShape; env: RunShape; oneVoiceLine?: boolean; oneSound?: boolean }
const still = (shape: RunShape): RunShape => ({ ...shape, startSeconds: [0, 0], gapSeconds: [0, 0] });
const RECIPES: Recipe[] = [
  { name: 'as tilt evaluate --long builds them', speech: TURNS, env: SOUNDS },
  { name: 'no gaps', speech: still(TURNS), env: still(SOUNDS) },
  { name: 'no level changes', speech: { ...TURNS, gainDb: 0 }, env: { ...SOUNDS, gainDb: 0 } },
  { name: 'one voice line and one sound, each repeated', speech: TURNS, env: SOUNDS, oneVoiceLine: true, oneSound: true },
  { name: 'one voice line repeated, many sounds', speech: TURNS, env: SOUNDS, oneVoiceLine: true },
  { name: 'many voice lines, one sound repeated', speech: TURNS, env: SOUNDS, oneSound: true },
];

await initBackend();
const data = parseTrainConfig({ data: { corpus: values.data, segmentSeconds: 4, snrDb: SNR } }).data;
const { entries, cacheDir } = await dataEntries(data);
const clips = (await splitClips(entries, cacheDir, split)).filter(audibleClip);
const packageOf = packageOfFile(entries);
const byClass = { speech: clips.filter((c) => c.class === 'speech'), env: clips.filter((c) => c.class === 'env') };
const { model, metadata } = await loadModel(values.model);
const systems = [modelSystem('Tilt', model, metadata?.stems), await rnnoiseSystem()];
const T = SECONDS * MODEL_RATE;

function recordings(recipe: Recipe): MixerBatch[] {
  return Array.from({ length: Number(values.recordings) }, (_, k) => {
    // The same draws for every recipe, so that they differ only in what the recipe changes.
    const rng = new Rng(`long-recordings-probe:${k}`);
    const [voiceLine, sound] = [rng.pick(byClass.speech), rng.pick(byClass.env)];
    const speechPool: Clip[] = recipe.oneVoiceLine ? [voiceLine] : byClass.speech;
    const envPool: Clip[] = recipe.oneSound ? [sound] : byClass.env;
    const sources = new Float32Array(2 * T);
    const [speech, env] = [sources.subarray(0, T), sources.subarray(T)];
    const first = [placeRun(speech, speechPool, rng, MODEL_RATE, recipe.speech), placeRun(env, envPool, rng, MODEL_RATE, recipe.env)];
    const snr = rng.uniform(...SNR);
    levelAtSnr(speech, env, snr, SECONDS);
    const mixture = new Float32Array(T);
    for (let i = 0; i < T; i++) mixture[i] = speech[i]! + env[i]!;
    return {
      batch: 1, nSrc: 2, time: T, mixture, sources, classes: [['speech', 'env']], labels: [first.map((c) => c.label)],
      mixtureTypes: ['speech+env'], snrDb: [snr], clipIds: [first.map((c) => c.id)],
    };
  });
}

console.log(`${values.model} and RNNoise on ${values.recordings} recordings of ${SECONDS} s from the ${split} split of --data ${values.data}, SNR ${SNR.join('..')} dB`);
for (const recipe of RECIPES) {
  const set = { batches: recordings(recipe), packageOf };
  const [tilt, rnnoise] = await evaluateSystems(systems, set, { snrRange: SNR });
  console.log(`${recipe.name}: Tilt ${tilt!.overall.mean.toFixed(2)} dB (speech ${tilt!.byClass.speech.mean.toFixed(2)}, env ${tilt!.byClass.env.mean.toFixed(2)}), RNNoise ${rnnoise!.overall.mean.toFixed(2)} dB`);
}
model.dispose();
