// Builds RNNoise (Valin, 2018; BSD-3-Clause) for WebAssembly with SIMD into core/dsp/rnnoise-wasm.ts.
// The npm build that Tilt first used (@shiguredo/rnnoise-wasm) is scalar: about 0.13 s of CPU per second
// of audio on this project's machines, more than the separation model itself. This build runs RNNoise's
// own SSE2 code path through Emscripten's SSE-to-wasm-SIMD headers, about 5 times as fast. SSE2 rather
// than SSSE3 or SSE4.1: its 8-bit dot product is _mm_madd_epi16, which is one wasm instruction
// (i32x4.dot_i16x8_s), where SSSE3's _mm_maddubs_epi16 has to be emulated (0.026 against 0.030 s per second).
//
// The weights are RNNoise 0.2's published model. Its source tree downloads them from xiph.org at build
// time (download_model.sh), which this project's machines cannot reach, so they are read from the npm
// build's data segment instead (its table of named arrays, the same records RNNoise's weight files
// hold) and written back out as rnnoise_data.c / rnnoise_data.h. Outputs agree with the npm build to
// about 50 dB (its scalar path rounds the activations like the SIMD one, the rest is float
// reassociation); tests/core/dsp/rnnoise.test.ts checks that on real speech and noise.
//
// Needs Emscripten (Debian: apt-get install emscripten, 3.1.6 here) and a checkout of
// https://github.com/xiph/rnnoise (commit RNNOISE_COMMIT, or pass --source DIR):
//   node --import tsx scripts/rnnoise/build.ts --source ../rnnoise
// tilt_fir.c, beside this script, adds the FIR filter of the resampling to and from 8 kHz to the module.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '../..');
const MODULE = join(root, 'core/dsp/rnnoise-wasm.ts');
const RNNOISE_COMMIT = '70f1d256acd4b34a572f999a05c87bf00b67730d';
const NPM_BUILD = join(root, 'node_modules/@shiguredo/rnnoise-wasm/dist/rnnoise.js');

interface WeightRecord {
  name: string;
  /** RNNoise's WEIGHT_TYPE_*: 0 float, 1 int, 3 int8. */
  type: number;
  data: Uint8Array;
}

/** The wasm module inlined (base64) in the npm build's JavaScript. */
function npmWasm(): Uint8Array {
  const js = readFileSync(NPM_BUILD, 'utf8');
  const inlined = /"(AGFzbQEAAAA[A-Za-z0-9+/=]+)"/.exec(js);
  if (!inlined) throw new Error(`${NPM_BUILD}: no inlined wasm module found`);
  return Buffer.from(inlined[1]!, 'base64');
}

