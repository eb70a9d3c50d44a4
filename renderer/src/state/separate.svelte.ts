// The Separate view's queue: files in, jobs running in the engine, results out.
import { SEPARATE_DEFAULTS, type AdaptReport, type BlendReport, type BlendWeight } from '../../../app/contract';
import type { EngineEvent, ExportParams, ExportRate, ExportResult, InputRef, JobsSnapshot, RecentResult, SeparationResult, StemDrag, StemFormat } from '../../../app/contract';
import { ApiError, messageOf } from '../lib/api';
import { dbToGain } from '../lib/mixer';
import { api, app } from './app.svelte';
import { persist } from './persist.svelte';

export type ItemStatus = 'adding' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** Where a job stands, as the engine's progress events tell it. */
export interface JobProgress {
  stage: string;
  fraction: number | null;
  /** Seconds left in the stage, once the engine can tell. */
  etaSec?: number;
  /** Seconds since the job started running. */
  elapsedSec?: number;
}

export interface QueueItem extends JobProgress {
  key: string;
  name: string;
  status: ItemStatus;
  jobId?: string;
  resultId?: string;
  error?: string;
}

/** What a stem row's handle is: in the desktop app it drags the stem's file out; in a browser it downloads it. */
export type StemHandle = { kind: 'drag' } | { kind: 'download'; href: string };

let nextKey = 1;

/**
 * The window lengths the Separate view offers, with what each is for: docs/separation.md measures
 * them (2 s gained 0.6 dB on long held-out recordings over busy backgrounds and lost on sparse events
 * and on material like the training data; 4 s gained 0.1 dB there and lost 2.5 dB on sparse events,
 * so it is not offered).
 */
export const WINDOW_CHOICES: readonly { seconds: number; label: string; hint: string }[] = [
  { seconds: SEPARATE_DEFAULTS.windowSec, label: `${SEPARATE_DEFAULTS.windowSec} s (default)`, hint: 'Best on sparse sounds and on recordings like the training data' },
  { seconds: 2, label: '2 s', hint: 'Can help a long recording over a busy, changing background; worse on sparse sounds' },
];

const isWindowChoice = (v: unknown): v is number => WINDOW_CHOICES.some((w) => w.seconds === v);

/**
 * RNNoise blended into the speech stem where it and the model disagree, or not (docs/separation.md:
 * +2.5 dB on long held-out recordings, +1.2 on held-out crops, +2.0 on long in-domain ones, -2.4 on crops like the training data).
 */
export const BLEND_CHOICES: readonly { weight: BlendWeight; label: string; hint: string }[] = [
  { weight: 'auto', label: 'RNNoise where Tilt is unsure (default)', hint: 'Mixes the RNNoise denoiser into the speech stem where the two disagree: better on recordings unlike the training data, a little worse on short clips like it. Models without a speech and an env stem separate alone.' },
  { weight: 0, label: 'Off: Tilt alone', hint: 'Only the model: best on short clips like its training data, about 2.5 dB worse on long recordings it never heard' },
];

const isBlendChoice = (v: unknown): v is BlendWeight => BLEND_CHOICES.some((b) => b.weight === v);

/** How a result's blend reads in its header: "auto" or a fixed share ("50 %"), null when it was off. */
export function blendLabel(weight: BlendWeight): string | null {
  if (weight === 0) return null;
  return weight === 'auto' ? 'auto' : `${Math.round(weight * 100)} %`;
}

/** What adapting did for a result (null when it was not asked for): see AdaptReport. */
export function adaptNote(report: AdaptReport | undefined): string | null {
  if (!report) return null;
  if (report.skipped) return `Not adapted: ${report.skipped}.`;
  return `Adapted first: tuned for ${report.steps} steps on ${report.soundSeconds.toFixed(1)} s of this recording's sound where nobody speaks.`;
}

/** What a blended result's RNNoise blend did (null without a blend): see BlendReport. */
export function blendNote(report: BlendReport | null | undefined): string | null {
  if (report === undefined) return null;
  if (report === null) return 'The speech stem is silent: RNNoise had nothing to add.';
  const percent = (v: number) => `${Math.round(v * 100)} %`;
  return `Tilt and RNNoise disagreed on ${percent(report.disagreed)} of the speech; RNNoise makes up ${percent(report.rnnoiseShare)} of the speech stem.`;
}

/** "the mix" or "2 stems": what an export wrote. */
function exportedWhat(out: ExportResult): string {
  return out.files.length === 1 && out.files[0]!.stem === 'mix' ? 'the mix' : `${out.files.length} stem${out.files.length === 1 ? '' : 's'}`;
}

