/**
 * A small dependency-free SVG line chart for the training report: axes with ticks, several series (lines and/or
 * markers, optional vertical error bars) and a legend. Enough for ROC, reliability and learning curves.
 */

export interface Series {
  name: string;
  points: Array<[number, number]>;
  color: string;
  /** Draw the line dashed (reference curves). */
  dashed?: boolean;
  /** Draw a dot at each point. @default false */
  markers?: boolean;
  /** Draw no line, markers only. @default false */
  noLine?: boolean;
  /** Per point [low, high] of a vertical error bar. */
  errors?: Array<[number, number]>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Axis ranges. @default the data's range */
  x?: [number, number];
  y?: [number, number];
  width?: number;
  height?: number;
}

const M = { left: 62, right: 16, top: 30, bottom: 46 };
/** Clip-path ids must be unique within the page that inlines several charts. */
let chartCount = 0;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(v / 1e3).toPrecision(3)}k`;
  return Number(v.toPrecision(3)).toString();
}

function extent(values: number[], fallback: [number, number]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return fallback;
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.05 || 0.5;
    hi += Math.abs(hi) * 0.05 || 0.5;
  }
  return [lo, hi];
}

export function lineChart(options: ChartOptions): string {
  const W = options.width ?? 420;
  const H = options.height ?? 320;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const all = options.series.flatMap((s) => s.points);
  const errs = options.series.flatMap((s) => s.errors ?? []).flat();
  const [x0, x1] = options.x ?? extent(all.map((p) => p[0]), [0, 1]);
  const [y0, y1] = options.y ?? extent([...all.map((p) => p[1]), ...errs], [0, 1]);
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => M.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const clip = `lockstep-plot-${++chartCount}`;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(options.title)}" font-family="system-ui, sans-serif" font-size="11">`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(options.title)}</text>`);
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of ticks(x0, x1)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/><text x="${x}" y="${M.top + ph + 14}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  parts.push(`<clipPath id="${clip}"><rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}"/></clipPath><g clip-path="url(#${clip})">`);
  for (const s of options.series) {
    if (!s.noLine && s.points.length > 1) {
      const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    }
    s.errors?.forEach(([lo, hi], i) => {
      const x = sx(s.points[i][0]).toFixed(1);
      parts.push(`<line x1="${x}" x2="${x}" y1="${sy(lo).toFixed(1)}" y2="${sy(hi).toFixed(1)}" stroke="${s.color}" stroke-opacity="0.6"/>`);
    });
    if (s.markers || s.noLine) for (const p of s.points) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  parts.push('</g>');
  options.series.forEach((s, i) => {
    const y = M.top + 12 + i * 15;
    parts.push(
      `<line x1="${M.left + 8}" x2="${M.left + 28}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>` +
        `<text x="${M.left + 33}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
