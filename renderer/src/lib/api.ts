// The one interface the UI talks to. Two implementations: the Electron preload (IPC) and the
// serve-mode client (HTTP + WebSocket). Both speak the contract in app/contract.ts.
import type {
  ArgsOf, Channel, EngineEvent, EventMap, InputRef, Reply, ResultOf, StemDrag, WireError,
} from '../../../app/contract';

export class ApiError extends Error {
  readonly code: string;
  readonly file?: string;
  constructor(e: WireError) {
    super(e.message);
    this.name = 'ApiError';
    this.code = e.code;
    if (e.file) this.file = e.file;
  }
}

export interface Api {
  readonly shell: 'electron' | 'web';
  call<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>>;
  onProgress(listener: (e: EngineEvent) => void): () => void;
  onOpenFiles(listener: (p: EventMap['app:open-files']) => void): () => void;
  onNavigate(listener: (p: EventMap['app:navigate']) => void): () => void;
  onCommand(listener: (p: EventMap['app:command']) => void): () => void;
  /** Turns files the user dropped or chose into references the engine can read. */
  addFiles(files: File[]): Promise<{ ref: InputRef; name: string }[]>;
  mediaUrl(resultId: string, trackId: string): string;
  /** Hands exported files to the user: nothing to do on the desktop, downloads in a browser. */
  deliver(files: { fileName: string; url?: string }[]): void;
  /** A link that downloads an exported file (serve mode); null where the file is already on this computer. */
  downloadHref(url: string | undefined): string | null;
  /**
   * A link that downloads one stem in this format and rate, written on demand (serve mode: a stem row's
   * handle is this link); null on the desktop, where the handle drags the file out instead (stemDrag).
   */
  stemHref(drag: StemDrag): string | null;
  /** Desktop: readies the stem's file (`start: false`) or drags it out of the window (`start: true`). */
  stemDrag(drag: StemDrag, start: boolean): Promise<{ fileName: string }>;
  /** Desktop: shows an exported file in the system's file manager. */
  reveal(path: string): Promise<void>;
  /**
   * Whether the engine can be reached: 'offline' when the server stopped or the network is gone,
   * 'unauthorized' when this page's token is not the running server's. Called at once with the state now.
   */
  onConnection(listener: (state: ConnectionState) => void): () => void;
}

export type ConnectionState = 'connecting' | 'online' | 'offline' | 'unauthorized';

export function unwrap<T>(reply: Reply<T>): T {
  if (reply.ok) return reply.value;
  throw new ApiError(reply.error);
}

/** A message for any error, for the error banners. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