class SeparateState {
  items = $state<QueueItem[]>([]);
  /** Results hold large peak arrays: kept raw, replaced rather than mutated. */
  results = $state.raw<Record<string, SeparationResult>>({});
  selectedKey = $state<string | null>(null);
  format = $state<StemFormat>('wav16');
  /** Stems at the file's own rate and channels unless the model's rate is asked for. */
  rate = $state<ExportRate>('input');
  /** The result being exported (its id is the export's job id), and how far the export is. */
  exportingId = $state<string | null>(null);
  exportProgress = $state.raw<JobProgress | null>(null);
  /** The last export of each result, by result id (shown under that result only). */
  exportsDone = $state.raw<Record<string, ExportResult>>({});
  /** The stem whose file is being readied for a drag (a first drag exports it). */
  preparingDrag = $state<string | null>(null);
  /** An export refused because a file of its name is there: the user replaces it or keeps both. */
  conflict = $state.raw<{ params: ExportParams; message: string } | null>(null);
  /** Stem id -> level in dB: the balance heard in the player and written by "Export mix". */
  volumeDb = $state<Record<string, number>>({});
  modelId = $state<string | undefined>(undefined);
  /** The window files added from now on are separated with. */
  windowSeconds = $state<number>(SEPARATE_DEFAULTS.windowSec);
  /** RNNoise's share of the speech stem for the files added from now on. */
  rnnoiseBlend = $state<BlendWeight>('auto');
  /** Whether the files added from now on are separated by a copy of the model adapted to each of them first. */
  adapt = $state(false);
  /** Results separated before, newest first: the engine keeps the list in its data folder, across restarts. */
  recent = $state.raw<RecentResult[]>([]);
  private readonly early = new Map<string, EngineEvent[]>();
  /** This page's own export call is waiting for its reply, which reports the outcome (not the events). */
  private exportCalling = false;

  selected = $derived(this.items.find((i) => i.key === this.selectedKey) ?? null);
  selectedResult = $derived(this.selected?.resultId ? (this.results[this.selected.resultId] ?? null) : null);
  busy = $derived(this.items.some((i) => i.status === 'queued' || i.status === 'running' || i.status === 'adding'));
  exporting = $derived(this.exportingId !== null);
  exportShown = $derived(this.selectedResult ? (this.exportsDone[this.selectedResult.resultId] ?? null) : null);

  constructor() {
    persist('export', () => ({ format: this.format, rate: this.rate, volumeDb: this.volumeDb }), (v) => {
      if (v.format) this.format = v.format;
      if (v.rate) this.rate = v.rate;
      if (v.volumeDb) this.volumeDb = v.volumeDb;
    });
    // The choice is saved as speechDenoiser since the blend became the default: a 0 saved under the old
    // name was that default, not a choice, and would keep those users on the worse one.
    persist('separate', () => ({ windowSeconds: this.windowSeconds, speechDenoiser: this.rnnoiseBlend, adapt: this.adapt }), (v) => {
      if (isWindowChoice(v.windowSeconds)) this.windowSeconds = v.windowSeconds;
      if (isBlendChoice(v.speechDenoiser)) this.rnnoiseBlend = v.speechDenoiser;
      if (typeof v.adapt === 'boolean') this.adapt = v.adapt;
    });
  }

  /**
   * Takes in the engine's jobs and results after a reload or a lost connection: results not on
   * screen come back into the queue, separations still going are followed again, and items whose
   * job ended unseen are marked so.
   */
  restore(snap: JobsSnapshot): void {
    const going = new Map(snap.separations.map((j) => [j.jobId, j]));
    for (const item of this.items) {
      if ((item.status === 'queued' || item.status === 'running') && item.jobId && !going.has(item.jobId) && !snap.results.some((r) => r.resultId === item.jobId)) {
        Object.assign(item, { status: 'failed', error: 'This separation ended while the page was not connected to the engine: add the file again.' });
      }
    }
    const results = { ...this.results };
    for (const r of snap.results) {
      results[r.resultId] = r;
      const item = this.items.find((i) => i.jobId === r.resultId);
      if (item) Object.assign(item, { status: 'done', stage: 'done', fraction: 1, resultId: r.resultId });
      else this.items.push({ key: `f${nextKey++}`, name: r.fileName, status: 'done', stage: 'done', fraction: 1, jobId: r.resultId, resultId: r.resultId });
    }
    this.results = results;
    for (const j of snap.separations) {
      const item = this.items.find((i) => i.jobId === j.jobId);
      const status = j.state === 'queued' ? 'queued' : 'running';
      if (item) Object.assign(item, { status, stage: j.stage, fraction: j.fraction });
      else this.items.push({ key: `f${nextKey++}`, name: j.label, status, stage: j.stage, fraction: j.fraction, jobId: j.jobId });
    }
    this.selectedKey ??= this.items.find((i) => i.resultId)?.key ?? this.items[0]?.key ?? null;
    this.restoreExports(snap);
  }

