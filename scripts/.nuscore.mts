import { readAudioFile } from '../core/io/audio';
import { siSdr } from '../core/losses';
const [dir] = process.argv.slice(2);
const mix = await readAudioFile('/tmp/nu/mix.wav');
for (const stem of ['speech', 'env']) {
  const ref = await readAudioFile(`/tmp/nu/ref-${stem}.wav`);
  const est = await readAudioFile(`${dir}/mix.${stem}.wav`);
  const r = [0, 1].map((c) => siSdr(est.channels[c]!, ref.channels[c]!) - siSdr(mix.channels[c]!, ref.channels[c]!));
  console.log(stem, ((r[0]! + r[1]!) / 2).toFixed(2), est.sampleRate, est.channels.length);
}
