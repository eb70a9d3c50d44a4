// New-user app check: `tilt serve` from a checkout, Chromium, the 60 s held-out stereo file with the RNNoise blend.
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
const [repo, shot] = process.argv.slice(2);
const server = spawn('node', [`${repo}/bin/tilt.mjs`, 'serve', '--port', '8931'], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((ok) => {
  let buf = '';
  server.stdout!.on('data', (d) => { buf += d; const m = /Open (\S+)/.exec(buf); if (m) ok(m[1]!); });
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
try {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(url);
  await page.getByTestId('engine-state').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });
  await page.getByLabel('RNNoise blend').selectOption('auto');
  const t0 = Date.now();
  await page.getByTestId('file-input').setInputFiles('/tmp/nu/mix.wav');
  await page.locator('section.player[data-ready="true"]').waitFor({ timeout: 300_000 });
  console.log('playable after', ((Date.now() - t0) / 1000).toFixed(1), 's');
  console.log('meta:', (await page.locator('.result-head .meta').first().textContent())?.replace(/\s+/g, ' '));
  console.log('pill:', await page.getByTestId('blend-pill').textContent());
  console.log('note:', await page.getByTestId('blend-note').textContent());
  if (shot) await page.screenshot({ path: shot });
  const rss = Number((await import('node:fs')).readFileSync(`/proc/${server.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)![1]) / 1024;
  console.log('server peak RSS MB (serve process only)', rss.toFixed(0));
} finally {
  await browser.close();
  server.kill('SIGINT');
}
