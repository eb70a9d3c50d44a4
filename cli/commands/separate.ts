import { resolve } from 'node:path';
import { initBackend, describeBackend } from '../../core/backend';
import { loadModel } from '../../core/models/io';
import { separateFiles } from '../../core/separate/files';
import { checkBlend } from '../../core/separate/separate';
import { denoiserBlendFor, stemNamesOf } from '../../core/separate/stems';
import { AUDIO_FORMATS } from '../../core/io/audio';
import { MODEL_RATE } from '../../core/types';
import { SEPARATE_DEFAULTS, WINDOW_SECONDS_RANGE } from '../../core/separate/defaults';
import type { BlendReport } from '../../core/separate/blendReport';
import { loadSpeechBank } from '../../core/data/speechBank';
import type { AdaptReport } from '../../core/train/adapt';
import type { AudioFormat } from '../../core/io/audio';
import { parseBlendOption, parseCommandArgs, parseWindowOption } from '../args';
import { ProgressBar, UsageError } from '../format';
import { resolveModel } from '../models';
import type { Command } from '../command';

export const separateCommand: Command = {
  summary: 'Split recordings into speech and environmental-sound stems (<name>.<stem>.wav) at their own rate and channels',
  usage: 'tilt separate FILES... [--model M] [--out DIR] [--format wav16|wav24|wav32f|flac] [--rate model|input] [--window S] [--rnnoise auto|off|W] [--adapt] [--overwrite] [--json]\n'
    + `  --window: seconds of audio the model sees at once (${WINDOW_SECONDS_RANGE.join('-')}, default ${SEPARATE_DEFAULTS.windowSec}); 2 can help over a busy background unlike the training data (docs/separation.md)\n`
    + '  --rnnoise: blend the RNNoise speech denoiser into the speech stem: auto (the default: where it and the model disagree, for models with a speech and an env stem; helps on recordings unlike the training data, about a third more time), off (the model alone) or a fixed share 0-1 (docs/separation.md)\n'
    + '  --adapt: first fine-tune the model for about a minute on the file\'s own sound where nobody speaks, mixed with speech shipped with Tilt; helps most on sounds unlike the training data (docs/separation.md)',
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      model: { type: 'string' }, out: { type: 'string', default: '.' }, format: { type: 'string', default: 'wav16' },
      rate: { type: 'string', default: 'input' }, window: { type: 'string' }, rnnoise: { type: 'string' }, adapt: { type: 'boolean' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' },
    }, true);
    if (positionals.length === 0) throw new UsageError('separate needs at least one audio file');
    if (!(AUDIO_FORMATS as readonly string[]).includes(values.format!)) throw new UsageError(`--format must be one of ${AUDIO_FORMATS.join(', ')}`);
    if (values.rate !== 'model' && values.rate !== 'input') throw new UsageError('--rate must be "input" (the file\'s own rate and band, the default) or "model" (8 kHz)');
    const windowSec = parseWindowOption(values.window);
    const blend = parseBlendOption(values.rnnoise);
    const backend = await initBackend();
    const { dir, label } = await resolveModel(values.model);
    const { model, metadata } = await loadModel(dir);
    const stems = stemNamesOf(metadata, model.nSources);
    const denoiserBlend = denoiserBlendFor(blend, stems, model.fixedSlots ?? false);
    // A model the blend does not fit is refused before any file is read.
    checkBlend(model, denoiserBlend);
    const adapt = values.adapt ? { speech: await loadSpeechBank() } : null;
    if (!values.json) console.error(`model: ${label}\nbackend: ${describeBackend(backend)}`);
    const bar = new ProgressBar('separating');
    const t0 = performance.now();
    try {
      const result = await separateFiles(model, positionals, {
        outDir: resolve(values.out!), stemNames: stems, format: values.format as AudioFormat, rate: values.rate, overwrite: values.overwrite ?? false, windowSec, denoiserBlend, adapt,
        onProgress: ({ fileIndex, fraction, stage, stageFraction }) => bar.update(fraction, `${fileIndex + 1}/${positionals.length} ${stage} ${(stageFraction * 100).toFixed(0)}%`),
      });
      bar.done();
      const seconds = (performance.now() - t0) / 1000;
      const audio = result.done.reduce((a, f) => a + f.duration, 0);
      if (values.json) {
        console.log(JSON.stringify({
          backend: backend.choice, model: label, rtf: audio > 0 ? seconds / audio : null,
          done: result.done.map((f) => ({ input: f.inputPath, outputs: f.outputs, seconds: f.duration, sampleRate: f.outputRate, channels: f.channels, ...(f.blend !== undefined ? { blend: f.blend } : {}), ...(f.adapt ? { adapt: f.adapt } : {}) })),
          failed: result.failed.map((f) => ({ input: f.path, error: f.error.message })),
        }));
      } else {
        for (const f of result.done) {
          console.log(`${f.inputPath} -> ${f.outputs.join(', ')} (${f.outputRate / 1000} kHz, ${f.channels === 1 ? 'mono' : `${f.channels} channels`}; the model worked at ${MODEL_RATE / 1000} kHz mono)`);
          if (f.adapt) console.log(`  ${describeAdapt(f.adapt)}`);
          if (f.blend) console.log(`  ${describeBlend(f.blend)}`);
        }
        if (audio > 0) console.error(`${audio.toFixed(1)} s of audio in ${seconds.toFixed(1)} s (real-time factor ${(seconds / audio).toFixed(3)})`);
        for (const f of result.failed) console.error(`failed: ${f.error.message}`);
      }
      return result.failed.length > 0 ? 1 : 0;
    } finally {
      model.dispose();
    }
  },
};

/** One line on what the RNNoise blend did to a file (a BlendReport; null: the speech stem is silent). */
function describeBlend(report: BlendReport | null): string {
  if (!report) return 'RNNoise blend: the speech stem is silent';
  const percent = (v: number) => `${Math.round(v * 100)} %`;
  return `Tilt and RNNoise disagreed on ${percent(report.disagreed)} of the speech; RNNoise's share of the speech stem: ${percent(report.rnnoiseShare)}`;
}

/** One line on what adapting did to the model for a file. */
function describeAdapt(report: AdaptReport): string {
  return report.skipped
    ? `not adapted: ${report.skipped}`
    : `adapted to ${report.soundSeconds.toFixed(1)} s of the recording's sound where nobody speaks (${report.steps} steps)`;
}
