/**
 * The point-in-time join: for each spine row at time t and each view, the view row with the greatest event time
 * T ≤ t − lag for the row's entity; its values are used only when t − T < ttl (the SDK's isFresh), otherwise, or
 * when there is no such row or the value is null, the feature's default.
 *
 * Shape of the query, chosen so wide rows (strings, many columns) are never sorted or hashed:
 *   narrow: (row number, time, join keys) of the spine → one as-of join per view, each adding that view's event
 *           time and features → (optionally the label, by key) → sorted by row number;
 *   wide:   the spine's own columns, scanned again in the same order with the same row numbers;
 *   output: wide POSITIONAL JOIN narrow, checked row by row (a misalignment raises an error, never wrong data).
 */
import { featureColumn } from '@lockstep/sdk';
import type { ResolvedFeature, ResolvedView } from '../../repo/index.ts';
import { INTERNAL, type SqlContext } from './context.ts';
import { LABEL_KEY, LABEL_TIME } from './label-sql.ts';
import { EVENT_TIME } from './view-sql.ts';

/** The spine's time in epoch ms and its row number, added to the spine relation. */
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

export interface PitLabel {
  /** The spine column holding the labelled key. */
  keyField: string;
  /** A relation holding labelTimesQuery's result. */
  labelTimes: string;
  /** The label column's name (INTEGER 0/1), output after the spine columns. */
  name: string;
}

export interface PitQueryOptions {
  /** A relation expression for the spine: a scan or a table, read twice in the same order. */
  spine: string;
  /** The spine columns to output, in order (all of them, usually). */
  spineColumns: string[];
  /** SQL giving the spine row's time in epoch ms (BIGINT), over the spine's columns. */
  spineTimeMs: string;
  /** The spine columns `spineTimeMs` reads. */
  spineTimeColumns: string[];
  /** A SQL condition on the spine's columns restricting its rows (before they are numbered). */
  spineFilter?: string;
  /** A relation already holding pitNarrowSpineQuery's rows (e.g. a temporary table shared by every chunk). */
  narrowSpine?: string;
  /** Only rows numbered in [from, to) (1-based, in the spine's order): one chunk of a large spine. */
  rowRange?: { from: number; to: number };
  /**
   * The chunk's rows have times in [startMs, endMs]: view rows that cannot matter to them (older than
   * startMs − ttl, or later than endMs − lag) are skipped, so a chunk reads only its part of each view.
   */
  timeBounds?: { startMs: number; endMs: number };
  views: PitViewInput[];
  /** Adds the label (by the spine's key, from label times), for training sets. */
  label?: PitLabel;
}

/** The spine's rows, numbered in the spine's order, with only the given columns. */
function numberedSpine(ctx: SqlContext, opts: PitQueryOptions, columns: string[]): string {
  const d = ctx.dialect;
  const where = opts.spineFilter ? ` WHERE ${opts.spineFilter}` : '';
  return `SELECT ${columns.map((c) => d.ident(c)).join(', ')}, row_number() OVER () AS ${SPINE_ROW} FROM ${opts.spine}${where}`;
}

/** The spine columns the narrow side reads: every join key field, the label key and the time columns. */
function pitKeyFields(opts: PitQueryOptions): string[] {
  return [...new Set(opts.views.flatMap((v) => v.keyFields).concat(opts.label ? [opts.label.keyField] : []))];
}

/** The narrow spine: the rows numbered in the spine's order, with only the columns the joins need. */
export function pitNarrowSpineQuery(ctx: SqlContext, opts: PitQueryOptions): string {
  return numberedSpine(ctx, opts, [...new Set([...pitKeyFields(opts), ...opts.spineTimeColumns])]);
}

/** The output feature columns, in order. */
export function pitFeatureColumns(opts: Pick<PitQueryOptions, 'views'>): string[] {
  return opts.views.flatMap((v) => v.features.map((f) => featureColumn(v.view.name, f.name)));
}

/**
 * The narrow side of the join: `__ls_row`, then each feature's final value (TTL and defaults applied) as
 * `__ls_out<i>`, then `__ls_label` when asked, sorted by row number. With `rowRange`, only those rows.
 */
