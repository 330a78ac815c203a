/**
 * Metric curves as inline SVG, rendered on the server: no charting library, no build step, nothing fetched.
 * One chart per metric; several series (runs being compared) share the axes, each in its own colour.
 */

/** Colours for series, chosen to stay distinguishable for the common colour-vision deficiencies (Okabe–Ito). */
export const SERIES_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#F0E442', '#000000'];

export interface Series {
  label: string;
  /** [x, y] points; non-finite y values (NaN, ±Infinity) are left out of the line. */
  points: Array<[number, number]>;
}

export interface ChartOptions {
  title: string;
  /** @default 'step' */
  xLabel?: string;
  /** @default 480 */
  width?: number;
  /** @default 260 */
  height?: number;
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** About `count` round tick values covering [min, max] (1, 2, 5 × 10^k steps). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    return niceTicks(min - pad, max + pad, count);
  }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1e5 || abs < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** A line chart as an SVG string (with a `<title>` per point for hover values). */
export function lineChart(series: Series[], options: ChartOptions): string {
  const width = options.width ?? 480;
  const height = options.height ?? 260;
  const margin = { top: 28, right: 16, bottom: 40, left: 56 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const finite = series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]) }));
  const all = finite.flatMap((s) => s.points);
  const title = `<text class="chart-title" x="${margin.left}" y="18">${escapeXml(options.title)}</text>`;
  if (all.length === 0) {
    return `<svg class="chart" role="img" aria-label="${escapeXml(options.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${title}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="chart-empty">no finite values</text></svg>`;
  }
  const xs = niceTicks(Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0])));
  const ys = niceTicks(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])));
  const [x0, x1, y0, y1] = [xs[0], xs[xs.length - 1], ys[0], ys[ys.length - 1]];
  const sx = (x: number) => margin.left + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => margin.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [title];
  for (const t of ys) {
    parts.push(`<line class="grid" x1="${margin.left}" x2="${margin.left + plotW}" y1="${sy(t)}" y2="${sy(t)}"/>`);
    parts.push(`<text class="tick" x="${margin.left - 6}" y="${sy(t) + 4}" text-anchor="end">${formatNumber(t)}</text>`);
  }
  for (const t of xs) {
    parts.push(`<text class="tick" x="${sx(t)}" y="${margin.top + plotH + 16}" text-anchor="middle">${formatNumber(t)}</text>`);
  }
  parts.push(`<line class="axis" x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}"/>`);
  parts.push(`<text class="axis-label" x="${margin.left + plotW / 2}" y="${height - 4}" text-anchor="middle">${escapeXml(options.xLabel ?? 'step')}</text>`);
  finite.forEach((s, i) => {
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
    const d = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    parts.push(`<path class="series" data-series="${escapeXml(s.label)}" d="${d}" stroke="${colour}" fill="none" stroke-width="2"/>`);
    for (const [x, y] of s.points.length <= 200 ? s.points : []) {
      parts.push(
        `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${colour}"><title>${escapeXml(s.label)} · ${options.xLabel ?? 'step'} ${x}: ${formatNumber(y)}</title></circle>`,
      );
    }
  });
  if (finite.length > 1) {
    finite.forEach((s, i) => {
      const y = margin.top + 4 + i * 14;
      const x = margin.left + plotW - 150;
      parts.push(`<rect x="${x}" y="${y}" width="10" height="10" fill="${SERIES_COLOURS[i % SERIES_COLOURS.length]}"/>`);
      parts.push(`<text class="legend" x="${x + 14}" y="${y + 9}">${escapeXml(s.label.slice(0, 24))}</text>`);
    });
  }
  return `<svg class="chart" role="img" aria-label="${escapeXml(options.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${parts.join('')}</svg>`;
}