  /**
   * Exports after a reload or a lost connection: the last one of each result shows under it (also
   * one that finished while the page was away), and one still being written is followed again,
   * with its progress and Cancel: the one followed before, else the selected result's, else the first.
   */
  private restoreExports(snap: JobsSnapshot): void {
    const done = { ...this.exportsDone };
    for (const { resultId, ...out } of snap.exported) done[resultId] = out;
    this.exportsDone = done;
    // This page's own call is still waiting: its reply tells how the export ended.
    if (this.exportCalling) return;
    const going = snap.exports.find((x) => x.jobId === this.exportingId) ?? snap.exports.find((x) => x.jobId === this.selectedResult?.resultId) ?? snap.exports[0];
    this.exportingId = going?.jobId ?? null;
    this.exportProgress = going ? { stage: going.stage, fraction: going.fraction, etaSec: going.etaSec, elapsedSec: going.elapsedSec } : null;
  }

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

  /**
   * Opens a recent result: the one the engine still holds when it does (selected in the queue),
   * else its file separated again (with the model in use); an upload's file is not kept, so it must be added again.
   */
  async openRecent(r: RecentResult): Promise<void> {
    const held = r.available ? this.items.find((i) => i.resultId === r.resultId) : undefined;
    if (held) {
      this.selectedKey = held.key;
      return;
    }
    if (!r.sourcePath) {
      app.notify('info', `${r.fileName} was uploaded, and uploads are not kept: add the file again to separate it`);
      return;
    }
    const at = this.items.length;
    await this.addRefs([{ kind: 'path', path: r.sourcePath }]);
    const added = this.items[at];
    if (added) this.selectedKey = added.key;
  }

  /** Shows an exported file in the file manager (desktop). */
  async reveal(path: string): Promise<void> {
    try {
      await api().reveal(path);
    } catch (e) {
      app.notify('error', messageOf(e));
    }
  }

  /** The handle of a stem row of the result on screen, in the export format and rate chosen: a download link in a browser, a drag on the desktop. */
  stemHandle(stem: string): StemHandle | null {
    const drag = this.stemDrag(stem);
    if (!drag) return null;
    const href = api().stemHref(drag);
    return href ? { kind: 'download', href } : { kind: 'drag' };
  }

  /** Readies a stem's file for a drag (the pointer went down on its handle): a first drag of it exports it. */
  async prepareDrag(stem: string): Promise<void> {
    const drag = this.stemDrag(stem);
    if (!drag || this.stemHandle(stem)?.kind !== 'drag') return;
    this.preparingDrag = stem;
    try {
      await api().stemDrag(drag, false);
    } catch {
      // Said when the drag itself starts.
    } finally {
      if (this.preparingDrag === stem) this.preparingDrag = null;
    }
  }

  /** Drags a stem's file out of the window (from the handle's dragstart, whose default the view prevents). */
  async dragStem(stem: string): Promise<void> {
    const drag = this.stemDrag(stem);
    if (!drag) return;
    try {
      await api().stemDrag(drag, true);
    } catch (e) {
      app.notify('error', messageOf(e));
    }
  }

  private stemDrag(stem: string): StemDrag | null {
    const r = this.selectedResult;
    if (!r?.tracks.some((t) => t.kind === 'stem' && t.id === stem)) return null;
    return { resultId: r.resultId, stem, format: this.format, rate: this.rate };
  }

  private push(name: string): string {
    const key = `f${nextKey++}`;
    this.items.push({ key, name, status: 'adding', stage: 'adding', fraction: null });
    this.selectedKey ??= key;
    return key;
  }

