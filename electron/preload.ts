// The preload: a narrow, named API on window.tilt. Imports only electron and the contract.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { GRANT_DROPPED, MEDIA_SCHEME, type Channel, type EventMap, type EventName, type PreloadApi, type Reply } from './contract';

const call = <C extends Channel>(channel: C) => (args: unknown) => ipcRenderer.invoke(channel, args ?? {}) as Promise<Reply<never>>;

function on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
  const wrapped = (_e: IpcRendererEvent, payload: EventMap[E]) => listener(payload);
  ipcRenderer.on(event, wrapped);
  return () => void ipcRenderer.removeListener(event, wrapped);
}

const api: PreloadApi = {
  info: call('app:info'),
  backend: call('backend:describe'),
  separate: call('separate:start'),
  exportStems: call('separate:export'),
  discardResult: call('separate:discard'),
  cancelJob: call('job:cancel'),
  train: {
    check: call('train:check'),
    start: call('train:start'),
    continue: call('train:continue'),
    pause: call('train:pause'),
    resume: call('train:resume'),
    cancel: call('train:cancel'),
    previewWeights: call('train:preview-weights'),
  },
  models: {
    list: call('models:list'),
    rename: call('models:rename'),
    delete: call('models:delete'),
    activate: call('models:activate'),
    import: call('models:import'),
    export: call('models:export'),
  },
  recentFiles: call('files:recent'),
  dialogs: { openAudio: call('dialog:open-audio'), openFolder: call('dialog:open-folder') },
  onProgress: (listener) => on('engine:event', listener),
  onOpenFiles: (listener) => on('app:open-files', listener),
  onNavigate: (listener) => on('app:navigate', listener),
  onCommand: (listener) => on('app:command', listener),
  pathForFile: (file) => {
    const path = webUtils.getPathForFile(file);
    // Synchronous, so that main has granted the path before the call that uses it arrives.
    if (path) ipcRenderer.sendSync(GRANT_DROPPED, path);
    return path;
  },
  mediaUrl: (resultId, trackId) => `${MEDIA_SCHEME}://result/${encodeURIComponent(resultId)}/${encodeURIComponent(trackId)}.wav`,
};

contextBridge.exposeInMainWorld('tilt', api);
