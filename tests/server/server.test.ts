// Serve mode's gatekeeping and wire protocol, over real HTTP and WebSocket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../server/server';
import { badFrames, get, openEventSocket, rawRequest, sendAndWaitClose, statusOf, uncaughtExceptions, upgradeRequest } from './hostile';

let server: RunningServer;
let root: string;
const uncaught = uncaughtExceptions();

before(async () => {
  uncaught.start();
  root = await mkdtemp(join(tmpdir(), 'tilt-server-'));
  const rendererDir = join(root, 'renderer');
  await mkdir(rendererDir);
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Tilt</title>');
  await writeFile(join(root, 'secret.txt'), 'outside the renderer');
  server = await startServer({
    port: 0,
    token: 'test-token-123',
    rendererDir,
    engine: { modelsDir: join(root, 'models'), settingsFile: join(root, 'settings.json'), workDir: join(root, 'work'), exportDir: join(root, 'exports'), builtinModelsDirs: [] },
  });
});

after(async () => {
  uncaught.stop();
  await server.close();
  await rm(root, { recursive: true, force: true });
});

/** Raw HTTP so that Host and Origin can be set as an attacker would. */
function http(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const auth = { authorization: 'Bearer test-token-123' };

test('every API route needs the token: 401 without it or with a wrong one; the app shell itself holds no data', async () => {
  for (const path of ['/api/media/x/y.wav', '/api/download/x', '/api/stem/x/speech?format=wav16&rate=input', '/api/invoke/models:list']) {
    assert.equal((await http(path)).status, 401, path);
  }
  assert.equal((await http('/')).status, 200);
  const wrong = await http('/api/invoke/models:list', { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{}' });
  assert.equal(wrong.status, 401);
  assert.equal(JSON.parse(wrong.body).error.code, 'unauthorized');
});

test('app:info reports the version in package.json, as the desktop app does', async () => {
  const r = await http('/api/invoke/app:info', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  const pkg = JSON.parse(await readFile(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
  assert.deepEqual({ status: r.status, version: JSON.parse(r.body).value.version, shell: JSON.parse(r.body).value.shell }, { status: 200, version: pkg.version, shell: 'web' });
});

test('the app is served with a strict CSP; the token never rides in a cookie, which 127.0.0.1 would send to every port', async () => {
  const r = await http('/?token=test-token-123');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-security-policy']), /script-src 'self'(;|$)/);
  assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
  assert.equal(r.headers['set-cookie'], undefined);
  const withCookie = await http('/api/invoke/models:list', { method: 'POST', headers: { cookie: `tilt_token_${server.port}=test-token-123` }, body: '{}' });
  assert.equal(withCookie.status, 401);
  const withQuery = await http('/api/invoke/models:list?token=test-token-123', { method: 'POST', body: '{}' });
  assert.deepEqual(JSON.parse(withQuery.body), { ok: true, value: [] });
});

test('DNS rebinding and cross-site requests are refused even with the token', async () => {
  const rebinding = await http('/api/invoke/models:list', { method: 'POST', headers: { ...auth, host: `evil.example:${server.port}` }, body: '{}' });
  assert.equal(rebinding.status, 421);
  const crossSite = await http('/api/invoke/models:list', { method: 'POST', headers: { ...auth, origin: 'https://evil.example' }, body: '{}' });
  assert.equal(crossSite.status, 403);
  const sameOrigin = await http('/api/invoke/models:list', { method: 'POST', headers: { ...auth, origin: `http://127.0.0.1:${server.port}` }, body: '{}' });
  assert.equal(sameOrigin.status, 200);
});

test('static files cannot escape the renderer folder', async () => {
  const r = await http('/../secret.txt', { headers: auth });
  assert.doesNotMatch(r.body, /outside the renderer/);
  const encoded = await http('/%2e%2e/secret.txt', { headers: auth });
  assert.doesNotMatch(encoded.body, /outside the renderer/);
});

test('invalid arguments get a readable error naming the field; unknown channels 404; dialogs are desktop-only', async () => {
  const call = async (channel: string, body: unknown) => {
    const r = await http(`/api/invoke/${channel}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: JSON.parse(r.body) as { ok: boolean; error?: { message: string; code: string } } };
  };
  const bad = await call('separate:export', { resultId: 'x', stems: [], format: 'mp4', rate: 'model' });
  assert.equal(bad.body.ok, false);
  assert.equal(bad.body.error!.code, 'bad-request');
  // Every bad field at once, as the config and the desktop shell name them (one schema, app/validate.ts).
  assert.match(bad.body.error!.message, /^Invalid request: resultId is not a valid id \(got "x"\); format must be one of "wav16", "wav24", "wav32f", "flac" \(got "mp4"\)$/);
  const badTerm = await call('train:preview-weights', { reweighting: [{ robust: { alpha: 'high' } }], step: 0, totalSteps: 10 });
  assert.match(badTerm.body.error!.message, /robust\.alpha/);
  const extra = await call('models:list', { sneaky: true });
  assert.match(extra.body.error!.message, /sneaky is not a known field/);
  assert.equal((await call('fs:read', {})).status, 404);
  assert.equal((await call('dialog:open-audio', {})).status, 501);
  const missing = await call('separate:start', { input: { kind: 'path', path: join(root, 'nope.wav') } });
  assert.match(missing.body.error!.message, /nope\.wav: file not found/);
});

test('the weights preview is the reweighter applied to the sample batch: uniform gives 1/8 each', async () => {
  const r = await http('/api/invoke/train:preview-weights', { method: 'POST', headers: auth, body: JSON.stringify({ reweighting: [], step: 0, totalSteps: 100 }) });
  const v = JSON.parse(r.body).value as { examples: { weight: number }[]; diagnostics: { effectiveBatchSize: number; entropy: number } };
  assert.equal(v.examples.length, 8);
  for (const e of v.examples) assert.ok(Math.abs(e.weight - 1 / 8) < 1e-12);
  assert.ok(Math.abs(v.diagnostics.effectiveBatchSize - 8) < 1e-9);
  assert.ok(Math.abs(v.diagnostics.entropy - Math.log(8)) < 1e-9);
});

test('train:start reaches the trainer: an unknown base model is a readable not-found error', async () => {
  const r = await http('/api/invoke/train:start', {
    method: 'POST', headers: auth,
    body: JSON.stringify({ name: 'x', baseModelId: 'm', data: { kind: 'corpus' }, reweighting: [], steps: 10, batchSize: 2, segmentSec: 1, lr: 0.001, seed: 0, validateEvery: 5 }),
  });
  const body = JSON.parse(r.body) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(body.ok, false);
  assert.equal(body.error.code, 'not-found');
  assert.match(body.error.message, /No model named "m"/);
});

test('the event socket needs the token and a same-origin Origin', async () => {
  const open = (url: string, headers: Record<string, string> = {}) => new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
    ws.on('error', () => undefined);
  });
  const base = `ws://127.0.0.1:${server.port}/api/events`;
  assert.equal(await open(base), 401);
  assert.equal(await open(`${base}?token=test-token-123`, { origin: 'https://evil.example' }), 403);
  assert.equal(await open(`${base}?token=test-token-123`, { origin: `http://127.0.0.1:${server.port}` }), 101);
});

/** Nothing went uncaught (it would have ended the server process), and the server still answers. */
async function stillServes(): Promise<void> {
  assert.deepEqual(uncaught.seen, []);
  const r = await http('/api/invoke/models:list', { method: 'POST', headers: auth, body: '{}' });
  assert.deepEqual(JSON.parse(r.body), { ok: true, value: [] });
}

test('a WebSocket upgrade with a malformed cookie or request target is refused, and the server goes on', async () => {
  const port = server.port;
  // Any local page can plant such a cookie: browsers share 127.0.0.1's cookies across ports.
  assert.equal(statusOf(await rawRequest(port, upgradeRequest(port, '/api/events', { cookie: 'junk=%E0%A4%A' }))), 401);
  for (const target of ['//[', '//[?token=test-token-123', '/%E0%A4%A?token=test-token-123', 'http://evil.example/api/events', '*']) {
    const status = statusOf(await rawRequest(port, upgradeRequest(port, target)));
    assert.ok(status >= 400 && status < 500, `${target}: ${status}`);
  }
  await stillServes();
  // The malformed cookie does not stand in the way of a socket that has the token.
  const opened = await new Promise<boolean>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/events?token=test-token-123`, { headers: { cookie: 'junk=%E0%A4%A' } });
    ws.on('open', () => { ws.close(); resolve(true); });
    ws.on('error', () => resolve(false));
  });
  assert.ok(opened);
});

test('a bad frame on an authenticated socket closes that socket, not the server', async () => {
  for (const { name, bytes } of badFrames()) {
    const socket = await openEventSocket(server.port, 'test-token-123');
    assert.ok(await sendAndWaitClose(socket, bytes), `${name}: the server closes the socket`);
    await stillServes();
  }
});

test('malformed paths, cookies and upload names are 400s that reveal no path of the server', async () => {
  assert.equal((await http('/%E0%A4%A', { headers: auth })).status, 400);
  assert.equal((await http('/api/media/%E0%A4%A/x.wav', { headers: auth })).status, 400);
  assert.notEqual(statusOf(await rawRequest(server.port, get(server.port, '//[', auth))), 500);
  assert.equal(statusOf(await rawRequest(server.port, get(server.port, '*', auth))), 400);
  const cookie = `junk=%E0%A4%A; tilt_token_${server.port}=test-token-123`;
  const withJunkCookie = await http('/api/invoke/models:list', { method: 'POST', headers: { ...auth, cookie }, body: '{}' });
  assert.equal(withJunkCookie.status, 200);
  for (const name of ['.', '..', '...', ' ', '/..']) {
    const r = await http(`/api/upload?name=${encodeURIComponent(name)}`, { method: 'POST', headers: { ...auth, 'content-length': '4' }, body: 'RIFF' });
    assert.equal(r.status, 400, `upload named "${name}"`);
    assert.equal(JSON.parse(r.body).error.code, 'bad-request');
    assert.ok(!r.body.includes(root), `upload named "${name}" reveals a path: ${r.body}`);
  }
  await stillServes();
});

test('a stem download names a stem, a format and a rate; one of a result the engine does not hold is a 404', async () => {
  const id = '123e4567-e89b-42d3-a456-426614174000';
  // Held to separate:export's and the desktop drag's schema (app/validate.ts, STEM_FILE): every bad field named.
  const bad: [string, RegExp][] = [
    [`/api/stem/${id}/speech`, /^Invalid request: format must be one of "wav16", "wav24", "wav32f", "flac" \(got nothing\); rate must be one of "model", "input" \(got nothing\)\. /],
    [`/api/stem/${id}/speech?format=mp3&rate=input`, /^Invalid request: format must be one of .* \(got "mp3"\)\. /],
    [`/api/stem/${id}/speech?format=wav16&rate=fast`, /^Invalid request: rate must be one of "model", "input" \(got "fast"\)\. /],
    [`/api/stem/${id}/..%2Fsecret?format=wav16&rate=input`, /^Invalid request: stem is not a valid stem name \(got "\.\.\/secret"\)\. /],
    [`/api/stem/${id}/${'x'.repeat(65)}?format=wav16&rate=input`, /^Invalid request: stem is not a valid stem name/],
    [`/api/stem/not-a-result/speech?format=wav16&rate=input`, /^Invalid request: resultId is not a valid id \(got "not-a-result"\)\. /],
  ];
  for (const [path, message] of bad) {
    const r = await http(path, { headers: auth });
    assert.equal(r.status, 400, path);
    assert.equal(JSON.parse(r.body).error.code, 'bad-request', path);
    assert.match(JSON.parse(r.body).error.message, message, path);
    assert.match(JSON.parse(r.body).error.message, /A stem download is \/api\/stem\/<result id>\/<stem name>\?format=<wav16\|wav24\|wav32f\|flac>&rate=<input\|model>$/, path);
  }
  const gone = await http(`/api/stem/${id}/speech?format=flac&rate=model`, { headers: auth });
  assert.equal(gone.status, 404);
  assert.match(JSON.parse(gone.body).error.message, /no longer available: separate the file again/);
});

test('listening beyond 127.0.0.1 keeps the Host check: only the names the user allowed pass', async () => {
  // 127.0.0.2 is loopback too, but not a name the server knows as such: the --host 0.0.0.0 case.
  const other = await startServer({
    port: 0, host: '127.0.0.2', token: 't', allowedHosts: ['tilt.lan'], rendererDir: join(root, 'renderer'),
    engine: { modelsDir: join(root, 'models2'), settingsFile: join(root, 'settings2.json'), workDir: join(root, 'work2'), exportDir: join(root, 'exports2'), builtinModelsDirs: [] },
  });
  try {
    const status = (host: string) => new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.2', port: other.port, path: '/api/invoke/models:list', method: 'POST', headers: { host: `${host}:${other.port}`, authorization: 'Bearer t' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end('{}');
    });
    assert.equal(await status('evil.example'), 421);
    assert.equal(await status('tilt.lan'), 200);
    assert.equal(await status('127.0.0.2'), 200);
    assert.deepEqual([...other.hosts].sort(), ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', 'tilt.lan'].sort());
  } finally {
    await other.close();
  }
});

test('a model export in serve mode comes with a download of the folder as a zip; exporting again keeps both', async () => {
  const model = join(root, 'models', 'mine');
  await mkdir(model, { recursive: true });
  await writeFile(join(model, 'model.json'), JSON.stringify({ metadata: { name: 'Mine' } }));
  await writeFile(join(model, 'weights.bin'), Buffer.alloc(1000, 7));
  const exportModel = async () => JSON.parse((await http('/api/invoke/models:export', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"id":"mine"}' })).body);
  const first = await exportModel();
  assert.equal(first.value.dir, join(root, 'exports', 'mine'));
  assert.match(first.value.url, /^\/api\/download\/[0-9a-f-]{36}$/);
  assert.equal((await http(first.value.url)).status, 401, 'the download needs the token');
  const zip = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.port, path: first.value.url, headers: auth }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
  assert.equal(zip.headers['content-type'], 'application/zip');
  assert.equal(zip.headers['content-disposition'], 'attachment; filename="mine.zip"');
  assert.equal(zip.body.readUInt32LE(0), 0x04034b50, 'a zip');
  for (const name of ['mine/model.json', 'mine/tilt-model.json', 'mine/weights.bin']) assert.ok(zip.body.includes(name), name);
  assert.equal((await exportModel()).value.dir, join(root, 'exports', 'mine-2'));
});
