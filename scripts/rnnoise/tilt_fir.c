/* The FIR filter of RNNoise's 6x resampling to and from Tilt's 8 kHz (core/dsp/rnnoise.ts), built into
   the same WebAssembly module as RNNoise so that it runs as SIMD code on the module's own memory.
   y[j * ystride] = scale * sum over t < len of x[j * xstep + t] * h[t], for j < n. */
#include <wasm_simd128.h>

void tilt_fir(const float *x, int xstep, const float *h, int len, float *y, int ystride, int n, float scale) {
  for (int j = 0; j < n; j++) {
    const float *xj = x + j * xstep;
    v128_t acc = wasm_f32x4_splat(0.f);
    int t = 0;
    for (; t + 4 <= len; t += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(xj + t), wasm_v128_load(h + t)));
    float s = (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) + (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
    for (; t < len; t++) s += xj[t] * h[t];
    y[j * ystride] = s * scale;
  }
}
