// Fetches the tests' real audio (the ci corpus, the held-out packages, the telephone prompts) once,
// before `npm test` runs test files side by side, so that no two of them fetch one package at once.
// A test file run alone fetches what it needs on first use.
//   node --import tsx scripts/fetch-test-audio.ts
import { ensureHeldOutAudio, ensureTestAudio, HELDOUT_AUDIO_DIR, TEST_AUDIO_DIR } from '../tests/fixtures/test-audio';
import { speechDir } from '../tests/core/separate/fixtures';

const t0 = Date.now();
const m = await ensureTestAudio((line) => console.log(line));
const hours = m.entries.reduce((s, e) => s + e.duration, 0) / 3600;
const heldOut = await ensureHeldOutAudio();
speechDir();
console.log(`test audio ready in ${TEST_AUDIO_DIR}: ${m.entries.length} clips, ${hours.toFixed(2)} h, ${m.skipped.length} skipped; `
  + `held-out packages in ${HELDOUT_AUDIO_DIR}: ${heldOut.entries.length} clips; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
