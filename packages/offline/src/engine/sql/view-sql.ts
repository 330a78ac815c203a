/**
 * The query computing one feature view's table: one row per (entity, tick T) in which the entity had at least one
 * event, `event_time` = T, and every feature aggregated over the entity's events in [T − window, T).
 *
 * It runs in three steps so the window functions see far fewer rows than there are events:
 *   1. events: the source's rows (and, when the view reads them, label events at click time) with their time;
 *   2. parts: per (entity, tick) partial aggregates (counts, sums, max time), each event in exactly one tick;
 *   3. windows: sums/maxes of the partials over RANGE frames of tick values: ticks T' in (T − window, T].
 */
import type { ResolvedFeature, ResolvedView } from '../../repo/index.ts';
import { INTERNAL, tickOf, type SqlContext } from './context.ts';
import { LABEL_KEY, LABEL_TIME, labelTimesQuery } from './label-sql.ts';

/** The view table's time column (a TIMESTAMP, = the tick). */
export const EVENT_TIME = 'event_time';

const T = `${INTERNAL}t`;
const IS_SOURCE = `${INTERNAL}src`;
const TICK = `${INTERNAL}tick`;

/**
 * The SELECT computing a view's table: join keys (named as the entity's), `event_time`, then the features in
 * definition order, all DOUBLE. `labelTimes` names a relation holding labelTimesQuery's result; without it the
 * label times are computed inline (only when the view reads label events).
 */
