// Serve mode: the same Api over HTTP (calls, uploads, media) and a WebSocket (events). The token
// comes in the page URL once and is kept in sessionStorage, which, unlike a cookie, belongs to this
// server's port alone; calls send it in a header, the socket, media and downloads in their URLs.
// It is removed from the address bar so it is not bookmarked.
import type { ArgsOf, Channel, EngineEvent, EventMap, EventName, InputRef, Reply, ResultOf } from '../../../app/contract';
import { type Api, ApiError, type ConnectionState, unwrap } from './api';

type Listener = (payload: never) => void;

const TOKEN_KEY = 'tilt-token';
const UNAUTHORIZED = 'This page\'s access token is not the running server\'s (the server was restarted): open the URL that `tilt serve` printed.';

export function webApi(): Api {
  const listeners = new Map<EventName, Set<Listener>>();
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given !== null) {
    sessionStorage.setItem(TOKEN_KEY, given);
    url.searchParams.delete('token');
    history.replaceState(null, '', url);
  }
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const withToken = (path: string) => `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;

  let state: ConnectionState = 'connecting';
  const watchers = new Set<(s: ConnectionState) => void>();
  function setState(s: ConnectionState): void {
    if (s === state) return;
    state = s;
    for (const w of watchers) w(s);
  }

  // The event socket is the connection: while it is open the engine is reachable. When it closes,
  // a plain request tells a stopped server (offline) from a token it no longer accepts.
  let retry = 500;
  function connect(): void {
    const ws = new WebSocket(withToken(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`));
    ws.onopen = () => {
      retry = 500;
      setState('online');
    };
    ws.onmessage = (m) => {
      const { event, payload } = JSON.parse(String(m.data)) as { event: EventName; payload: never };
      for (const l of listeners.get(event) ?? []) l(payload);
    };
    ws.onclose = async () => {
      const status = await fetch('/api/invoke/app:info', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}', credentials: 'omit' })
        .then((r) => r.status, () => 0);
      // A server restarted with a new token will not take this one again: stop asking.
      if (status === 401) return setState('unauthorized');
      setState('offline');
      retry = Math.min(retry * 2, 4000);
      setTimeout(connect, retry);
    };
  }
  connect();

  function on<E extends EventName>(event: E, l: (p: EventMap[E]) => void): () => void {
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set);
    set.add(l as Listener);
    return () => set.delete(l as Listener);
  }

  async function request<T>(path: string, init: RequestInit): Promise<T> {
    let res: Response;
    try {
      res = await fetch(path, { ...init, headers: { ...init.headers as Record<string, string>, authorization: `Bearer ${token}` }, credentials: 'omit' });
    } catch {
      setState('offline');
      throw new ApiError({ message: 'Cannot reach the Tilt server: is `tilt serve` still running? The page reconnects by itself when it is back.', code: 'offline' });
    }
    if (res.status === 401) {
      setState('unauthorized');
      throw new ApiError({ message: UNAUTHORIZED, code: 'unauthorized' });
    }
    const body = (await res.json().catch(() => null)) as Reply<T> | null;
    if (!body) throw new ApiError({ message: `The server answered ${res.status} ${res.statusText}`, code: 'http' });
    return unwrap(body);
  }

  return {
    shell: 'web',
    call<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>> {
      return request(`/api/invoke/${channel}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
    },
    onProgress: (l: (e: EngineEvent) => void) => on('engine:event', l),
    onOpenFiles: (l) => on('app:open-files', l),
    onNavigate: (l) => on('app:navigate', l),
    onCommand: (l) => on('app:command', l),
    async addFiles(files) {
      const out: { ref: InputRef; name: string }[] = [];
      for (const f of files) {
        const ref = await request<InputRef>(`/api/upload?name=${encodeURIComponent(f.name)}`, { method: 'POST', body: f });
        out.push({ ref, name: f.name });
      }
      return out;
    },
    onConnection(l) {
      watchers.add(l);
      l(state);
      return () => watchers.delete(l);
    },
    downloadHref: (url) => (url ? withToken(url) : null),
    stemHref: (d) => withToken(`/api/stem/${encodeURIComponent(d.resultId)}/${encodeURIComponent(d.stem)}?format=${d.format}&rate=${d.rate}`),
    stemDrag: () => Promise.reject(new ApiError({ message: 'Dragging files out is the desktop app\'s: download the stem instead', code: 'unsupported' })),
    reveal: () => Promise.reject(new ApiError({ message: 'The browser cannot open folders of the server\'s machine: download the files instead', code: 'unsupported' })),
    mediaUrl: (resultId, trackId) => withToken(`/api/media/${encodeURIComponent(resultId)}/${encodeURIComponent(trackId)}.wav`),
    deliver(files) {
      for (const f of files) {
        if (!f.url) continue;
        const a = document.createElement('a');
        a.href = withToken(f.url);
        a.download = f.fileName;
        document.body.append(a);
        a.click();
        a.remove();
      }
    },
  };
}
