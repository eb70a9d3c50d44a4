import type { ArgsOf, Channel, PreloadApi, Reply, ResultOf } from '../../../electron/contract';
import { type Api, ApiError, unwrap } from './api';

type Caller = (args: never) => Promise<Reply<unknown>>;

function callerFor(t: PreloadApi, channel: Channel): Caller {
  const table: Record<Channel, Caller> = {
    'app:info': t.info, 'backend:describe': t.backend, 'separate:start': t.separate, 'separate:export': t.exportStems,
    'separate:discard': t.discardResult, 'job:cancel': t.cancelJob,
    'train:check': t.train.check, 'train:start': t.train.start, 'train:continue': t.train.continue, 'train:pause': t.train.pause, 'train:resume': t.train.resume, 'train:cancel': t.train.cancel,
    'train:preview-weights': t.train.previewWeights,
    'models:list': t.models.list, 'models:rename': t.models.rename, 'models:delete': t.models.delete,
    'models:activate': t.models.activate, 'models:import': t.models.import, 'models:export': t.models.export,
    'files:recent': t.recentFiles, 'dialog:open-audio': t.dialogs.openAudio, 'dialog:open-folder': t.dialogs.openFolder,
  };
  return table[channel];
}

export function electronApi(t: PreloadApi): Api {
  return {
    shell: 'electron',
    async call<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>> {
      const reply = (await callerFor(t, channel)(args as never)) as Reply<ResultOf<C>>;
      return unwrap(reply);
    },
    onProgress: (l) => t.onProgress(l),
    onOpenFiles: (l) => t.onOpenFiles(l),
    onNavigate: (l) => t.onNavigate(l),
    onCommand: (l) => t.onCommand(l),
    async addFiles(files) {
      return files.map((f) => {
        const path = t.pathForFile(f);
        if (!path) throw new ApiError({ message: `${f.name} is not a file on this computer`, code: 'bad-input' });
        return { ref: { kind: 'path', path } as const, name: f.name };
      });
    },
    mediaUrl: (resultId, trackId) => t.mediaUrl(resultId, trackId),
    deliver: () => undefined,
  };
}
