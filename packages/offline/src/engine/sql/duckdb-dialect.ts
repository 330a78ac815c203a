/** DuckDB's SQL: read_parquet/read_csv scans, epoch_ms, ASOF JOIN and COPY … (FORMAT parquet, COMPRESSION zstd). */
import type { AsofJoin, SqlDialect } from './dialect.ts';

export const duckdbDialect: SqlDialect = {
  name: 'duckdb',
  ident: (name) => `"${name.replace(/"/g, '""')}"`,
  string: (value) => `'${value.replace(/'/g, "''")}'`,
  double(value) {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    // JS prints the shortest text that round-trips; DuckDB parses strings to DOUBLE correctly rounded.
    return `CAST('${String(value)}' AS DOUBLE)`;
  },
  bigint(value) {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
    return `CAST(${value} AS BIGINT)`;
  },
  scan(path, format) {
    const p = duckdbDialect.string(path);
    return format === 'csv' ? `read_csv(${p}, header = true, auto_detect = true)` : `read_parquet(${p})`;
  },
  scanFiles: (paths) => `read_parquet([${paths.map((p) => duckdbDialect.string(p)).join(', ')}])`,
  epochMs: (timestamp) => `epoch_ms(${timestamp})`,
  timestampFromMs: (ms) => `epoch_ms(${ms})`,
  epochMsOfType(column, typeName) {
    const t = typeName.toUpperCase();
    if (t.startsWith('TIMESTAMP') || t === 'DATE') return `epoch_ms(CAST(${column} AS TIMESTAMP))`;
    if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/.test(t)) {
      return `CAST(${column} AS BIGINT)`;
    }
    // Strings and anything else: let DuckDB parse it as a timestamp (fails clearly on garbage).
    return `epoch_ms(CAST(${column} AS TIMESTAMP))`;
  },
  asofLeftJoin(j: AsofJoin) {
    const on = [...j.keys.map(([l, r]) => `${l} = ${r}`), `${j.leftTime} >= ${j.rightTime}`].join(' AND ');
    return `SELECT ${j.select.join(', ')} FROM ${j.left} AS ${j.leftAlias} ASOF LEFT JOIN ${j.right} AS ${j.rightAlias} ON ${on}`;
  },
  raiseError: (message) => `error(${duckdbDialect.string(message)})`,
  positionalJoin: (left, right) => `${left} AS w POSITIONAL JOIN ${right} AS n`,
  copyToParquet: (query, path) =>
    `COPY (${query}) TO ${duckdbDialect.string(path)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`,
};
