/**
 * Labels: which labelled rows (impressions) have an attributed event (click), and when the first one happened.
 * Used for training-set labels and, at click time, as the label events that ctr and `events: 'label'` count.
 */
import { INTERNAL, type SqlContext } from './context.ts';

/** Column names of {@link labelTimesQuery}'s result. */
export const LABEL_KEY = `${INTERNAL}key`;
export const LABEL_TIME = `${INTERNAL}label_ms`;

/**
 * One row per labelled key with at least one attributed event: (key, time of the first event with
 * 0 ≤ event time − row time ≤ window), times in epoch ms.
 */
export function labelTimesQuery(ctx: SqlContext): string {
  const { dialect: d, repo } = ctx;
  const lab = repo.labels;
  const rowTs = repo.sources[lab.source].timestampField!;
  const eventTs = repo.sources[lab.events].timestampField!;
  const key = d.ident(lab.key);
  return [
    `SELECT e.${LABEL_KEY}, min(e.t) AS ${LABEL_TIME}`,
    `FROM (SELECT ${key} AS ${LABEL_KEY}, ${d.epochMs(d.ident(eventTs))} AS t FROM ${ctx.source(lab.events)}) AS e`,
    `JOIN (SELECT ${key} AS ${LABEL_KEY}, ${d.epochMs(d.ident(rowTs))} AS t FROM ${ctx.source(lab.source)}) AS r`,
    `ON e.${LABEL_KEY} = r.${LABEL_KEY}`,
    `WHERE e.t >= r.t AND e.t - r.t <= ${lab.windowMs}`,
    `GROUP BY e.${LABEL_KEY}`,
  ].join('\n');
}

export interface TrainingSpineOptions {
  /** Rows with start ≤ time < end (epoch ms). */
  startMs: number;
  endMs: number;
  /** Columns of the labelled source to keep besides its key and timestamp (request fields, entity key fields). */
  columns: string[];
}

/**
 * The spine of a training set: labelled rows in [start, end) with their key, timestamp, the given columns and the
 * label (INTEGER 0/1). `labelTimes` names a relation holding {@link labelTimesQuery}'s result.
 */
export function trainingSpineQuery(ctx: SqlContext, labelTimes: string, opts: TrainingSpineOptions): string {
  const { dialect: d, repo } = ctx;
  const lab = repo.labels;
  const ts = repo.sources[lab.source].timestampField!;
  const keep = [lab.key, ts, ...opts.columns.filter((c) => c !== lab.key && c !== ts)];
  return [
    `SELECT ${keep.map((c) => `r.${d.ident(c)}`).join(', ')},`,
    `  CAST(CASE WHEN l.${LABEL_TIME} IS NULL THEN 0 ELSE 1 END AS INTEGER) AS ${d.ident(lab.name)}`,
    `FROM ${ctx.source(lab.source)} AS r LEFT JOIN ${labelTimes} AS l ON r.${d.ident(lab.key)} = l.${LABEL_KEY}`,
    `WHERE r.${d.ident(ts)} >= ${d.timestampFromMs(d.bigint(opts.startMs))} AND r.${d.ident(ts)} < ${d.timestampFromMs(d.bigint(opts.endMs))}`,
  ].join('\n');
}
