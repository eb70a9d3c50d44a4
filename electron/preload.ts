// The preload: a narrow API on window.tilt, the contract's channels and events and nothing else.
// Imports only electron and the contract.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { DESKTOP_CHANNELS, GRANT_DROPPED, MEDIA_SCHEME, isChannel, isEvent, type PreloadApi, type Reply } from '../app/contract';

const api: PreloadApi = {
  invoke: (channel, args) => {
    if (!isChannel(channel)) return Promise.resolve({ ok: false, error: { message: `Unknown channel ${String(channel)}`, code: 'not-found' } });
    return ipcRenderer.invoke(channel, args ?? {}) as Promise<Reply<never>>;
  },
  on: (event, listener) => {
    if (!isEvent(event)) throw new Error(`Unknown event ${String(event)}`);
    const wrapped = (_e: IpcRendererEvent, payload: Parameters<typeof listener>[0]) => listener(payload);
    ipcRenderer.on(event, wrapped);
    return () => void ipcRenderer.removeListener(event, wrapped);
  },
  pathForFile: (file) => {
    const path = webUtils.getPathForFile(file);
    // Synchronous, so that main has granted the path before the call that uses it arrives.
    if (path) ipcRenderer.sendSync(GRANT_DROPPED, path);
    return path;
  },
  mediaUrl: (resultId, trackId) => `${MEDIA_SCHEME}://result/${encodeURIComponent(resultId)}/${encodeURIComponent(trackId)}.wav`,
  // Main checks the arguments (electron/desktop.ts): only these fields cross.
  stemDrag: (drag, start) => ipcRenderer.invoke(DESKTOP_CHANNELS.stemDrag, { resultId: drag.resultId, stem: drag.stem, format: drag.format, rate: drag.rate, start }) as Promise<Reply<{ fileName: string }>>,
  reveal: (path) => ipcRenderer.invoke(DESKTOP_CHANNELS.reveal, { path }) as Promise<Reply<{ shown: boolean }>>,
};

contextBridge.exposeInMainWorld('tilt', api);