export function pitNarrowQuery(ctx: SqlContext, opts: PitQueryOptions): string {
  const d = ctx.dialect;
  const keyFields = pitKeyFields(opts);
  const narrowSpine = opts.narrowSpine ?? `(${pitNarrowSpineQuery(ctx, opts)})`;
  const range = opts.rowRange ? ` WHERE ${SPINE_ROW} >= ${opts.rowRange.from} AND ${SPINE_ROW} < ${opts.rowRange.to}` : '';
  // Narrow side: row number, time and every key field, then one as-of join per view.
  const ctes: string[] = [
    `${INTERNAL}j0 AS (SELECT ${SPINE_ROW}, ${opts.spineTimeMs} AS ${SPINE_TIME}, ${keyFields.map((k) => d.ident(k)).join(', ')} ` +
      `FROM ${narrowSpine}${range})`,
  ];
  // Each as-of join sorts its left side with everything joined so far: join the views with the fewest features
  // first, so the wide payload is sorted as rarely as possible. Outputs keep the requested order.
  const order = opts.views.map((_, i) => i).sort((a, b) => opts.views[a].features.length - opts.views[b].features.length);
  const joinedFinals: Array<Array<{ expr: string }>> = [];
  order.forEach((i, position) => {
    const input = opts.views[i];
    const { view } = input;
    const rel = `${INTERNAL}v${i}`;
    const et = `${INTERNAL}et${i}`;
    const avail = `${INTERNAL}avail`;
    const cols = input.features.map((f) => ({ f, alias: `${INTERNAL}f${i}_${f.name}` }));
    const bounds = opts.timeBounds
      ? ` WHERE ${d.ident(EVENT_TIME)} > ${d.timestampFromMs(d.bigint(opts.timeBounds.startMs - view.ttlMs))}` +
        ` AND ${d.ident(EVENT_TIME)} <= ${d.timestampFromMs(d.bigint(opts.timeBounds.endMs - view.lagMs))}`
      : '';
    ctes.push(
      `${rel} AS (SELECT ${view.joinKeys.map((k, j) => `${d.ident(k)} AS ${INTERNAL}k${j}`).join(', ')}, ` +
        `${d.epochMs(d.ident(EVENT_TIME))} AS ${et}, ${d.epochMs(d.ident(EVENT_TIME))} + ${view.lagMs} AS ${avail}, ` +
        `${cols.map(({ f, alias }) => `${d.ident(f.name)} AS ${alias}`).join(', ')} FROM ${input.table}${bounds})`,
    );
    ctes.push(
      `${INTERNAL}j${position + 1} AS (` +
        d.asofLeftJoin({
          left: `${INTERNAL}j${position}`,
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
    joinedFinals[i] = cols.map(({ f, alias }) => {
      const dflt = f.default === null ? 'NULL' : d.double(f.default);
      // Evaluated on the last join's output, aliased s.
      const fresh = `s.${SPINE_TIME} - s.${et} < ${view.ttlMs}`;
      const value = f.default === null ? `s.${alias}` : `coalesce(s.${alias}, ${dflt})`;
      return { expr: `CAST(CASE WHEN ${fresh} THEN ${value} ELSE ${dflt} END AS DOUBLE)` };
    });
  });
  const finals = joinedFinals.flat();
  // The narrow result: row number, every feature's final value and the label, so the sort by row number carries
  // only what is output.
  const last = `${INTERNAL}j${opts.views.length}`;
  const select = [`s.${SPINE_ROW}`, ...finals.map((f, i) => `${f.expr} AS ${INTERNAL}out${i}`)];
  let from = `${last} AS s`;
  if (opts.label) {
    const lab = opts.label;
    select.push(`CAST(CASE WHEN l.${LABEL_TIME} IS NULL THEN 0 ELSE 1 END AS INTEGER) AS ${INTERNAL}label`);
    from += ` LEFT JOIN ${lab.labelTimes} AS l ON s.${d.ident(lab.keyField)} = l.${LABEL_KEY}`;
  }
  return [`WITH ${ctes.join(',\n')}`, `SELECT ${select.join(', ')}`, `FROM ${from}`, `ORDER BY s.${SPINE_ROW}`].join('\n');
}

/**
 * The output: the spine's own columns (read again, numbered in the same order) joined positionally to `narrow`
 * (a relation holding pitNarrowQuery's rows for the whole spine, in row order), then the label if asked and
 * `<view>__<feature>` for each requested feature, as DOUBLE.
 */
export function pitOutputQuery(ctx: SqlContext, opts: PitQueryOptions, narrow: string): string {
  const d = ctx.dialect;
  // Misaligned rows would silently pair one row's spine values with another's features: check every row, in the
  // first feature's expression so the check cannot be optimised away.
  const check = `CASE WHEN w.${SPINE_ROW} <> n.${SPINE_ROW} THEN ${d.raiseError('point-in-time join: spine rows misaligned')} ELSE n.${INTERNAL}out0 END`;
  const features = pitFeatureColumns(opts).map((column, i) => `${i === 0 ? check : `n.${INTERNAL}out${i}`} AS ${d.ident(column)}`);
  const outputs = [
    ...opts.spineColumns.map((c) => `w.${d.ident(c)}`),
    ...(opts.label ? [`n.${INTERNAL}label AS ${d.ident(opts.label.name)}`] : []),
    ...features,
  ];
  return `SELECT ${outputs.join(', ')} FROM ${d.positionalJoin(`(${numberedSpine(ctx, opts, opts.spineColumns)})`, narrow, SPINE_ROW)}`;
}

/**
 * The point-in-time join as one SELECT: the spine's columns in the spine's order, the label if asked, then
 * `<view>__<feature>` for each requested feature, as DOUBLE.
 */
export function pointInTimeQuery(ctx: SqlContext, opts: PitQueryOptions): string {
  return pitOutputQuery(ctx, opts, `(${pitNarrowQuery(ctx, { ...opts, rowRange: undefined })})`);
}

/**
 * Chunks of a large spine: consecutive runs of `chunkRows` rows in the spine's order, each with its time range
 * (so each chunk's join reads only the view rows it can use). Columns: c (0-based), lo and hi (epoch ms), n.
 */
export function pitChunksQuery(ctx: SqlContext, opts: PitQueryOptions, chunkRows: number): string {
  const narrowSpine = opts.narrowSpine ?? `(${pitNarrowSpineQuery(ctx, opts)})`;
  return (
    `SELECT (${SPINE_ROW} - 1) // ${chunkRows} AS c, min(t) AS lo, max(t) AS hi, count(*) AS n ` +
    `FROM (SELECT ${SPINE_ROW}, ${opts.spineTimeMs} AS t FROM ${narrowSpine}) GROUP BY c ORDER BY c`
  );
}
