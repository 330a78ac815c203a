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
