/**
 * The SQL dialect seam. Query generation (view-sql.ts, label-sql.ts, pit-sql.ts, latest-sql.ts) is pure: resolved
 * definitions in, SQL text out, with every engine-specific construct asked of a SqlDialect. DuckDB is the one
 * implemented; a distributed engine (Spark SQL) adds a dialect and an executor, nothing else. The constructs are
 * few on purpose: scans, epoch-millisecond conversions, literals, the point-in-time join and COPY.
 */

export interface SqlDialect {
  readonly name: string;
  /** A quoted identifier. */
  ident(name: string): string;
  /** A string literal. */
  string(value: string): string;
  /** A DOUBLE literal that parses back to exactly `value` (plain `0.1` is a DECIMAL in some engines). */
  double(value: number): string;
  /** A BIGINT literal. */
  bigint(value: number): string;
  /** A relation expression reading a file (or glob) of the given format. */
  scan(path: string, format: 'parquet' | 'csv'): string;
  /** A relation expression reading several Parquet files as one, in the given order. */
  scanFiles(paths: string[]): string;
  /** Epoch milliseconds (BIGINT) of a timestamp expression. */
  epochMs(timestamp: string): string;
  /** A TIMESTAMP from an epoch-millisecond BIGINT expression. */
  timestampFromMs(ms: string): string;
  /**
   * Epoch milliseconds (BIGINT) of a column that may be a timestamp or a number of epoch milliseconds, given the
   * column's type name as the engine reports it.
   */
  epochMsOfType(column: string, typeName: string): string;
  /**
   * A left point-in-time join: every row of `left` with the columns `select` of the row of `right` that has the
   * greatest `rightTime` ≤ `leftTime` among rows with equal keys (NULLs when there is none).
   */
  asofLeftJoin(join: AsofJoin): string;
  /** An expression that fails the query with `message` when evaluated. */
  raiseError(message: string): string;
  /**
   * A FROM clause pairing the i-th row of `left` with the i-th row of `right` (both relations in a defined order),
   * aliased `w` and `n`. Engines without positional joins join on `rowColumn`, present in both.
   */
  positionalJoin(left: string, right: string, rowColumn: string): string;
  /** A statement writing a query's result to a Parquet file. */
  copyToParquet(query: string, path: string): string;
}

export interface AsofJoin {
  /** Left relation (a CTE name) and its alias. */
  left: string;
  leftAlias: string;
  /** Right relation (a CTE name) and its alias. */
  right: string;
  rightAlias: string;
  /** Pairs of [left expression, right expression] that must be equal. */
  keys: Array<[string, string]>;
  /** Left time expression; the right row must have rightTime ≤ leftTime. */
  leftTime: string;
  rightTime: string;
  /** The select list (expressions with aliases). */
  select: string[];
}
