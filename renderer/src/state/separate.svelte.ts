// The Separate view's queue: files in, jobs running in the engine, results out.
import type { EngineEvent, ExportRate, ExportResult, InputRef, RecentFile, SeparationResult, StemFormat } from '../../../electron/contract';
import { messageOf } from '../lib/api';
import { api, app } from './app.svelte';

export type ItemStatus = 'adding' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface QueueItem {
  key: string;
  name: string;
  status: ItemStatus;
  stage: string;
  fraction: number | null;
  jobId?: string;
  resultId?: string;
  error?: string;
}

let nextKey = 1;

class SeparateState {
  items = $state<QueueItem[]>([]);
  /** Results hold large peak arrays: kept raw, replaced rather than mutated. */
  results = $state.raw<Record<string, SeparationResult>>({});
  selectedKey = $state<string | null>(null);
  format = $state<StemFormat>('wav16');
  /** Stems at the file's own rate and channels unless the model's rate is asked for. */
  rate = $state<ExportRate>('input');
  exporting = $state(false);
  lastExport = $state.raw<ExportResult | null>(null);
  modelId = $state<string | undefined>(undefined);
  /** Files from this computer separated before, newest first (the desktop app keeps them). */
  recent = $state.raw<RecentFile[]>([]);
  private readonly early = new Map<string, EngineEvent[]>();

  selected = $derived(this.items.find((i) => i.key === this.selectedKey) ?? null);
  selectedResult = $derived(this.selected?.resultId ? (this.results[this.selected.resultId] ?? null) : null);
  busy = $derived(this.items.some((i) => i.status === 'queued' || i.status === 'running' || i.status === 'adding'));

  async addFiles(files: File[]): Promise<void> {
    if (!files.length) return;
    const placeholders = files.map((f) => this.push(f.name));
    try {
      const refs = await api().addFiles(files);
      await Promise.all(refs.map((r, i) => this.start(placeholders[i]!, r.ref)));
    } catch (e) {
      for (const key of placeholders) this.patch(key, { status: 'failed', error: messageOf(e) });
    }
  }

  async addRefs(refs: InputRef[]): Promise<void> {
    await Promise.all(refs.map((ref) => this.start(this.push(ref.kind === 'path' ? ref.path.split(/[\\/]/).pop()! : ref.name), ref)));
  }

  async refreshRecent(): Promise<void> {
    try {
      this.recent = await api().call('files:recent', {});
    } catch {
      // The list is a convenience: keep the one shown.
    }
  }

  private push(name: string): string {
    const key = `f${nextKey++}`;
    this.items.push({ key, name, status: 'adding', stage: 'adding', fraction: null });
    this.selectedKey ??= key;
    return key;
  }

  private async start(key: string, ref: InputRef): Promise<void> {
    try {
      const { jobId } = await api().call('separate:start', { input: ref, ...(this.modelId ? { modelId: this.modelId } : {}) });
      this.patch(key, { jobId, status: 'queued' });
      if (ref.kind === 'path') void this.refreshRecent();
      // Events can overtake the reply (they travel on another channel): replay the ones held back.
      const early = this.early.get(jobId) ?? [];
      this.early.delete(jobId);
      for (const e of early) this.handle(e);
    } catch (e) {
      this.patch(key, { status: 'failed', error: messageOf(e) });
    }
  }

  private patch(key: string, p: Partial<QueueItem>): void {
    const item = this.items.find((i) => i.key === key);
    if (item) Object.assign(item, p);
  }

  handle(e: EngineEvent): void {
    if (e.type.startsWith('train-') || ('kind' in e && e.kind !== 'separate')) return;
    const item = this.items.find((i) => i.jobId === e.jobId);
    if (!item) {
      if (this.items.some((i) => i.status === 'adding')) this.early.set(e.jobId, [...(this.early.get(e.jobId) ?? []), e]);
      return;
    }
    switch (e.type) {
      case 'progress':
        Object.assign(item, { status: e.stage === 'queued' ? 'queued' : item.status === 'done' ? 'done' : 'running', stage: e.stage, fraction: e.fraction });
        break;
      case 'separate-done':
        this.results = { ...this.results, [e.result.resultId]: e.result };
        Object.assign(item, { status: 'done', stage: 'done', fraction: 1, resultId: e.result.resultId });
        if (!this.selected?.resultId) this.selectedKey = item.key;
        break;
      case 'job-failed':
        Object.assign(item, { status: 'failed', error: e.error.message });
        break;
      case 'job-cancelled':
        Object.assign(item, { status: 'cancelled', stage: 'cancelled' });
        break;
    }
  }

  async cancel(key: string): Promise<void> {
    const item = this.items.find((i) => i.key === key);
    if (item?.jobId) await api().call('job:cancel', { jobId: item.jobId }).catch((e: unknown) => app.notify('error', messageOf(e)));
  }

  async remove(key: string): Promise<void> {
    const item = this.items.find((i) => i.key === key);
    if (!item) return;
    if (item.status === 'queued' || item.status === 'running') await this.cancel(key);
    this.items = this.items.filter((i) => i.key !== key);
    if (this.selectedKey === key) this.selectedKey = this.items[0]?.key ?? null;
    if (item.resultId) {
      const { [item.resultId]: _gone, ...rest } = this.results;
      this.results = rest;
      await api().call('separate:discard', { resultId: item.resultId }).catch(() => undefined);
    }
  }

  /** Exports the given stems of the result on screen, all of them when none are given. */
  async exportStems(stems: string[] = []): Promise<void> {
    const r = this.selectedResult;
    if (!r) {
      app.notify('info', 'Nothing to export yet: separate a file first, then export its stems');
      return;
    }
    this.exporting = true;
    try {
      const out = await api().call('separate:export', { resultId: r.resultId, stems, format: this.format, rate: this.rate });
      if (!out) return;
      this.lastExport = out;
      api().deliver(out.files);
      app.notify('success', `Exported ${out.files.length} stem${out.files.length === 1 ? '' : 's'} to ${out.dir}`);
    } catch (e) {
      app.notify('error', messageOf(e));
    } finally {
      this.exporting = false;
    }
  }
}

export const separation = new SeparateState();
