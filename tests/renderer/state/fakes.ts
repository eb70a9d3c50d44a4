// Stand-ins for what the renderer's state talks to: the API (the preload's in Electron, HTTP in serve
// mode), handed in through app.connect as the real shells do, and the page's localStorage.
import type { Api } from '../../../renderer/src/lib/api';
import type { ArgsOf, Channel, ResultOf, StemDrag } from '../../../app/contract';

type Handler<C extends Channel> = (args: ArgsOf<C>) => ResultOf<C> | Promise<ResultOf<C>>;

/** Answers each channel with the handler set for it (a call to any other fails) and records the calls. */
export class FakeApi implements Api {
  shell: 'web' | 'electron' = 'web';
  readonly calls: { channel: Channel; args: unknown }[] = [];
  readonly delivered: { fileName: string; url?: string }[] = [];
  /** The desktop's stem drags (`start`: a drag, else readying the file) and files revealed. */
  readonly drags: { drag: StemDrag; start: boolean }[] = [];
  readonly revealed: string[] = [];
  /** What the desktop's drag answers (a throw is a refusal). */
  dragAnswer: () => { fileName: string } = () => ({ fileName: 'stem.wav' });
  private readonly handlers = new Map<Channel, (args: never) => unknown>();

  /** Serve mode's stem links; the desktop has none (its handles drag). */
  stemHref(d: StemDrag): string | null {
    return this.shell === 'web' ? `/api/stem/${d.resultId}/${d.stem}?format=${d.format}&rate=${d.rate}` : null;
  }

  async stemDrag(drag: StemDrag, start: boolean): Promise<{ fileName: string }> {
    this.drags.push({ drag, start });
    return this.dragAnswer();
  }

  async reveal(path: string): Promise<void> {
    this.revealed.push(path);
  }

  on<C extends Channel>(channel: C, handler: Handler<C>): this {
    this.handlers.set(channel, handler);
    return this;
  }

  /** The calls made on `channel`, their arguments in order. */
  argsOf<C extends Channel>(channel: C): ArgsOf<C>[] {
    return this.calls.filter((c) => c.channel === channel).map((c) => c.args as ArgsOf<C>);
  }

  async call<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>> {
    this.calls.push({ channel, args });
    const handler = this.handlers.get(channel) as Handler<C> | undefined;
    if (!handler) throw new Error(`no fake answer for ${channel}`);
    return handler(args);
  }

  deliver(files: { fileName: string; url?: string }[]): void {
    this.delivered.push(...files);
  }

  // What the state modules under test do not use.
  addFiles = () => Promise.resolve([]);
  onProgress = () => () => {};
  onOpenFiles = () => () => {};
  onNavigate = () => () => {};
  onCommand = () => () => {};
  onConnection = () => () => {};
  mediaUrl = () => '';
  downloadHref = () => null;
}

/** localStorage as a page has it: strings by key. */
export class MemoryStorage {
  private readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

export function installStorage(saved: Record<string, unknown> = {}): MemoryStorage {
  const storage = new MemoryStorage();
  for (const [key, value] of Object.entries(saved)) storage.setItem(key, JSON.stringify(value));
  Object.defineProperty(globalThis, 'localStorage', { value: storage, configurable: true });
  return storage;
}

/** Lets what is queued run: replies already given, and the effects a change scheduled (Svelte flushes them in a microtask). */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
