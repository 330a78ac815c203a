/**
 * The point-in-time join: for each spine row at time t and each view, the view row with the greatest event time
 * T ≤ t − lag for the row's entity; its values are used only when t − T < ttl (the SDK's isFresh), otherwise, or
 * when there is no such row or the value is null, the feature's default.
 */
import { featureColumn } from '@lockstep/sdk';
import type { ResolvedFeature, ResolvedView } from '../../repo/index.ts';
import { INTERNAL, type SqlContext } from './context.ts';
import { EVENT_TIME } from './view-sql.ts';

/** The spine's time in epoch ms and its original row order, added to the spine relation. */
export const SPINE_TIME = `${INTERNAL}t`;
export const SPINE_ROW = `${INTERNAL}row`;

export interface PitViewInput {
  view: ResolvedView;
  /** A relation expression holding the view's table (e.g. a read_parquet scan of it). */
  table: string;
  /** The features wanted from it, in output order. */
  features: ResolvedFeature[];
  /** The spine columns holding the view's join keys, in joinKeys order. */
  keyFields: string[];
}

export interface PitQueryOptions {
  /** A relation expression for the spine. */
  spine: string;
  /** The spine columns to output, in order (all of them, usually). */
  spineColumns: string[];
  /** SQL giving the spine row's time in epoch ms (BIGINT), over the spine's columns. */
  spineTimeMs: string;
  views: PitViewInput[];
  /**
   * Output order: 'spine' keeps the spine's row order; a list of spine columns sorts by them (ties in spine order).
   * @default 'spine'
   */
  orderBy?: 'spine' | string[];
}

/**
 * The point-in-time join as one SELECT: the spine's columns, then `<view>__<feature>` for each requested feature,
 * as DOUBLE. Views are joined one after the other, each an as-of join on (keys, time) against the view's rows
 * shifted by the lag: a row computed at T is available from T + lag, so `t ≥ T + lag` ⇔ `T ≤ t − lag`.
 */
export function pointInTimeQuery(ctx: SqlContext, opts: PitQueryOptions): string {
  const d = ctx.dialect;
  const ctes: string[] = [
    `${INTERNAL}j0 AS (SELECT *, ${opts.spineTimeMs} AS ${SPINE_TIME}, row_number() OVER () AS ${SPINE_ROW} FROM ${opts.spine})`,
  ];
  const carried: string[] = []; // internal columns added by earlier joins
  const finals: string[] = [];
  opts.views.forEach((input, i) => {
    const { view } = input;
    const rel = `${INTERNAL}v${i}`;
    const et = `${INTERNAL}et${i}`;
    const avail = `${INTERNAL}avail`;
    const cols = input.features.map((f) => ({ f, alias: `${INTERNAL}f${i}_${f.name}` }));
    ctes.push(
      `${rel} AS (SELECT ${view.joinKeys.map((k, j) => `${d.ident(k)} AS ${INTERNAL}k${j}`).join(', ')}, ` +
        `${d.epochMs(d.ident(EVENT_TIME))} AS ${et}, ${d.epochMs(d.ident(EVENT_TIME))} + ${view.lagMs} AS ${avail}, ` +
        `${cols.map(({ f, alias }) => `${d.ident(f.name)} AS ${alias}`).join(', ')} FROM ${input.table})`,
    );
    ctes.push(
      `${INTERNAL}j${i + 1} AS (` +
        d.asofLeftJoin({
          left: `${INTERNAL}j${i}`,
          leftAlias: 's',
          right: rel,
          rightAlias: 'v',
          keys: input.keyFields.map((k, j) => [`s.${d.ident(k)}`, `v.${INTERNAL}k${j}`] as [string, string]),
          leftTime: `s.${SPINE_TIME}`,
          rightTime: `v.${avail}`,
          select: ['s.*', `v.${et}`, ...cols.map(({ alias }) => `v.${alias}`)],
        }) +
        ')',
    );
    carried.push(et, ...cols.map((c) => c.alias));
    for (const { f, alias } of cols) {
      const dflt = f.default === null ? 'NULL' : d.double(f.default);
      const fresh = `${SPINE_TIME} - ${et} < ${view.ttlMs}`;
      const value = f.default === null ? alias : `coalesce(${alias}, ${dflt})`;
      finals.push(`CAST(CASE WHEN ${fresh} THEN ${value} ELSE ${dflt} END AS DOUBLE) AS ${d.ident(featureColumn(view.name, f.name))}`);
    }
  });
  const last = `${INTERNAL}j${opts.views.length}`;
  const order = opts.orderBy ?? 'spine';
  const orderBy = order === 'spine' ? SPINE_ROW : [...order.map((c) => d.ident(c)), SPINE_ROW].join(', ');
  return [
    `WITH ${ctes.join(',\n')}`,
    `SELECT ${[...opts.spineColumns.map((c) => d.ident(c)), ...finals].join(', ')}`,
    `FROM ${last}`,
    `ORDER BY ${orderBy}`,
  ].join('\n');
}
