/**
 * Latest values for the online store and bundle snapshots: per entity, the view row with the greatest event time
 * ≤ asOf. TTL is not applied here: the online reader applies it at request time, exactly as the offline join does.
 */
import type { ResolvedView } from '../../repo/index.ts';
import type { SqlContext } from './context.ts';
import { EVENT_TIME } from './view-sql.ts';

/** The SELECT of the latest row per entity: join keys, event_time, features (in spec order), sorted by keys. */
export function latestQuery(ctx: SqlContext, view: ResolvedView, table: string, asOfMs: number): string {
  const d = ctx.dialect;
  const keys = view.joinKeys.map((k) => d.ident(k)).join(', ');
  const columns = [...view.joinKeys, EVENT_TIME, ...view.features.map((f) => f.name)].map((c) => d.ident(c)).join(', ');
  return [
    `SELECT ${columns} FROM ${table}`,
    `WHERE ${d.ident(EVENT_TIME)} <= ${d.timestampFromMs(d.bigint(asOfMs))}`,
    `QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY ${d.ident(EVENT_TIME)} DESC) = 1`,
    `ORDER BY ${keys}`,
  ].join('\n');
}
