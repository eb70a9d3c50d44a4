// Soak: a few hundred hostile HTTP requests and WebSocket frames, mixed and partly concurrent, at a
// running `tilt serve` server; afterwards it must still separate a real recording. Bounded: a fixed
// number of requests, each with a timeout, loopback only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../server/server';
import { CHANNELS } from '../../app/contract';
import type { EngineEvent } from '../../app/contract';
import { seededRandom } from '../../core/models/init';
import { saveTinyModel, wavInfo } from '../e2e/fixtures';
import { ensureTestAudio, pkgFile } from '../fixtures/test-audio';
import { badFrames, frame, get, openEventSocket, rawRequest, sendAndWaitClose, statusOf, uncaughtExceptions, upgradeRequest } from './hostile';

const TOKEN = 'soak-token';
const SPEECH = () => pkgFile('asterisk-core-sounds-en-wav', 'usr/share/asterisk/sounds/en_US_f_Allison/activated.wav');
let server: RunningServer;
let root: string;
const uncaught = uncaughtExceptions();

before(async () => {
  uncaught.start();
  await ensureTestAudio();
  root = await mkdtemp(join(tmpdir(), 'tilt-soak-'));
  await saveTinyModel(join(root, 'models', 'tiny'), 'Tiny');
  await mkdir(join(root, 'renderer'));
  await writeFile(join(root, 'renderer', 'index.html'), '<!doctype html><title>Tilt</title>');
  server = await startServer({
    port: 0, token: TOKEN, rendererDir: join(root, 'renderer'), maxUploadBytes: 1 << 20,
    engine: { modelsDir: join(root, 'models'), settingsFile: join(root, 'settings.json'), workDir: join(root, 'work'), exportDir: join(root, 'exports'), builtinModelsDirs: [] },
  });
});

after(async () => {
  uncaught.stop();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** One hostile HTTP exchange; resolves to the status (0: the server closed without answering). */
type Attack = () => Promise<number>;

function attacks(port: number, r: () => number): Attack[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const send = (bytes: string | Buffer, ms?: number) => async () => statusOf(await rawRequest(port, bytes, ms));
  const auth = { authorization: `Bearer ${TOKEN}` };
  const targets = ['//[', '/%E0%A4%A', '/%', '/%00', '/..%2f..%2fetc%2fpasswd', '/api/%ff', '/api/invoke/%E0%A4%A', '/api/media/%2e%2e/x.wav', `/${'a'.repeat(8000)}`, '/api/download/../../x', '/?token=%zz'];
  const junkJson = ['{', 'null', '[]', '"x"', '{"input":{"kind":"path","path":"/etc/passwd"}}', '{"__proto__":{"x":1}}', JSON.stringify({ a: 'x'.repeat(2 << 20) })];
  const post = (target: string, body: string, headers: Record<string, string> = auth) => send(
    `POST ${target} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`,
  );
  const kinds: (() => Attack)[] = [
    () => send(get(port, pick(targets), r() < 0.5 ? auth : {})),
    () => send(get(port, '/api/invoke/models:list', { ...auth, cookie: pick(['junk=%E0%A4%A', '=', ';;;', 'a=%', `tilt_token_${port}=%E0`]) })),
    () => send(get(port, '/api/media/x/y.wav', { ...auth, host: pick(['evil.example', `evil.example:${port}`, '[::1', ':::', `127.0.0.1:${port}0`]) })),
    () => send(get(port, '/api/media/x/y.wav', { ...auth, origin: pick(['null', 'https://evil.example', 'http://127.0.0.1:1']) })),
    () => send(get(port, '/api/invoke/models:list', { authorization: pick(['Bearer ', 'Bearer \u00ff\u00fe', 'Basic xx', `Bearer ${TOKEN}x`, 'Bearer'.repeat(2000)]) })),
    () => post(`/api/invoke/${pick(CHANNELS)}`, pick(junkJson)),
    () => post(`/api/invoke/${pick(['fs:read', '__proto__', 'constructor', '..%2f', 'separate:start%00'])}`, '{}'),
    () => send(`POST /api/upload?name=${pick(['.', '..', '%2e%2e', '', 'a'.repeat(300), 'x.wav'])} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${TOKEN}\r\ncontent-length: ${pick(['4', '-1', 'abc', String(2 << 20), '99999999999999999999'])}\r\nconnection: close\r\n\r\nRIFF`, 1500),
    // A body shorter than it declares, then the client goes away.
    () => send(`POST /api/upload?name=x.wav HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${TOKEN}\r\ncontent-length: 1000\r\n\r\nRIFF`, 300),
    () => send(`POST /api/invoke/models:list HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${TOKEN}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n`, 500),
    () => send(get(port, '/api/download/x', { ...auth, range: pick(['bytes=-0', 'bytes=99999999999999999999-', 'bytes=5-1', 'bytes=--', 'items=0-1']) })),
    () => send(Buffer.from(Array.from({ length: 64 + Math.floor(r() * 512) }, () => Math.floor(r() * 256)))),
    () => send(`GET / HTTP/1.1\r\n${'x-junk: y\r\n'.repeat(2000)}\r\n`),
    () => send(upgradeRequest(port, pick(['/api/events', '//[', '/api/events?token=%E0', `/api/events?token=${TOKEN}x`, '*']), { cookie: 'junk=%E0%A4%A' })),
    () => send(upgradeRequest(port, `/api/events?token=${TOKEN}`, { 'sec-websocket-version': pick(['1', 'x', '']), 'sec-websocket-key': pick(['', 'short', '!!!']) })),
  ];
  return Array.from({ length: 240 }, () => pick(kinds)());
}

/** Opens authenticated event sockets and breaks the protocol on each (or hangs up mid-frame). */
async function frameAttacks(port: number, r: () => number, count: number): Promise<number> {
  const frames = badFrames();
  let closed = 0;
  for (let i = 0; i < count; i++) {
    const socket = await openEventSocket(port, TOKEN);
    if (r() < 0.25) {
      // Valid frames the server has no use for, then half a frame and gone.
      socket.write(frame(Buffer.from('{"event":"engine:event"}')));
      socket.write(frame(Buffer.from('ping'), { opcode: 0x9 }));
      socket.write(frame(Buffer.alloc(1000)).subarray(0, 300));
      socket.destroy();
      closed++;
      continue;
    }
    if (await sendAndWaitClose(socket, frames[Math.floor(r() * frames.length)]!.bytes)) closed++;
  }
  return closed;
}

function call(channel: string, args: unknown): Promise<{ ok: boolean; value?: unknown; error?: { message: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: `/api/invoke/${channel}`, method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body)));
    });
    req.on('error', reject);
    req.end(JSON.stringify(args));
  });
}