  private async start(key: string, ref: InputRef): Promise<void> {
    try {
      const { jobId } = await api().call('separate:start', { input: ref, windowSeconds: this.windowSeconds, rnnoiseBlend: this.rnnoiseBlend, adapt: this.adapt, ...(this.modelId ? { modelId: this.modelId } : {}) });
      this.patch(key, { jobId, status: 'queued' });
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
    if (e.type === 'export-done' || ('kind' in e && e.kind === 'export')) {
      this.handleExport(e);
      return;
    }
    if (e.type.startsWith('train-') || ('kind' in e && e.kind !== 'separate')) return;
    const item = this.items.find((i) => i.jobId === e.jobId);
    if (!item) {
      if (this.items.some((i) => i.status === 'adding')) this.early.set(e.jobId, [...(this.early.get(e.jobId) ?? []), e]);
      return;
    }
    switch (e.type) {
      case 'progress':
        Object.assign(item, {
          status: e.stage === 'queued' ? 'queued' : item.status === 'done' ? 'done' : 'running', stage: e.stage, fraction: e.fraction, etaSec: e.etaSec, elapsedSec: e.elapsedSec,
        });
        break;
      case 'separate-done':
        this.results = { ...this.results, [e.result.resultId]: e.result };
        Object.assign(item, { status: 'done', stage: 'done', fraction: 1, resultId: e.result.resultId });
        if (!this.selected?.resultId) this.selectedKey = item.key;
        void this.refreshRecent();
        break;
      case 'job-failed':
        Object.assign(item, { status: 'failed', error: e.error.message });
        break;
      case 'job-cancelled':
        Object.assign(item, { status: 'cancelled', stage: 'cancelled' });
        break;
    }
  }

  /**
   * An export's events. Progress is shown for the export followed; how it ended is told by the reply
   * when this page's own call waits for one, else (an export followed again after a reload) by these.
   */
  private handleExport(e: EngineEvent): void {
    if (e.type === 'progress') {
      if (e.jobId === this.exportingId) this.exportProgress = { stage: e.stage, fraction: e.fraction, etaSec: e.etaSec, elapsedSec: e.elapsedSec };
      return;
    }
    if (e.type === 'export-done') this.exportsDone = { ...this.exportsDone, [e.jobId]: e.result };
    if (e.jobId !== this.exportingId || this.exportCalling) return;
    this.exportingId = null;
    this.exportProgress = null;
    if (e.type === 'export-done') {
      app.notify('success', `Exported ${exportedWhat(e.result)} to ${e.result.dir}`);
      void this.refreshRecent();
    } else if (e.type === 'job-cancelled') {
      app.notify('info', 'Export cancelled: no file was written');
    } else if (e.type === 'job-failed') {
      app.notify('error', e.error.message);
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
      const { [item.resultId]: _export, ...exports } = this.exportsDone;
      this.exportsDone = exports;
      await api().call('separate:discard', { resultId: item.resultId }).catch(() => undefined);
    }
  }

  /** Exports the given stems of the result on screen, all of them when none are given. */
  exportStems(stems: string[] = []): Promise<void> {
    const r = this.selectedResult;
    if (!r) {
      app.notify('info', 'Nothing to export yet: separate a file first, then export its stems');
      return Promise.resolve();
    }
    return this.runExport({ resultId: r.resultId, stems, format: this.format, rate: this.rate });
  }

  /** Exports one file: the stems summed at the balance set in the player. */
  exportMix(): Promise<void> {
    const r = this.selectedResult;
    if (!r) return Promise.resolve();
    const stems = r.tracks.filter((t) => t.kind === 'stem').map((t) => t.id);
    const mix = Object.fromEntries(stems.map((id) => [id, dbToGain(this.volumeDb[id] ?? 0)]));
    return this.runExport({ resultId: r.resultId, stems, format: this.format, rate: this.rate, mix });
  }

  /** Answers a refused export: replace the file there, or keep both (the new one gets a number). */
  resolveConflict(how: 'overwrite' | 'keepBoth' | 'cancel'): Promise<void> {
    const c = this.conflict;
    this.conflict = null;
    if (!c || how === 'cancel') return Promise.resolve();
    return this.runExport({ ...c.params, [how]: true });
  }

  /**
   * Stops the export going; it writes no file. An export this page only follows (after a reload)
   * ends by the answer or by its event, whichever comes first; one that finished before the cancel
   * took is taken in from the engine's list, its files under its result.
   */
  async cancelExport(): Promise<void> {
    const jobId = this.exportingId;
    if (!jobId) return;
    let cancelled: boolean;
    try {
      ({ cancelled } = await api().call('job:cancel', { jobId }));
    } catch (e) {
      app.notify('error', messageOf(e));
      return;
    }
    if (this.exportCalling || this.exportingId !== jobId) return;
    this.exportingId = null;
    this.exportProgress = null;
    if (cancelled) app.notify('info', 'Export cancelled: no file was written');
    else await api().call('jobs:list', {}).then((snap) => this.restoreExports(snap), (e: unknown) => app.notify('error', messageOf(e)));
  }

  private async runExport(params: ExportParams): Promise<void> {
    this.exportingId = params.resultId;
    this.exportProgress = null;
    this.conflict = null;
    this.exportCalling = true;
    try {
      const out = await api().call('separate:export', params);
      if (!out) return;
      this.exportsDone = { ...this.exportsDone, [params.resultId]: out };
      api().deliver(out.files);
      app.notify('success', `Exported ${exportedWhat(out)} to ${out.dir}`);
      void this.refreshRecent();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'exists') this.conflict = { params, message: e.message };
      else if (e instanceof ApiError && e.code === 'cancelled') app.notify('info', e.message);
      else app.notify('error', messageOf(e));
    } finally {
      this.exportCalling = false;
      this.exportingId = null;
      this.exportProgress = null;
    }
  }
}

export const separation = new SeparateState();
