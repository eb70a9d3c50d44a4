import type { ModelInfo } from '../../../electron/contract';
import { messageOf } from '../lib/api';
import { api, app } from './app.svelte';

class ModelsState {
  list = $state.raw<ModelInfo[]>([]);
  loading = $state(false);
  error = $state<string | null>(null);
  selectedId = $state<string | null>(null);

  active = $derived(this.list.find((m) => m.active) ?? null);
  selected = $derived(this.list.find((m) => m.id === this.selectedId) ?? this.list[0] ?? null);

  async refresh(): Promise<void> {
    this.loading = true;
    try {
      this.list = await api().call('models:list', {});
      this.error = null;
    } catch (e) {
      this.error = messageOf(e);
    } finally {
      this.loading = false;
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

  activate(id: string) {
    return this.run(() => api().call('models:activate', { id }), 'This model now separates your files');
  }

  async import(path?: string): Promise<void> {
    await this.run(async () => {
      const m = await api().call('models:import', path ? { path } : {});
      if (m) this.selectedId = m.id;
    });
  }

  async export(id: string): Promise<void> {
    try {
      const r = await api().call('models:export', { id });
      if (r) app.notify('success', `Model exported to ${r.dir}`);
    } catch (e) {
      app.notify('error', messageOf(e));
    }
  }
}

export const models = new ModelsState();
