// Raw HTTP requests and WebSocket frames as an attacker would send them: no client library in the
// way, so request targets, headers and frames can be anything. Loopback only.
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

/** Sends `bytes` to 127.0.0.1:port and returns what comes back until the server closes (or `ms` pass). */
export function rawRequest(port: number, bytes: string | Buffer, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', done);
    socket.on('close', done);
    socket.write(bytes);
  });
}

/** The status code of a raw response, 0 when there was none. */
export function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

/** A GET request line and headers (Connection: close) for `target`, with `headers` added as given. */
export function get(port: number, target: string, headers: Record<string, string> = {}): string {
  const all = { host: `127.0.0.1:${port}`, connection: 'close', ...headers };
  return `GET ${target} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** An upgrade request to `target` with a fresh key; `headers` override the defaults. */
export function upgradeRequest(port: number, target: string, headers: Record<string, string> = {}): string {
  return get(port, target, {
    connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), ...headers,
  });
}

/** A socket on which the WebSocket handshake to /api/events succeeded. */
export function openEventSocket(port: number, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (statusOf(head) === 101) resolve(socket);
      else reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(upgradeRequest(port, `/api/events?token=${token}`));
  });
}

export interface FrameOptions {
  opcode?: number;
  fin?: boolean;
  /** RSV1-3 bits (extensions nobody negotiated). */
  rsv?: number;
  masked?: boolean;
  /** A declared payload length other than the payload's (lies, or huge sizes). */
  declaredLength?: number;
}

/** One WebSocket frame; clients must mask, so `masked: false` is itself a protocol error. */
export function frame(payload: Buffer, o: FrameOptions = {}): Buffer {
  const length = o.declaredLength ?? payload.length;
  const masked = o.masked ?? true;
  const head = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (o.opcode ?? 0x1)];
  const maskBit = masked ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(length);
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(length));
  }
  if (!masked) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

/** Frames a server must refuse: each one breaks the protocol in a different way. */
export function badFrames(): { name: string; bytes: Buffer }[] {
  return [
    { name: 'unmasked', bytes: frame(Buffer.from('hello'), { masked: false }) },
    { name: 'over 64 KB', bytes: frame(randomBytes(70 * 1024), { opcode: 0x2 }) },
    { name: 'declares 2^40 bytes', bytes: frame(Buffer.from('x'), { declaredLength: 2 ** 40 }) },
    { name: 'reserved opcode 0x3', bytes: frame(Buffer.from('x'), { opcode: 0x3 }) },
    { name: 'reserved control opcode 0xB', bytes: frame(Buffer.from('x'), { opcode: 0xb }) },
    { name: 'RSV bits without an extension', bytes: frame(Buffer.from('x'), { rsv: 0b111 }) },
    { name: 'invalid UTF-8 text', bytes: frame(Buffer.from([0xe0, 0xa4, 0x41])) },
    { name: 'fragmented ping', bytes: frame(Buffer.from('p'), { opcode: 0x9, fin: false }) },
    { name: 'ping over 125 bytes', bytes: frame(Buffer.alloc(200), { opcode: 0x9 }) },
    { name: 'continuation with nothing to continue', bytes: frame(Buffer.from('x'), { opcode: 0x0 }) },
    { name: 'close with code 999', bytes: frame(Buffer.from([0x03, 0xe7]), { opcode: 0x8 }) },
    { name: 'close with a one-byte body', bytes: frame(Buffer.from([0x03]), { opcode: 0x8 }) },
  ];
}

/** Writes `bytes` on an open event socket and resolves once the server has closed it (or `ms` pass). */
export function sendAndWaitClose(socket: Socket, bytes: Buffer, ms = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, ms);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.write(bytes);
  });
}

/**
 * Exceptions nobody caught, from `start()` until `stop()`. The test runner survives them; `tilt serve`
 * would have ended, so a hostile client must leave this empty.
 */
export function uncaughtExceptions(): { seen: unknown[]; start(): void; stop(): void } {
  const seen: unknown[] = [];
  const record = (e: unknown) => seen.push(e);
  return { seen, start: () => process.on('uncaughtException', record), stop: () => process.off('uncaughtException', record) };
}