test('after a few hundred hostile requests and frames the server still separates a real recording', { timeout: 60_000 }, async () => {
  const r = seededRandom(42);
  const statuses: number[] = [];
  const queue = attacks(server.port, r);
  // Eight at a time: concurrent, like a page firing requests, without flooding a 2-core machine.
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let a = queue.shift(); a; a = queue.shift()) statuses.push(await a());
  }));
  assert.equal(statuses.length, 240);
  assert.deepEqual(statuses.filter((s) => s === 500), [], 'no request makes the server fail');
  assert.equal(await frameAttacks(server.port, r, 80), 80, 'every socket that broke the protocol was closed');
  assert.deepEqual(uncaught.seen, [], 'nothing went uncaught');

  // And now the real work, end to end: upload, separate, stream a stem.
  const wav = await readFile(SPEECH());
  const ref = await new Promise<{ kind: 'upload'; id: string; name: string }>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: server.port, path: '/api/upload?name=activated.wav', method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-length': String(wav.length) },
    }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body).value));
    });
    req.on('error', reject);
    req.end(wav);
  });
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${TOKEN}`);
  await new Promise((resolve) => ws.once('open', resolve));
  const done = new Promise<EngineEvent>((resolve) => ws.on('message', (m) => {
    const { payload } = JSON.parse(String(m)) as { payload: EngineEvent };
    if (payload.type === 'separate-done' || payload.type === 'job-failed') resolve(payload);
  }));
  const started = await call('separate:start', { input: ref });
  assert.ok(started.ok, started.error?.message);
  const event = await done;
  ws.close();
  assert.equal(event.type, 'separate-done', JSON.stringify(event));
  if (event.type !== 'separate-done') return;
  assert.deepEqual(event.result.tracks.map((t) => t.id), ['mixture', 'speech', 'env']);
  const stem = await new Promise<Buffer>((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.port, path: `/api/media/${event.result.resultId}/speech.wav?token=${TOKEN}` }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    }).on('error', reject).end();
  });
  const info = wavInfo(stem);
  assert.equal(info.sampleRate, 8000);
  assert.ok(Math.abs(info.frames / 8000 - event.result.durationSec) < 0.01);
});
