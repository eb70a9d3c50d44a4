// `tilt serve`: the engine behind a local HTTP + WebSocket server that also serves the built
// renderer. Every API request and socket needs the random token printed at start (Authorization
// header or ?token=), Host must name this server (DNS rebinding) and Origin, when sent, must be
// this server. The token never travels in a cookie: browsers send 127.0.0.1's cookies to every
// port, so any other local server would receive it. The renderer's static files carry no data and
// load without it. Nothing a client sends may take the server down: a request or frame that cannot
// be parsed is answered 400 or its socket closed.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { basename, extname, join, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { Engine, type EngineConfig } from '../core/engine/host';
import { BUILTIN_MODELS_DIR, engineDirs } from '../core/engine/paths';
import { EngineError } from '../core/engine/errors';
import { createDispatcher } from '../app/dispatch';
import { AUDIO_FORMATS, DESKTOP_ONLY, isChannel, type EngineEvent, type ExportResult, type EventMap, type JobsSnapshot, type RecentResult, type ResultOf, type StemDrag } from '../app/contract';
import { BadRequest, validateStemFile } from '../app/validate';
import { webCsp } from '../app/csp';
import { zipFolder } from '../core/io/zip';

export interface ServeOptions {
  port?: number;
  host?: string;
  /** Fixed token (tests); random otherwise. */
  token?: string;
  /** The built renderer (vite build output). */
  rendererDir?: string;
  /** Overrides of the engine's folders (tests use temporary ones). */
  engine?: Partial<EngineConfig>;
  /** Largest upload accepted, bytes. */
  maxUploadBytes?: number;
  /**
   * Host names (or addresses) besides the loopback ones and the address listened on under which
   * browsers may reach the server, e.g. this machine's LAN name when listening on 0.0.0.0.
   */
  allowedHosts?: string[];
}

export interface RunningServer {
  url: string;
  /** The URL to open in a browser: carries the token once; the page then keeps it in session storage. */
  openUrl: string;
  token: string;
  port: number;
  host: string;
  /** The host names a request may name (Host header): anything else is refused (DNS rebinding). */
  hosts: string[];
  engine: Engine;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 7788;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_RENDERER_DIR = join(ROOT, 'dist', 'renderer');
/** The app's version, as the desktop app reports it (Electron reads the same package.json). */
const { version: VERSION } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const MAX_JSON = 1 << 20;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
  '.woff2': 'font/woff2', '.wav': 'audio/wav', '.flac': 'audio/flac',
};

const LOOPBACK = ['127.0.0.1', 'localhost', '::1', '[::1]'];
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The request target as a URL on this server; null for anything but an origin-form path ("*", "http://…", junk). */
function targetOf(req: IncomingMessage): URL | null {
  const target = req.url ?? '';
  if (!target.startsWith('/')) return null;
  try {
    return new URL(`http://local${target}`);
  } catch {
    return null;
  }
}

/** Path segments, percent-decoded; null when one is not valid percent-encoded UTF-8. */
function segmentsOf(url: URL): string[] | null {
  try {
    return url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return null;
  }
}

