// The data check in the terminal (tilt data check, and tilt train before it starts): what each
// folder holds, clips and hours per class and split, the files left out and why, the problems that
// stop a run, and the download the built-in recordings still need.
import { createInterface } from 'node:readline/promises';
import { checkData } from '../core/train/check';
import type { DataCheck } from '../core/train/check';
import type { DataConfig } from '../core/train/config';
import { formatDuration, PhaseClock } from '../core/train/progress';
import type { PhaseProgress } from '../core/train/progress';
import type { BeforeAfterSummary } from '../core/train/beforeAfter';
import { SPLITS } from '../core/data/split';
import { SOUND_CLASSES } from '../core/types';
import { formatNumber, formatTable, ProgressBar } from './format';

/** Skipped files printed before "and N more" (--json lists them all). */
const SKIPPED_SHOWN = 10;

const PHASE_LABELS: Record<PhaseProgress['phase'], string> = {
  download: 'downloading', decode: 'decoding', baseline: 'scoring the starting model', training: 'training', scoring: 'scoring',
};

/** "decoding 45% · 3 min left" */
export function phaseLine(p: PhaseProgress): string {
  const eta = p.etaSeconds === null ? '' : ` · ${formatDuration(p.etaSeconds)} left`;
  return `${PHASE_LABELS[p.phase]} ${(p.fraction * 100).toFixed(0)}%${eta}`;
}

/** Checks the data with a progress bar for the decoding of the user's folders. */
export async function runDataCheck(data: DataConfig): Promise<DataCheck> {
  const bar = new ProgressBar('checking data');
  const clock = new PhaseClock();
  try {
    return await checkData(data, {
      onProgress: (p) => {
        const phase = clock.prepare(p);
        if (phase) bar.update(phase.fraction, `${phaseLine(phase)} ${phase.detail}`);
      },
    });
  } finally {
    bar.done();
  }
}

function layoutText(f: DataCheck['folders'][number]): string {
  if (f.error) return `cannot read: ${f.error}`;
  const named = f.kind === 'speech' ? 'speakers' : 'labels';
  if (f.layout === 'flat') return 'flat (files only)';
  if (f.layout === 'esc50') return 'ESC-50';
  return `${f.groups.length} ${named} (sub-folders)${f.layout === 'mixed' ? ' + files beside them' : ''}`;
}

export function printDataCheck(check: DataCheck, log: (line: string) => void = console.log): void {
  const rows: (string | number)[][] = check.folders.map((f) => [f.path, f.kind, layoutText(f), f.clips, formatDuration(f.hours * 3600)]);
  const c = check.corpus;
  if (c) {
    const state = c.ready ? 'ready' : c.download ? `to download: ${Math.round(c.download.mb)} MB (${c.download.packages.length} packages)` : 'downloaded, to decode on first use';
    rows.push([`built-in recordings (${c.set})`, 'both', state, '', '']);
  }
  log(formatTable(['data', 'class', 'layout', 'clips', 'audio'], rows));
  log('');
  log(formatTable(['class', ...SPLITS.flatMap((s) => [`${s} clips`, `${s} audio`])],
    SOUND_CLASSES.map((cls) => [cls, ...SPLITS.flatMap((s) => [check.clips[cls][s], formatDuration(check.hours[cls][s] * 3600)])])));
  if (c && !c.ready) log('(the built-in recordings are counted once they are fetched and decoded)');
  if (check.skipped.length) {
    log(`\nleft out: ${check.skipped.length} file${check.skipped.length === 1 ? '' : 's'}`);
    for (const s of check.skipped.slice(0, SKIPPED_SHOWN)) log(`  ${s.file}: ${s.reason}`);
    if (check.skipped.length > SKIPPED_SHOWN) log(`  and ${check.skipped.length - SKIPPED_SHOWN} more (--json lists them all)`);
  }
  for (const n of check.notes) log(`\nnote: ${n}`);
  if (check.heldOutSplit) log(`\na fine-tune's before/after scores come from the ${check.heldOutSplit} split`);
  for (const p of check.problems) log(`\nproblem: ${p}`);
}

/** Whether the user agrees to the download the check found (asked on a terminal; `yes` answers for them). */
export async function agreeToDownload(check: DataCheck, yes: boolean): Promise<boolean> {
  const download = check.corpus?.download;
  if (!download || yes) return true;
  const what = `the built-in recordings need a download of ${Math.round(download.mb)} MB (${download.packages.length} Debian packages), then decoded once (minutes for a few packages, about an hour for the full set)`;
  if (!process.stdin.isTTY) throw new Error(`${what}: run again with --yes to download them, or fetch them first with tilt data fetch --set ${check.corpus!.set}`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${what}. Download now? [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function beforeAfterRows(s: BeforeAfterSummary): (string | number)[][] {
  return s.rows.map((r) => [r.label, r.count, r.before, r.after, `${r.after - r.before >= 0 ? '+' : ''}${formatNumber(r.after - r.before)}`]);
}

export const BEFORE_AFTER_HEADER = ['SI-SDRi (dB)', 'n', 'base', 'fine-tuned', 'change'];
