// Line charts as standalone SVG (no plotting dependency): axes with "nice" ticks, one polyline per
// series, a legend, optional horizontal reference lines.

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
}

export interface ReferenceLine {
  y: number;
  label: string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
  /** Axis ranges; by default the data's extent widened to the nearest ticks. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Exact tick positions on x (e.g. the percentiles); by default nice round numbers. */
  xTicks?: readonly number[];
  references?: readonly ReferenceLine[];
  /** Draw a dot at every point (sparse curves such as per-epoch validation). */
  markers?: boolean;
}

/** Room around the plot area for ticks, labels and the legend (right). */
export const CHART_MARGIN = { top: 36, right: 170, bottom: 52, left: 68 } as const;
export const CHART_SIZE = { width: 720, height: 420 } as const;

/** Tableau 10: distinguishable, colour-blind-friendlier than the SVG defaults. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi], about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`niceTicks: bounds must be finite (got ${lo}, ${hi})`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target - 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const count = (s: number) => Math.ceil(hi / s - 1e-9) - Math.floor(lo / s + 1e-9) + 1;
  // The round step whose tick count comes closest to the target (ties: the coarser step).
  const step = [10, 5, 2, 1].map((m) => m * magnitude).reduce((a, b) => (Math.abs(count(b) - target) < Math.abs(count(a) - target) ? b : a));
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let t = first; t < hi + step * 0.999; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Maps [d0, d1] linearly onto [r0, r1]. */
export function linearScale([d0, d1]: readonly [number, number], [r0, r1]: readonly [number, number]): (x: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (x) => r0 + (x - d0) * k;
}

function formatTick(x: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return Math.abs(x) >= 1e5 ? x.toExponential(1) : x.toFixed(decimals);
}

const px = (x: number) => Number(x.toFixed(2));

function extent(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  return [Math.min(...finite), Math.max(...finite)];
}

export function lineChart(opts: LineChartOptions): string {
  const width = opts.width ?? CHART_SIZE.width;
  const height = opts.height ?? CHART_SIZE.height;
  const m = CHART_MARGIN;
  const left = m.left;
  const right = width - m.right;
  const top = m.top;
  const bottom = height - m.bottom;
  const points = opts.series.flatMap((s) => s.points);
  const ys = [...points.map((p) => p[1]), ...(opts.references ?? []).map((r) => r.y)];
  const xTicksAuto = opts.xTicks ? null : niceTicks(...(opts.xDomain ?? extent(points.map((p) => p[0]))));
  const yTicksAuto = niceTicks(...(opts.yDomain ?? extent(ys)));
  const xDomain = opts.xDomain ?? (opts.xTicks ? extent([...opts.xTicks]) : [xTicksAuto![0]!, xTicksAuto!.at(-1)!]);
  const yDomain = opts.yDomain ?? [yTicksAuto[0]!, yTicksAuto.at(-1)!];
  const xTicks = (opts.xTicks ?? xTicksAuto!).filter((t) => t >= xDomain[0] - 1e-9 && t <= xDomain[1] + 1e-9);
  const yTicks = yTicksAuto.filter((t) => t >= yDomain[0] - 1e-9 && t <= yDomain[1] + 1e-9);
  const sx = linearScale(xDomain, [left, right]);
  const sy = linearScale(yDomain, [bottom, top]);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${px((left + right) / 2)}" y="${px(top / 2 + 6)}" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(opts.title)}</text>`);
  out.push('<g class="grid" stroke="#e4e4e4" stroke-width="1">');
  for (const t of yTicks) out.push(`<line x1="${left}" x2="${right}" y1="${px(sy(t))}" y2="${px(sy(t))}"/>`);
  for (const t of xTicks) out.push(`<line x1="${px(sx(t))}" x2="${px(sx(t))}" y1="${top}" y2="${bottom}"/>`);
  out.push('</g>');
  out.push(`<g class="axes" stroke="#333333" stroke-width="1"><line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/><line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}"/></g>`);
  out.push('<g class="ticks" fill="#333333">');
  for (const t of xTicks) {
    out.push(`<line x1="${px(sx(t))}" x2="${px(sx(t))}" y1="${bottom}" y2="${bottom + 5}" stroke="#333333"/>`);
    out.push(`<text x="${px(sx(t))}" y="${bottom + 18}" text-anchor="middle">${escapeXml(formatTick(t, xTicks))}</text>`);
  }
  for (const t of yTicks) {
    out.push(`<line x1="${left - 5}" x2="${left}" y1="${px(sy(t))}" y2="${px(sy(t))}" stroke="#333333"/>`);
    out.push(`<text x="${left - 8}" y="${px(sy(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t, yTicks))}</text>`);
  }
  out.push('</g>');
  out.push(`<text x="${px((left + right) / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${px((top + bottom) / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  out.push(`<clipPath id="plot-area"><rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/></clipPath>`);
  for (const r of opts.references ?? []) {
    const y = px(sy(r.y));
    out.push(`<g class="reference"><line x1="${left}" x2="${right}" y1="${y}" y2="${y}" stroke="#888888" stroke-dasharray="2 3"/>`
      + `<text x="${right - 4}" y="${px(sy(r.y) - 4)}" text-anchor="end" fill="#666666" font-size="10">${escapeXml(r.label)}</text></g>`);
  }
  opts.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const coords = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])).map((p) => `${px(sx(p[0]))},${px(sy(p[1]))}`);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline class="series" data-series="${escapeXml(s.name)}" clip-path="url(#plot-area)" fill="none" stroke="${color}" stroke-width="1.8"${dash} points="${coords.join(' ')}"/>`);
    if (opts.markers) {
      out.push(`<g class="markers" fill="${color}">${coords.map((c) => { const [x, y] = c.split(','); return `<circle cx="${x}" cy="${y}" r="2.5"/>`; }).join('')}</g>`);
    }
  });
  out.push('<g class="legend">');
  opts.series.forEach((s, i) => {
    const y = top + 8 + i * 18;
    const color = PALETTE[i % PALETTE.length]!;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<line x1="${right + 12}" x2="${right + 36}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${right + 42}" y="${y + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
