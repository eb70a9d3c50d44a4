import type { PreloadApi } from '../../../app/contract';
import { type Api, ApiError, unwrap } from './api';

export function electronApi(t: PreloadApi): Api {
  return {
    shell: 'electron',
    call: async (channel, args) => unwrap(await t.invoke(channel, args)),
    onProgress: (l) => t.on('engine:event', l),
    onOpenFiles: (l) => t.on('app:open-files', l),
    onNavigate: (l) => t.on('app:navigate', l),
    onCommand: (l) => t.on('app:command', l),
    async addFiles(files) {
      return files.map((f) => {
        const path = t.pathForFile(f);
        if (!path) throw new ApiError({ message: `${f.name} is not a file on this computer`, code: 'bad-input' });
        return { ref: { kind: 'path', path } as const, name: f.name };
      });
    },
    mediaUrl: (resultId, trackId) => t.mediaUrl(resultId, trackId),
    deliver: () => undefined,
    downloadHref: () => null,
    stemHref: () => null,
    stemDrag: async (drag, start) => unwrap(await t.stemDrag(drag, start)),
    reveal: async (path) => {
      unwrap(await t.reveal(path));
    },
    // The engine lives in this app's own main process.
    onConnection: (l) => {
      l('online');
      return () => undefined;
    },
  };
}