export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const rendererDir = resolve(opts.rendererDir ?? DEFAULT_RENDERER_DIR);
  const maxUpload = opts.maxUploadBytes ?? 4 * 1024 ** 3;
  const engine = new Engine({ ...engineDirs(), builtinModelsDirs: [BUILTIN_MODELS_DIR], ...opts.engine });
  const dispatch = createDispatcher(engine, {
    kind: 'web',
    version: VERSION,
  });
  /** Exported files the browser may download: id -> path; `zip`: a folder, sent zipped. */
  const downloads = new Map<string, { path: string; name: string; zip?: true }>();
  /** An exported file's download id, by path: the same file keeps its link in every reply and event. */
  const downloadIds = new Map<string, string>();
  let port = opts.port ?? DEFAULT_PORT;
  // Listening beyond loopback does not lift the DNS-rebinding check: only names the user gave pass.
  const hostNames = new Set([
    ...LOOPBACK,
    ...(WILDCARD.has(host) ? [] : [host.includes(':') ? `[${host}]` : host]),
    ...(opts.allowedHosts ?? []),
  ].map((n) => n.toLowerCase()));

  function hostOk(req: IncomingMessage): boolean {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(req.headers.host ?? '');
    return !!m && hostNames.has(m[1]!.toLowerCase()) && Number(m[2] ?? 80) === port;
  }

  function originOk(req: IncomingMessage): boolean {
    const o = req.headers.origin;
    return o === undefined || o === `http://${req.headers.host}`;
  }

  function tokenOk(req: IncomingMessage, url: URL): boolean {
    const auth = req.headers.authorization;
    const t = auth?.startsWith('Bearer ') ? auth.slice(7) : url.searchParams.get('token');
    return !!t && safeEqual(t, token);
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(text);
  }

  function fail(res: ServerResponse, status: number, message: string, code: string): void {
    send(res, status, { ok: false, error: { message, code } });
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_JSON) throw new Error('request body too large');
      chunks.push(c as Buffer);
    }
    return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
  }

  async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, extra: Record<string, string> = {}): Promise<void> {
    const st = await stat(path).catch(() => null);
    if (!st?.isFile()) return fail(res, 404, 'not found', 'not-found');
    const type = TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    const base = { 'content-type': type, 'accept-ranges': 'bytes', 'x-content-type-options': 'nosniff', ...extra };
    if (range && (range[1] || range[2])) {
      const start = range[1] ? Number(range[1]) : Math.max(0, st.size - Number(range[2]));
      const end = range[1] && range[2] ? Math.min(Number(range[2]), st.size - 1) : st.size - 1;
      if (start > end || start >= st.size) {
        res.writeHead(416, { 'content-range': `bytes */${st.size}` });
        return void res.end();
      }
      res.writeHead(206, { ...base, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${st.size}` });
      await pipeline(createReadStream(path, { start, end }), res);
      return;
    }
    res.writeHead(200, { ...base, 'content-length': String(st.size) });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(createReadStream(path), res);
  }

  async function serveRenderer(req: IncomingMessage, res: ServerResponse, parts: string[]): Promise<void> {
    const rel = parts.join('/');
    let path = resolve(rendererDir, rel || 'index.html');
    if (path !== rendererDir && !path.startsWith(rendererDir + sep)) return fail(res, 404, 'not found', 'not-found');
    const st = await stat(path).catch(() => null);
    if (!st?.isFile()) path = join(rendererDir, 'index.html');
    const isHtml = path.endsWith('.html');
    if (isHtml) {
      const html = await readFile(path, 'utf8').catch(() => null);
      if (html === null) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end(`The Tilt UI is not built. Run \`npm run build:renderer\` and reload.\n(looked in ${rendererDir})\n`);
      }
      const headers: Record<string, string> = {
        'content-type': TYPES['.html']!, 'cache-control': 'no-store', 'content-security-policy': webCsp(`ws://${req.headers.host}`),
        'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY',
      };
      res.writeHead(200, headers);
      return void res.end(html);
    }
    await sendFile(req, res, path, { 'cache-control': 'no-cache' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostOk(req)) return fail(res, 421, 'Host header does not name this server', 'bad-host');
    if (!originOk(req)) return fail(res, 403, 'Cross-origin requests are refused', 'bad-origin');
    const url = targetOf(req);
    const parts = url && segmentsOf(url);
    if (!url || !parts) return fail(res, 400, 'The request path is not a valid URL path', 'bad-request');
    if (parts[0] !== 'api') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'method not allowed', 'bad-request');
      return serveRenderer(req, res, parts);
    }
    if (!tokenOk(req, url)) {
      return fail(res, 401, 'Missing or wrong token: open the URL that `tilt serve` printed', 'unauthorized');
    }
    const [, route, a, b] = parts;
    if (route === 'invoke' && req.method === 'POST' && a) {
      if (!isChannel(a)) return fail(res, 404, `Unknown channel ${a}`, 'not-found');
      if (DESKTOP_ONLY.includes(a)) return fail(res, 501, 'Only the desktop app can open native dialogs', 'unsupported');
      let args: unknown;
      try {
        args = await readJson(req);
      } catch (e) {
        return fail(res, 400, `Invalid request body: ${(e as Error).message}`, 'bad-request');
      }
      const reply = await dispatch(a, args);
      if (reply.ok && a === 'separate:export' && reply.value) addDownloadUrls(reply.value as ExportResult);
      if (reply.ok && a === 'models:export' && reply.value) addFolderDownload(reply.value as ResultOf<'models:export'> & object);
      if (reply.ok && a === 'jobs:list') for (const x of (reply.value as JobsSnapshot).exported) addDownloadUrls(x);
      if (reply.ok && a === 'files:recent') for (const r of reply.value as RecentResult[]) for (const x of r.exports) addDownloadUrls({ files: x.files.filter((f) => f.present) });
      return send(res, 200, reply);
    }
    if (route === 'upload' && req.method === 'POST') {
      const name = url.searchParams.get('name') ?? '';
      if (!name || name.length > 255) return fail(res, 400, 'upload needs ?name=<file name>', 'bad-request');
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (!(declared >= 0)) return fail(res, 411, 'upload needs a Content-Length', 'bad-request');
      if (declared > maxUpload) return fail(res, 413, `${name} is larger than the ${Math.round(maxUpload / 1024 ** 2)} MB upload limit`, 'too-large');
      let upload: Awaited<ReturnType<Engine['createUpload']>>;
      try {
        upload = await engine.createUpload(name);
      } catch (e) {
        if (e instanceof EngineError && e.code === 'bad-input') return fail(res, 400, e.message, 'bad-request');
        throw e;
      }
      const { ref, path } = upload;
      try {
        await pipeline(req, createWriteStream(path));
      } catch (e) {
        await engine.dropUpload(ref.id);
        // The client went away mid-upload: nobody is left to answer.
        if (req.destroyed) return void res.destroy();
        throw e;
      }
      return send(res, 200, { ok: true, value: ref });
    }
    if (route === 'media' && (req.method === 'GET' || req.method === 'HEAD') && a && b) {
      const file = engine.trackFile(a, b.replace(/\.wav$/, ''));
      if (!file) return fail(res, 404, 'No such track (the result may have been discarded)', 'not-found');
      return sendFile(req, res, file, { 'cache-control': 'no-store' });
    }
    // A stem in an export format, written when this session has not written it yet: the stem rows' download handles.
    if (route === 'stem' && req.method === 'GET' && a && b) {
      let want: StemDrag;
      try {
        const query = (name: string) => url.searchParams.get(name) ?? undefined;
        want = validateStemFile({ resultId: a, stem: b, format: query('format'), rate: query('rate') }, 'stem download');
      } catch (e) {
        if (!(e instanceof BadRequest)) throw e;
        return fail(res, 400, `Invalid request: ${e.message}. A stem download is /api/stem/<result id>/<stem name>?format=<${AUDIO_FORMATS.join('|')}>&rate=<input|model>`, 'bad-request');
      }
      let file: Awaited<ReturnType<Engine['stemFile']>>;
      try {
        file = await engine.stemFile(want.resultId, want.stem, want.format, want.rate);
      } catch (e) {
        if (e instanceof EngineError) return fail(res, e.code === 'not-found' ? 404 : e.code === 'busy' ? 409 : 400, e.message, e.code);
        throw e;
      }
      return sendFile(req, res, file.path, { 'content-disposition': `attachment; filename="${file.fileName.replace(/["\\\r\n]/g, '_')}"`, 'cache-control': 'no-store' });
    }
    if (route === 'download' && req.method === 'GET' && a) {
      const d = downloads.get(a);
      if (!d) return fail(res, 404, 'No such export', 'not-found');
      const disposition = `attachment; filename="${d.name.replace(/["\\\r\n]/g, '_')}"`;
      if (d.zip) {
        const body = await zipFolder(d.path, basename(d.path));
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(body.length), 'content-disposition': disposition, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
        return void res.end(body);
      }
      return sendFile(req, res, d.path, { 'content-disposition': disposition, 'cache-control': 'no-store' });
    }
    return fail(res, 404, 'not found', 'not-found');
  }

  /** A model folder the export wrote: downloaded as `<folder>.zip`. */
  function addFolderDownload(r: { dir: string; url?: string }): void {
    const id = randomUUID();
    downloads.set(id, { path: r.dir, name: `${basename(r.dir)}.zip`, zip: true });
    r.url = `/api/download/${id}`;
  }

  /** Gives each exported file its download link (the same one for the same file every time). */
  function addDownloadUrls(r: { files: { path: string; fileName: string; url?: string }[] }): void {
    for (const f of r.files) {
      let id = downloadIds.get(f.path);
      if (!id) {
        id = randomUUID();
        downloadIds.set(f.path, id);
        downloads.set(id, { path: f.path, name: f.fileName });
      }
      f.url = `/api/download/${id}`;
    }
  }

  /** An event as the browser gets it: a finished export's files with their download links. */
  function forBrowser(e: EngineEvent): EngineEvent {
    if (e.type !== 'export-done') return e;
    const result = structuredClone(e.result);
    addDownloadUrls(result);
    return { ...e, result };
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // The details (paths of this machine among them) go to the server's log, not to the client.
      console.error(`tilt serve: ${req.method} ${req.url}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      if (!res.headersSent) fail(res, 500, 'Internal error (details are in the server log)', 'internal');
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  // A frame ws refuses (unmasked, too large, bad opcode or UTF-8) is an 'error' on that socket:
  // without a listener it would be thrown and end the process.
  wss.on('connection', (ws: WebSocket) => ws.on('error', () => ws.terminate()));
  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = targetOf(req);
    const status = !url ? 400 : !hostOk(req) ? 421 : !originOk(req) ? 403 : !tokenOk(req, url) ? 401 : url.pathname !== '/api/events' ? 404 : 0;
    if (status) {
      socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  }
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      upgrade(req, socket, head);
    } catch (e) {
      console.error(`tilt serve: upgrade ${req.url}: ${e instanceof Error ? e.message : String(e)}`);
      socket.destroy();
    }
  });
  const broadcast = <E extends keyof EventMap>(event: E, payload: EventMap[E]) => {
    const text = JSON.stringify({ event, payload });
    for (const ws of wss.clients as Set<WebSocket>) if (ws.readyState === ws.OPEN) ws.send(text);
  };
  const unsubscribe = engine.on((e) => broadcast('engine:event', forBrowser(e)));

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolvePromise());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const base = `http://${shownHost}:${port}`;

  return {
    url: base,
    openUrl: `${base}/?token=${token}`,
    token,
    port,
    host,
    hosts: [...hostNames],
    engine,
    async close() {
      unsubscribe();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await engine.close();
    },
  };
}
