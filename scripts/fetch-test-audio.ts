// Fetches the tests' real audio ahead of `npm test` (the tests also fetch it on first use):
//   node --import tsx scripts/fetch-test-audio.ts
import { ensureTestAudio, TEST_AUDIO_DIR } from '../tests/fixtures/test-audio';

const t0 = Date.now();
const m = await ensureTestAudio((line) => console.log(line));
const hours = m.entries.reduce((s, e) => s + e.duration, 0) / 3600;
console.log(`test audio ready in ${TEST_AUDIO_DIR}: ${m.entries.length} clips, ${hours.toFixed(2)} h, ${m.skipped.length} skipped, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
