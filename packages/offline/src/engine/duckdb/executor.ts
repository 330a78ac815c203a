/**
 * Runs generated SQL on an embedded DuckDB: one database and connection per executor, with a memory limit (DuckDB
 * spills to `tempDirectory` rather than running out of memory), a thread count, progress reporting, results as
 * Arrow, and Arrow tables loaded as temporary tables.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBTimestampValue,
  type DuckDBAppender,
} from '@duckdb/node-api';
import { Table, Type, type DataType, type RecordBatch } from 'apache-arrow';
import { EngineError, InputError } from '@lockstep/sdk';
import { resultToRecordBatches } from './arrow.ts';

export interface DuckDBExecutorOptions {
  /** DuckDB's memory limit; past it, operators spill to `tempDirectory`. @default '2.5GB' (the process stays under 4 GiB of RSS at 10M impressions) */
  memoryLimit?: string;
  /** Worker threads. @default 2 */
  threads?: number;
  /** Where DuckDB spills. @default `<os tmpdir>/lockstep-duckdb` */
  tempDirectory?: string;
  /** A database file to keep tables in. @default in-memory */
  databasePath?: string;
}

/** Progress of one statement: a fraction in [0, 1], or -1 while DuckDB cannot estimate it. */
export type QueryProgressListener = (fraction: number) => void;

/** Column name and DuckDB type name. */
export interface ColumnInfo {
  name: string;
  type: string;
}

export class DuckDBExecutor {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(options: DuckDBExecutorOptions = {}): Promise<DuckDBExecutor> {
    const tempDirectory = options.tempDirectory ?? join(tmpdir(), 'lockstep-duckdb');
    mkdirSync(tempDirectory, { recursive: true });
    try {
      const instance = await DuckDBInstance.create(options.databasePath ?? ':memory:', {
        memory_limit: options.memoryLimit ?? '2.5GB',
        threads: String(options.threads ?? 2),
        temp_directory: tempDirectory,
      });
      const connection = await instance.connect();
      // Needed for query progress; printing it is ours to do (on stderr, through cli-progress).
      await connection.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
      return new DuckDBExecutor(instance, connection);
    } catch (err) {
      // DuckDB only says "Failed to set config" for a bad setting: name the one a user types.
      const memoryLimit = options.memoryLimit ?? '2.5GB';
      if (!MEMORY_LIMIT.test(memoryLimit.trim())) {
        throw new InputError(`invalid memory limit "${memoryLimit}": a number and a unit, e.g. "2.5GB", "512MB", "4GiB"`, 'memoryLimit', { cause: err });
      }
      throw new EngineError(`could not open DuckDB: ${messageOf(err)}`, { cause: err });
    }
  }

  /**
   * Runs statements, polling DuckDB's progress for `onProgress` while they run. Returns the rows changed (for
   * COPY: rows written).
   */
  async run(sql: string, onProgress?: QueryProgressListener): Promise<number> {
    const result = await this.withProgress(sql, onProgress, () => this.connection.run(sql));
    return result.rowsChanged;
  }

  /** Runs a query and returns its rows as plain objects (for small results: metadata, counts). */
  async rows<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const reader = await this.withProgress(sql, undefined, () => this.connection.runAndReadAll(sql));
    return reader.getRowObjectsJS() as T[];
  }

  /** The columns a relation expression or query would return, without running it. */
  async describe(relation: string): Promise<ColumnInfo[]> {
    const rows = await this.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${relation}`);
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  }

  /** Streams a query's result as Arrow record batches. */
  async *batches(sql: string, batchRows?: number): AsyncGenerator<RecordBatch> {
    const result = await this.withProgress(sql, undefined, () => this.connection.stream(sql));
    yield* resultToRecordBatches(result, batchRows);
  }

  /** A query's whole result as one Arrow table. */
  async arrow(sql: string): Promise<Table> {
    const batches: RecordBatch[] = [];
    for await (const b of this.batches(sql)) batches.push(b);
    return new Table(batches);
  }

  /** Loads an Arrow table into a table `name` of the (in-memory) database, replacing it, through DuckDB's appender. */
  async loadArrow(name: string, table: Table): Promise<void> {
    const fields = table.schema.fields;
    const types = fields.map((f) => duckdbTypeOf(f.name, f.type));
    const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
    await this.connection.run(
      `CREATE OR REPLACE TABLE ${q(name)} (${fields.map((f, i) => `${q(f.name)} ${types[i]}`).join(', ')})`,
    );
    const appender: DuckDBAppender = await this.connection.createAppender(name);
    try {
      const columns = fields.map((_, i) => table.getChildAt(i)!);
      const appenders = types.map((t) => appendFunction(appender, t));
      for (let r = 0; r < table.numRows; r++) {
        for (let c = 0; c < columns.length; c++) {
          const v = columns[c].get(r) as unknown;
          if (v === null || v === undefined) appender.appendNull();
          else appenders[c](v);
        }
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private async withProgress<T>(sql: string, onProgress: QueryProgressListener | undefined, fn: () => Promise<T>): Promise<T> {
    const timer = onProgress
      ? setInterval(() => {
          const p = this.connection.progress;
          onProgress(p.percentage < 0 ? -1 : Math.min(1, p.percentage / 100));
        }, 250)
      : undefined;
    try {
      const out = await fn();
      onProgress?.(1);
      return out;
    } catch (err) {
      throw new EngineError(`DuckDB failed: ${messageOf(err)}\n--- query ---\n${sql.slice(0, 4000)}`, { cause: err });
    } finally {
      if (timer) clearInterval(timer);
    }
  }
}

/** The sizes DuckDB's memory_limit accepts (a number, optional space, a byte unit); only used to explain a failure. */
const MEMORY_LIMIT = /^\d+(\.\d+)?(e\d+)?\s*(b|bytes?|kb|mb|gb|tb|kib|mib|gib|tib)$/i;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function duckdbTypeOf(name: string, type: DataType): string {
  switch (type.typeId) {
    case Type.Int:
      return (type as unknown as { bitWidth: number }).bitWidth === 64 ? 'BIGINT' : 'INTEGER';
    case Type.Float:
      return 'DOUBLE';
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Dictionary:
      return 'VARCHAR';
    case Type.Bool:
      return 'BOOLEAN';
    case Type.Timestamp:
    case Type.Date:
      return 'TIMESTAMP';
    default:
      throw new InputError(`column "${name}" has Arrow type ${String(type)}, which a spine cannot hold (use ints, floats, strings, booleans or timestamps)`, name);
  }
}

function appendFunction(appender: DuckDBAppender, type: string): (v: unknown) => void {
  switch (type) {
    case 'BIGINT':
      return (v) => appender.appendBigInt(BigInt(v as bigint | number));
    case 'INTEGER':
      return (v) => appender.appendInteger(v as number);
    case 'DOUBLE':
      return (v) => appender.appendDouble(v as number);
    case 'BOOLEAN':
      return (v) => appender.appendBoolean(v as boolean);
    case 'TIMESTAMP':
      // Arrow JS returns timestamps and dates as epoch milliseconds.
      return (v) => appender.appendTimestamp(new DuckDBTimestampValue(BigInt(Math.round(Number(v) * 1000))));
    default:
      return (v) => appender.appendVarchar(String(v));
  }
}
