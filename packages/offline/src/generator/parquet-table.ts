/**
 * Columnar typed arrays → a DuckDB table → a Parquet file.
 *
 * The generator produces columns as typed arrays; the fastest deterministic way into DuckDB measured
 * here is to copy each array slice straight into a data chunk's vector memory
 * (`copy_data_to_vector`, one native call per column per 2048 rows) and append the chunk. Per-value
 * `setItem` calls are ~5× slower, CSV round trips slower still. String columns travel as ENUM codes
 * and become VARCHAR in the COPY, so no JS string crosses into DuckDB per row.
 */
import { DuckDBDataChunk, DuckDBEnumType, DuckDBTypeId, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';

export type ColumnKind =
  | { type: 'INTEGER' }
  | { type: 'DOUBLE' }
  /** Epoch microseconds held in a Float64Array (exact below 2^53 µs, i.e. until year 2255). */
  | { type: 'TIMESTAMP' }
  /** Codes (index into `labels`) in a Uint8Array (≤ 255 labels) or Uint16Array; written as VARCHAR. */
  | { type: 'VARCHAR'; labels: readonly string[] };

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
}

export type ColumnData = Int32Array | Float64Array | Uint8Array | Uint16Array;

const CHUNK = 2048;

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function sqlType(kind: ColumnKind): string {
  return kind.type === 'VARCHAR' ? `ENUM(${kind.labels.map(sqlString).join(', ')})` : kind.type;
}

/** One table being filled through an appender; `writeParquet` copies it out and drops it. */
export class ParquetTable {
  private readonly scratchTs = new Int32Array(CHUNK * 2);
  private readonly chunk: DuckDBDataChunk;
  private rows = 0;

  private constructor(
    private readonly connection: DuckDBConnection,
    private readonly name: string,
    private readonly columns: readonly ColumnSpec[],
    private readonly appender: DuckDBAppender,
  ) {
    const types = columns.map((_, i) => appender.columnType(i));
    // Check the ENUM storage width matches the typed arrays we will copy in.
    types.forEach((t, i) => {
      const kind = columns[i].kind;
      if (kind.type !== 'VARCHAR' || !(t instanceof DuckDBEnumType)) return;
      const wide = t.internalTypeId === DuckDBTypeId.USMALLINT;
      if (wide !== kind.labels.length > 255) throw new Error(`unexpected ENUM width for column ${columns[i].name}`);
    });
    this.chunk = DuckDBDataChunk.create(types);
  }

  static async create(connection: DuckDBConnection, name: string, columns: readonly ColumnSpec[]): Promise<ParquetTable> {
    const defs = columns.map((c) => `"${c.name}" ${sqlType(c.kind)}`).join(', ');
    await connection.run(`CREATE OR REPLACE TABLE "${name}" (${defs})`);
    const appender = await connection.createAppender(name);
    return new ParquetTable(connection, name, columns, appender);
  }

  get rowCount(): number {
    return this.rows;
  }

  /** Append rows [0, count) of `data` (one typed array per column, in column order). */
  append(data: readonly ColumnData[], count: number): void {
    if (data.length !== this.columns.length) throw new Error(`expected ${this.columns.length} columns, got ${data.length}`);
    for (let start = 0; start < count; start += CHUNK) {
      const n = Math.min(CHUNK, count - start);
      this.chunk.reset();
      this.chunk.rowCount = n;
      for (let c = 0; c < data.length; c++) {
        const vector = duckdb.data_chunk_get_vector(this.chunk.chunk, c);
        const column = data[c];
        if (this.columns[c].kind.type === 'TIMESTAMP') {
          // int64 micros from doubles: write the two 32-bit halves (BigInt per value is ~10× slower).
          const ts = this.scratchTs;
          for (let i = 0; i < n; i++) {
            const v = column[start + i];
            const hi = Math.floor(v / 4294967296);
            ts[2 * i] = (v - hi * 4294967296) | 0;
            ts[2 * i + 1] = hi;
          }
          duckdb.copy_data_to_vector(vector, 0, ts.buffer, 0, n * 8);
        } else {
          const bytes = column.BYTES_PER_ELEMENT;
          duckdb.copy_data_to_vector(vector, 0, column.buffer as ArrayBuffer, column.byteOffset + start * bytes, n * bytes);
        }
      }
      this.appender.appendDataChunk(this.chunk);
    }
    this.rows += count;
  }

  /**
   * Close the appender, write the table to `path` (zstd Parquet, string columns as VARCHAR), drop it.
   * `orderBy` sorts on the way out; without it rows keep their append order.
   */
  async writeParquet(path: string, orderBy?: string): Promise<void> {
    this.appender.closeSync();
    const select = this.columns
      .map((c) => (c.kind.type === 'VARCHAR' ? `"${c.name}"::VARCHAR AS "${c.name}"` : `"${c.name}"`))
      .join(', ');
    const order = orderBy ? ` ORDER BY ${orderBy}` : '';
    await this.connection.run(
      `COPY (SELECT ${select} FROM "${this.name}"${order}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    await this.connection.run(`DROP TABLE "${this.name}"`);
  }
}
