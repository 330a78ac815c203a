/**
 * Lazy query jobs (Feast's RetrievalJob): nothing runs until a result is asked for, and then the result goes
 * straight to where it is wanted: an Arrow table, a stream of record batches or a Parquet file.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { RecordBatch, Table } from 'apache-arrow';
import type { ResolvedView } from '../repo/index.ts';
import type { DuckDBExecutor } from './duckdb/executor.ts';
import type { SqlContext } from './sql/context.ts';
import type { SqlDialect } from './sql/dialect.ts';
import { latestQuery } from './sql/latest-sql.ts';

/** A spine: a Parquet or CSV path, the name of a table in the store's DuckDB, or an Arrow table. */
export type SpineInput = string | Table;

abstract class QueryJob {
  private query: Promise<string> | undefined;

  protected constructor(
    protected readonly executor: DuckDBExecutor,
    protected readonly dialect: SqlDialect,
  ) {}

  protected abstract build(): Promise<string>;

  /** The SQL the job runs (view tables it needs are built when this is first asked for). */
  sql(): Promise<string> {
    this.query ??= this.build();
    return this.query;
  }

  /** The whole result as one Arrow table. For large results prefer toParquet or batches. */
  async toArrow(): Promise<Table> {
    return this.executor.arrow(await this.sql());
  }

  /** The result as a stream of Arrow record batches of about `batchRows` rows. */
  async *batches(batchRows = 65_536): AsyncGenerator<RecordBatch> {
    yield* this.executor.batches(await this.sql(), batchRows);
  }

  /** Writes the result to a Parquet file (zstd) and returns the number of rows written. */
  async toParquet(path: string): Promise<number> {
    const out = resolve(path);
    await mkdir(dirname(out), { recursive: true });
    const query = await this.sql();
    return this.executor.run(this.dialect.copyToParquet(query, out));
  }
}

/** The result of getHistoricalFeatures: the spine's columns followed by `<view>__<feature>` columns. */
export class HistoricalFeaturesJob extends QueryJob {
  constructor(
    executor: DuckDBExecutor,
    dialect: SqlDialect,
    private readonly make: () => Promise<string>,
    private readonly write?: (path: string) => Promise<number>,
  ) {
    super(executor, dialect);
  }

  protected build(): Promise<string> {
    return this.make();
  }

  /** Writes the result to a Parquet file (zstd), joining a large spine in chunks; returns the rows written. */
  override async toParquet(path: string): Promise<number> {
    if (!this.write) return super.toParquet(path);
    const out = resolve(path);
    await mkdir(dirname(out), { recursive: true });
    return this.write(out);
  }
}

/** The result of latestFeatures: per entity its join keys, event_time and features, sorted by keys. */
export class LatestFeaturesJob extends QueryJob {
  constructor(
    executor: DuckDBExecutor,
    private readonly ctx: SqlContext,
    readonly view: ResolvedView,
    readonly asOfMs: number,
    private readonly table: () => Promise<string>,
  ) {
    super(executor, ctx.dialect);
  }

  protected async build(): Promise<string> {
    return latestQuery(this.ctx, this.view, await this.table(), this.asOfMs);
  }
}