export function viewQuery(ctx: SqlContext, view: ResolvedView, labelTimes?: string): string {
  const { dialect: d, repo } = ctx;
  const src = repo.sources[view.source];
  const keys = view.joinKeys.map((k) => d.ident(k));
  const keyList = keys.join(', ');

  // Step 1: the columns each event carries.
  const valueColumns = [...new Set(view.features.flatMap((f) => (f.column ? [f.column] : [])))];
  const valueAlias = (column: string) => `${INTERNAL}c${valueColumns.indexOf(column)}`;
  const srcSelect = [
    ...view.keyColumns.map((c, i) => `${d.ident(c)} AS ${keys[i]}`),
    `${d.epochMs(d.ident(src.timestampField!))} AS ${T}`,
    ...valueColumns.map((c) => `CAST(${d.ident(c)} AS DOUBLE) AS ${valueAlias(c)}`),
    ...(view.usesLabels ? [`${d.ident(repo.labels.key)} AS ${LABEL_KEY}`] : []),
  ];
  // Rows without keys or time can never be joined to anything: drop them here.
  const notNull = [...view.keyColumns, src.timestampField!].map((c) => `${d.ident(c)} IS NOT NULL`).join(' AND ');
  const eventColumns = [keyList, T, ...valueColumns.map(valueAlias)].join(', ');
  const ctes = [`${INTERNAL}source AS (SELECT ${srcSelect.join(', ')} FROM ${ctx.source(view.source)} WHERE ${notNull})`];
  if (view.usesLabels) {
    ctes.push(
      `${INTERNAL}events AS (` +
        `SELECT ${eventColumns}, true AS ${IS_SOURCE} FROM ${INTERNAL}source UNION ALL ` +
        `SELECT ${keys.map((k) => `s.${k}`).join(', ')}, l.${LABEL_TIME} AS ${T}, ` +
        `${valueColumns.map((c) => `s.${valueAlias(c)}`).concat('false').join(', ')} ` +
        `FROM ${INTERNAL}source AS s JOIN ${labelTimes ?? `(${labelTimesQuery(ctx)})`} AS l ON s.${LABEL_KEY} = l.${LABEL_KEY})`,
    );
  }
  const events = view.usesLabels ? `${INTERNAL}events` : `${INTERNAL}source`;

  // Step 2: partial aggregates per (entity, tick); only those some feature needs.
  const parts = new Map<string, string>();
  const part = (name: string, expr: string) => {
    const alias = `${INTERNAL}p_${name}`;
    if (!parts.has(alias)) parts.set(alias, `${expr} AS ${alias}`);
    return alias;
  };
  const filter = (events: 'source' | 'label') =>
    view.usesLabels ? ` FILTER (WHERE ${events === 'source' ? '' : 'NOT '}${IS_SOURCE})` : '';
  const count = (ev: 'source' | 'label') => part(`n_${ev}`, `CAST(count(*)${filter(ev)} AS DOUBLE)`);
  const maxTime = (ev: 'source' | 'label') => part(`max_${ev}`, `CAST(max(${T})${filter(ev)} AS DOUBLE)`);
  const sum = (ev: 'source' | 'label', c: string) => part(`sum_${ev}_${valueAlias(c)}`, `sum(${valueAlias(c)})${filter(ev)}`);
  const nonNull = (ev: 'source' | 'label', c: string) =>
    part(`k_${ev}_${valueAlias(c)}`, `CAST(count(${valueAlias(c)})${filter(ev)} AS DOUBLE)`);

  // Step 3: windowed aggregates of the partials, deduplicated (ctr_7d and impressions_7d share one sum).
  const windows = new Map<string, string>(); // frame name → definition
  const frameOf = (f: ResolvedFeature): string | null => {
    if (f.windowMs === view.intervalMs) return null; // the current tick alone: no window function needed
    const name = `w_${f.windowMs ?? 'all'}`;
    if (!windows.has(name)) {
      const range =
        f.windowMs === null
          ? 'ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW'
          : `RANGE BETWEEN ${f.windowMs - view.intervalMs} PRECEDING AND CURRENT ROW`;
      windows.set(name, `${name} AS (PARTITION BY ${keyList} ORDER BY ${TICK} ${range})`);
    }
    return name;
  };
  const aggregates = new Map<string, string>(); // expression → alias
  const windowed = (fn: 'sum' | 'max', partial: string, frame: string | null): string => {
    const expr = frame === null ? partial : `${fn}(${partial}) OVER ${frame}`;
    let alias = aggregates.get(expr);
    if (!alias) {
      alias = `${INTERNAL}a${aggregates.size}`;
      aggregates.set(expr, alias);
    }
    return alias;
  };

  const features = view.features.map((f) => {
    const frame = frameOf(f);
    let expr: string;
    switch (f.fn) {
      case 'count':
        expr = `coalesce(${windowed('sum', count(f.events), frame)}, 0)`;
        break;
      case 'sum':
        expr = `coalesce(${windowed('sum', sum(f.events, f.column!), frame)}, 0)`;
        break;
      case 'mean': {
        const n = windowed('sum', nonNull(f.events, f.column!), frame);
        expr = `CASE WHEN ${n} > 0 THEN ${windowed('sum', sum(f.events, f.column!), frame)} / ${n} END`;
        break;
      }
      case 'ctr': {
        const clicks = `coalesce(${windowed('sum', count('label'), frame)}, 0)`;
        const shown = `coalesce(${windowed('sum', count('source'), frame)}, 0)`;
        // (clicks + prior × strength) / (impressions + strength); prior × strength is folded here, in JS, so the
        // oracle test can compute the identical double.
        const numerator = `${clicks} + ${d.double(f.prior! * f.strength!)}`;
        const denominator = `${shown} + ${d.double(f.strength!)}`;
        expr = `CASE WHEN ${denominator} > 0 THEN (${numerator}) / (${denominator}) END`;
        break;
      }
      case 'last_seen':
        expr = windowed('max', maxTime(f.events), frame);
        break;
    }
    return `CAST(${expr} AS DOUBLE) AS ${d.ident(f.name)}`;
  });

  ctes.push(
    `${INTERNAL}parts AS (SELECT ${keyList}, ${tickOf(T, view.intervalMs)} AS ${TICK}, ${[...parts.values()].join(', ')} ` +
      `FROM ${events} GROUP BY ALL)`,
  );
  const windowSelect = [...aggregates].map(([expr, alias]) => `${expr} AS ${alias}`);
  ctes.push(
    `${INTERNAL}windows AS (SELECT ${keyList}, ${TICK}, ${windowSelect.join(', ')} FROM ${INTERNAL}parts` +
      (windows.size ? ` WINDOW ${[...windows.values()].join(', ')}` : '') +
      ')',
  );
  return [
    `WITH ${ctes.join(',\n')}`,
    `SELECT ${keyList}, ${d.timestampFromMs(TICK)} AS ${d.ident(EVENT_TIME)}, ${features.join(', ')}`,
    `FROM ${INTERNAL}windows`,
  ].join('\n');
}
