import type { CheckpointKind, ModelInfo } from '../../../app/contract';
import { messageOf } from '../lib/api';
import { api, app } from './app.svelte';

class ModelsState {
  list = $state.raw<ModelInfo[]>([]);
  loading = $state(false);
  error = $state<string | null>(null);
  selectedId = $state<string | null>(null);

  active = $derived(this.list.find((m) => m.active) ?? null);
  selected = $derived(this.list.find((m) => m.id === this.selectedId) ?? this.list[0] ?? null);

  /** Refreshes issued so far: a slow, older answer (say, from a checkpoint event) must not undo a newer one. */
  private refreshes = 0;

  async refresh(): Promise<void> {
    const ticket = ++this.refreshes;
    this.loading = true;
    try {
      const list = await api().call('models:list', {});
      if (ticket !== this.refreshes) return;
      this.list = list;
      this.error = null;
    } catch (e) {
      if (ticket === this.refreshes) this.error = messageOf(e);
    } finally {
      if (ticket === this.refreshes) this.loading = false;
    }
  }

  private async run(what: () => Promise<unknown>, done?: string): Promise<boolean> {
    try {
      await what();
      await this.refresh();
      if (done) app.notify('success', done);
      return true;
    } catch (e) {
      app.notify('error', messageOf(e));
      return false;
    }
  }

  rename(id: string, name: string) {
    return this.run(() => api().call('models:rename', { id, name }), `Renamed to ${name}`);
  }

  remove(id: string) {
    return this.run(() => api().call('models:delete', { id }), 'Model deleted');
  }

  /** `checkpoint`: which of a training run's checkpoints separates. */
  activate(id: string, checkpoint?: CheckpointKind) {
    return this.run(
      () => api().call('models:activate', { id, ...(checkpoint ? { checkpoint } : {}) }),
      checkpoint ? `The ${checkpoint} checkpoint now separates your files` : 'This model now separates your files',
    );
  }

  /** Imports a model folder (Electron asks for it when `path` is absent) and says what came in under which name. */
  async import(path?: string): Promise<void> {
    try {
      const m = await api().call('models:import', path ? { path } : {});
      if (!m) return;
      await this.refresh();
      this.selectedId = m.id;
      app.notify('success', `Imported “${m.name}”${path ? ` from ${path}` : ''}: it is listed under that name (folder ${m.id} in the models folder).`);
    } catch (e) {
      app.notify('error', messageOf(e));
    }
  }

  /** Exports a model's folder; in a browser the folder also comes down as a zip. */
  async export(id: string): Promise<void> {
    try {
      const r = await api().call('models:export', { id });
      if (!r) return;
      const folder = r.dir.split(/[\\/]/).pop()!;
      if (r.url) api().deliver([{ fileName: `${folder}.zip`, url: r.url }]);
      app.notify('success', r.url ? `Model exported to ${r.dir} on the server, and downloaded as ${folder}.zip` : `Model exported to ${r.dir}`);
    } catch (e) {
      app.notify('error', messageOf(e));
    }
  }
}

export const models = new ModelsState();