/** The module's linear memory as its data segments initialise it, and where they end. */
function initialMemory(wasm: Uint8Array): { memory: Uint8Array; end: number } {
  let p = 8;
  const uleb = (): number => {
    let r = 0, shift = 0, b: number;
    do { b = wasm[p++]!; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return r;
  };
  const sleb = (): number => {
    let r = 0, shift = 0, b: number;
    do { b = wasm[p++]!; r |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
    return shift < 32 && b & 0x40 ? r | (-1 << shift) : r;
  };
  const memory = new Uint8Array(64 << 20);
  let end = 0;
  while (p < wasm.length) {
    const id = wasm[p++]!;
    const size = uleb();
    const next = p + size;
    if (id === 11) {
      for (let n = uleb(); n > 0; n--) {
        if (uleb() !== 0 || wasm[p++] !== 0x41) throw new Error('unexpected data segment form');
        const at = sleb();
        if (wasm[p++] !== 0x0b) throw new Error('unexpected data segment offset');
        const len = uleb();
        memory.set(wasm.subarray(p, p + len), at);
        end = Math.max(end, at + len);
        p += len;
      }
    }
    p = next;
  }
  return { memory, end };
}

/** RNNoise's table of named weight arrays ({ name, type, size, data } of four 32-bit words each). */
function weightRecords(wasm: Uint8Array): WeightRecord[] {
  const { memory, end } = initialMemory(wasm);
  const view = new DataView(memory.buffer);
  const cString = (at: number): string => {
    let s = '';
    while (memory[at] !== 0 && s.length < 64) s += String.fromCharCode(memory[at++]!);
    return s;
  };
  const records: WeightRecord[] = [];
  for (let at = 0; at + 16 <= end; at += 4) {
    const namePtr = view.getUint32(at, true);
    if (namePtr === 0 || namePtr >= end || memory[namePtr - 1] !== 0) continue;
    const name = cString(namePtr);
    const type = view.getInt32(at + 4, true);
    const size = view.getInt32(at + 8, true);
    const dataPtr = view.getUint32(at + 12, true);
    if (!/^(conv|gru|dense|vad)[a-z0-9_]*$/.test(name) || ![0, 1, 3].includes(type) || size <= 0 || dataPtr + size > end) continue;
    records.push({ name, type, data: memory.slice(dataPtr, dataPtr + size) });
  }
  if (records.length !== 43) throw new Error(`expected RNNoise 0.2's 43 weight arrays, found ${records.length}`);
  return records;
}

/** rnnoise_data.c and rnnoise_data.h as RNNoise's dump_rnnoise_weights.py writes them for these arrays. */
function dataSources(records: WeightRecord[]): { c: string; h: string } {
  const bytes = (name: string): number => {
    const r = records.find((x) => x.name === name);
    if (!r) throw new Error(`weight array ${name} missing`);
    return r.data.length;
  };
  const conv1Out = bytes('conv1_bias') / 4;
  const conv1In = bytes('conv1_weights_float') / 4 / conv1Out / 3;
  const conv2Out = bytes('conv2_bias') / 4;
  const gru = bytes('gru1_input_bias') / 4 / 3;
  const denseOut = bytes('dense_out_bias') / 4;
  const denseIn = bytes('dense_out_weights_float') / 4 / denseOut;
  const q = (s: string | false | undefined): string => (s ? `"${s}"` : 'NULL');
  const layers: string[] = [];
  const linear = (name: string, o: { quantized?: boolean; sparse?: boolean; diag?: boolean; inputs: number; outputs: number }): void => {
    layers.push(
      `  if (linear_init(&model->${name}, arrays, ${q(`${name}_bias`)}, ${q(o.quantized && `${name}_subias`)}, ` +
        `${q(o.quantized && `${name}_weights_int8`)}, ${q(`${name}_weights_float`)}, ${q(o.sparse && `${name}_weights_idx`)}, ` +
        `${q(o.diag && `${name}_weights_diag`)}, ${q(o.quantized && `${name}_scale`)}, ${o.inputs}, ${o.outputs})) return 1;`,
    );
  };
  linear('conv1', { inputs: 3 * conv1In, outputs: conv1Out });
  linear('conv2', { quantized: true, inputs: 3 * conv1Out, outputs: conv2Out });
  for (const g of ['gru1', 'gru2', 'gru3']) {
    linear(`${g}_input`, { quantized: true, sparse: true, inputs: g === 'gru1' ? conv2Out : gru, outputs: 3 * gru });
    linear(`${g}_recurrent`, { quantized: true, sparse: true, diag: true, inputs: gru, outputs: 3 * gru });
  }
  linear('dense_out', { inputs: denseIn, outputs: denseOut });
  linear('vad_dense', { inputs: denseIn, outputs: bytes('vad_dense_bias') / 4 });
  const fields = ['conv1', 'conv2', 'gru1_input', 'gru1_recurrent', 'gru2_input', 'gru2_recurrent', 'gru3_input', 'gru3_recurrent', 'dense_out', 'vad_dense'];
  const h = [
    '#ifndef RNNOISE_DATA_H',
    '#define RNNOISE_DATA_H',
    '#include "nnet.h"',
    `#define CONV1_OUT_SIZE ${conv1Out}`,
    `#define CONV1_IN_SIZE ${conv1In}`,
    `#define CONV1_STATE_SIZE (${conv1In} * 2)`,
    `#define CONV2_OUT_SIZE ${conv2Out}`,
    `#define CONV2_IN_SIZE ${conv1Out}`,
    `#define CONV2_STATE_SIZE (${conv1Out} * 2)`,
    ...['GRU1', 'GRU2', 'GRU3'].flatMap((g) => [`#define ${g}_OUT_SIZE ${gru}`, `#define ${g}_STATE_SIZE ${gru}`]),
    `#define DENSE_OUT_OUT_SIZE ${denseOut}`,
    '#define VAD_DENSE_OUT_SIZE 1',
    'typedef struct {',
    ...fields.map((f) => `  LinearLayer ${f};`),
    '} RNNoise;',
    'extern const WeightArray rnnoise_arrays[];',
    'int init_rnnoise(RNNoise *model, const WeightArray *arrays);',
    '#endif',
    '',
  ].join('\n');
  const c = [
    '#include <stddef.h>',
    '#include "nnet.h"',
    '#include "rnnoise_data.h"',
    ...records.map((r) => `static const unsigned char w_${r.name}[${r.data.length}] __attribute__((aligned(64))) = {${Array.from(r.data).join(',')}};`),
    'const WeightArray rnnoise_arrays[] = {',
    ...records.map((r) => `  {"${r.name}", ${r.type}, ${r.data.length}, w_${r.name}},`),
    '  {NULL, 0, 0, NULL}',
    '};',
    'int init_rnnoise(RNNoise *model, const WeightArray *arrays) {',
    ...layers,
    '  return 0;',
    '}',
    '',
  ].join('\n');
  return { c, h };
}

/** Source of rnnoise-wasm.ts for these bytes. */
function moduleSource(wasm: Uint8Array): string {
  const lines = Buffer.from(wasm).toString('base64').match(/.{1,4096}/g)!;
  return [
    '// Generated by scripts/rnnoise/build.ts; do not edit. RNNoise: Copyright (c) 2007-2017, 2024 Jean-Marc Valin,',
    '// (c) 2023 Amazon, (c) 2017 Mozilla, (c) 2005-2017 Xiph.Org Foundation, (c) 2003-2004 Mark Borgerding;',
    '// BSD-3-Clause, the full notice in docs/licences/rnnoise.txt.',
    '/** RNNoise 0.2 with its model, compiled to WebAssembly SIMD, base64. */',
    'export const RNNOISE_WASM_BASE64 = [',
    ...lines.map((l) => `  '${l}',`),
    "].join('');",
    '',
  ].join('\n');
}

const { values } = parseArgs({ options: { source: { type: 'string' } } });
const work = mkdtempSync(join(tmpdir(), 'tilt-rnnoise-'));
try {
  let source = values.source;
  if (!source) {
    source = join(work, 'rnnoise');
    execFileSync('git', ['clone', '-q', 'https://github.com/xiph/rnnoise.git', source], { stdio: 'inherit' });
    execFileSync('git', ['-C', source, 'checkout', '-q', RNNOISE_COMMIT], { stdio: 'inherit' });
  }
  const src = join(work, 'src');
  cpSync(join(source, 'src'), src, { recursive: true });
  cpSync(join(source, 'include'), join(work, 'include'), { recursive: true });
  const { c, h } = dataSources(weightRecords(npmWasm()));
  writeFileSync(join(src, 'rnnoise_data.c'), c);
  writeFileSync(join(src, 'rnnoise_data.h'), h);
  // vec_avx.h names AVX's 256-bit integer type even when only SSE is enabled (Emscripten 3.1 has no AVX
  // headers), and emulates SSSE3's multiply-add whether SSSE3 is there or not.
  const maddubs = /static inline mm256i_emu mm256_maddubs_epi16[\s\S]*?#define _mm256_maddubs_epi16\(a,b\) mm256_maddubs_epi16\(a,b\)\n/;
  const vec = readFileSync(join(src, 'vec_avx.h'), 'utf8');
  if (!maddubs.test(vec) || !vec.includes('typedef __m256i real_m256i;')) throw new Error('vec_avx.h is not the one this script patches');
  writeFileSync(join(src, 'vec_avx.h'), vec
    .replace('typedef __m256i real_m256i;', '#ifdef __AVX__\ntypedef __m256i real_m256i;\n#endif')
    .replace(maddubs, (m) => `#ifdef __SSSE3__\n${m}#endif\n`));
  const out = join(work, 'rnnoise.wasm');
  const units = ['denoise', 'kiss_fft', 'pitch', 'celt_lpc', 'rnn', 'nnet', 'nnet_default', 'parse_lpcnet_weights', 'rnnoise_tables', 'rnnoise_data'];
  execFileSync('emcc', [
    '-O3', '-msimd128', '-msse2', '-I', join(work, 'include'), '-I', src,
    ...units.map((u) => join(src, `${u}.c`)), join(import.meta.dirname, 'tilt_fir.c'),
    '-o', out, '--no-entry',
    '-s', 'STANDALONE_WASM=1', '-s', 'INITIAL_MEMORY=8MB', '-s', 'TOTAL_STACK=256KB', '-s', 'ALLOW_MEMORY_GROWTH=1',
    '-s', "EXPORTED_FUNCTIONS=['_rnnoise_create','_rnnoise_destroy','_rnnoise_process_frame','_tilt_fir','_malloc','_free']",
  ], { stdio: 'inherit' });
  const wasm = readFileSync(out);
  writeFileSync(MODULE, moduleSource(wasm));
  cpSync(join(source, 'COPYING'), join(root, 'docs/licences/rnnoise.txt'));
  console.log(`${MODULE}: ${wasm.length} bytes of wasm`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
