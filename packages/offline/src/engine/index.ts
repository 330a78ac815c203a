/**
 * @module
 * The offline engine: SQL generation (pure, behind the SqlDialect seam) and its DuckDB execution, wrapped in the
 * FeatureStore API.
 */
export * from './feature-store.ts';
export * from './jobs.ts';
export * from './progress.ts';
export * from './time.ts';
export * from './source-files.ts';
export * from './duckdb/executor.ts';
export { resultToRecordBatches } from './duckdb/arrow.ts';
export type { SqlDialect, AsofJoin } from './sql/dialect.ts';
export { duckdbDialect } from './sql/duckdb-dialect.ts';
export { INTERNAL, tickOf, type SqlContext } from './sql/context.ts';
export { viewQuery, EVENT_TIME } from './sql/view-sql.ts';
export { labelTimesQuery, LABEL_KEY, LABEL_TIME } from './sql/label-sql.ts';
export { pointInTimeQuery, SPINE_ROW, SPINE_TIME, type PitLabel, type PitQueryOptions, type PitViewInput } from './sql/pit-sql.ts';
export { latestQuery } from './sql/latest-sql.ts';
