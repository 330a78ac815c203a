/**
 * The brute-force oracle: the feature store's semantics (docs/feature-store.md) computed directly, one spine row
 * at a time, by scanning every event. Deliberately naive and independent of the engine's SQL: no partial
 * aggregates, no windows, no joins.
 */
import { featureColumn } from '@lockstep/sdk';
import type { ResolvedFeature, ResolvedRepo, ResolvedView } from '../../repo/index.ts';
import type { EventLog, Impression } from './fixtures.ts';

/** An event an aggregation may read: when it happened and the impression it belongs to. */
interface Event {
  t: number;
  imp: Impression;
}

export interface OracleEvents {
  source: Event[];
  /** One label event per impression with an attributed click, at the first attributed click's time. */
  label: Event[];
  /** impression_id → label (0/1). */
  labels: Map<number, number>;
}

export function oracleEvents(repo: ResolvedRepo, log: EventLog): OracleEvents {
  const byId = new Map(log.impressions.map((i) => [i.impression_id, i]));
  const first = new Map<number, number>();
  for (const c of log.clicks) {
    const imp = byId.get(c.impression_id);
    if (!imp) continue;
    const delay = c.click_ts - imp.ts;
    if (delay < 0 || delay > repo.labels.windowMs) continue;
    const prev = first.get(c.impression_id);
    if (prev === undefined || c.click_ts < prev) first.set(c.impression_id, c.click_ts);
  }
  return {
    source: log.impressions.map((imp) => ({ t: imp.ts, imp })),
    label: [...first].map(([id, t]) => ({ t, imp: byId.get(id)! })),
    labels: new Map(log.impressions.map((i) => [i.impression_id, first.has(i.impression_id) ? 1 : 0])),
  };
}

const tickOf = (t: number, interval: number) => Math.floor(t / interval) * interval + interval;

/** The view's features for one entity at spine time `t`, keyed `<view>__<feature>`. */
export function oracleRow(
  view: ResolvedView,
  events: OracleEvents,
  keys: ReadonlyArray<unknown>,
  t: number,
): Record<string, number | null> {
  const matches = (e: Event) =>
    view.keyColumns.every((col, i) => {
      const v = (e.imp as unknown as Record<string, unknown>)[col];
      return v !== null && v !== undefined && keys[i] !== null && keys[i] !== undefined && v === keys[i];
    });
  const source = events.source.filter(matches);
  const label = view.usesLabels ? events.label.filter(matches) : [];

  // The rows that exist: one per tick holding at least one event of the view.
  let T: number | undefined;
  for (const e of [...source, ...label]) {
    const tick = tickOf(e.t, view.intervalMs);
    if (tick <= t - view.lagMs && (T === undefined || tick > T)) T = tick;
  }
  const out: Record<string, number | null> = {};
  for (const f of view.features) {
    const col = featureColumn(view.name, f.name);
    if (T === undefined || !(t - T < view.ttlMs)) {
      out[col] = f.default;
      continue;
    }
    const value = aggregate(f, T, source, label);
    out[col] = value === null ? f.default : value;
  }
  return out;
}

function aggregate(f: ResolvedFeature, T: number, source: Event[], label: Event[]): number | null {
  const inWindow = (e: Event) => e.t < T && (f.windowMs === null || e.t >= T - f.windowMs);
  const src = source.filter(inWindow);
  const lab = label.filter(inWindow);
  const pick = f.events === 'label' ? lab : src;
  const values = () => pick.map((e) => (e.imp as unknown as Record<string, number | null>)[f.column!]).filter((v): v is number => v !== null);
  switch (f.fn) {
    case 'count':
      return pick.length;
    case 'sum':
      return values().reduce((a, b) => a + b, 0);
    case 'mean': {
      const v = values();
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
    }
    case 'ctr': {
      const denominator = src.length + f.strength!;
      return denominator > 0 ? (lab.length + f.prior! * f.strength!) / denominator : null;
    }
    case 'last_seen':
      return pick.length ? Math.max(...pick.map((e) => e.t)) : null;
  }
}
