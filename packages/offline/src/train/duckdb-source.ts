/**
 * Training and evaluation rows read with DuckDB, a chunk at a time, and vectorised with the SDK's vectoriser:
 * the same `compileVectorizer` the scorer uses, so a training row and a served request give the same vector.
 *
 * Any DuckDB relation works: a training set's Parquet (`read_parquet('…')`), a CSV (`read_csv('…')`) or a
 * subquery. Values reach the vectoriser as a request would carry them: timestamps as epoch milliseconds,
 * integers as numbers (as bigints beyond 2^53, so ids keep every digit), strings as strings.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { compileVectorizer, InputError, specInputs, toNumber, type ModelInputSpec, type Vectorizer } from '@lockstep/sdk';
import type { BatchSource, RowBatch } from './batch-source.ts';

export interface DuckdbSourceOptions {
  /** A SQL relation to read, e.g. `read_parquet('/data/train.parquet')`. */
  relation: string;
  /** The model input spec: which columns to read and how they become slots. */
  spec: ModelInputSpec;
  /** The label column (0/1, or any number: > 0 is a click). @default 'label' */
  label?: string;
  /** A SQL condition selecting rows, e.g. a time window. */
  where?: string;
  /** A SQL ORDER BY list: online learning sees rows in this order. Without it DuckDB's scan order is used. */
  orderBy?: string;
  /** Extra columns to carry raw in every batch (slices, ids, reference probabilities). */
  columns?: string[];
  /** A DuckDB connection to use. @default a private in-memory database, closed by `close()` */
  connection?: DuckDBConnection;
}

export interface DuckdbSource extends BatchSource {
  readonly vectorizer: Vectorizer;
  /** Number of rows the source yields. */
  count(): Promise<number>;
  /** Closes the private database, if the source opened one. */
  close(): void;
}

/** Quotes a SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a SQL string literal. */
export function quoteString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The projection that hands a column to JS in the form a request carries it. */
function projection(name: string, type: string): string {
  const q = quoteIdent(name);
  const t = type.toUpperCase();
  if (t.startsWith('TIMESTAMP') || t === 'DATE') return `epoch_ms(CAST(${q} AS TIMESTAMP)) AS ${q}`;
  if (/^(DOUBLE|INTEGER|SMALLINT|TINYINT|UINTEGER|USMALLINT|UTINYINT|BIGINT|UBIGINT|VARCHAR|BOOLEAN)$/.test(t)) return q;
  if (t === 'FLOAT' || t.startsWith('DECIMAL') || t === 'HUGEINT' || t === 'UHUGEINT') return `CAST(${q} AS DOUBLE) AS ${q}`;
  return `CAST(${q} AS VARCHAR) AS ${q}`;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** bigint → number when exact (so categorical caches and numeric encodings see plain numbers). */
function normalise(v: unknown): unknown {
  if (typeof v === 'bigint' && v <= MAX_SAFE && v >= -MAX_SAFE) return Number(v);
  return v;
}

export async function duckdbSource(options: DuckdbSourceOptions): Promise<DuckdbSource> {
  const vectorizer = compileVectorizer(options.spec);
  const label = options.label ?? 'label';
  const extras = options.columns ?? [];
  let instance: DuckDBInstance | undefined;
  let conn = options.connection;
  if (!conn) {
    instance = await DuckDBInstance.create(':memory:');
    conn = await instance.connect();
  }
  const connection = conn;

  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${options.relation}`).catch((err: unknown) => {
    // A missing or unreadable file (a wrong --oracle path, say) is bad input, not a crash with DuckDB's stack.
    instance?.closeSync();
    throw new InputError(`cannot read ${options.relation}: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
  });
  const types = new Map<string, string>();
  for (const row of described.getRowObjectsJS()) types.set(String(row.column_name), String(row.column_type));

  const inputs = specInputs(options.spec);
  const wanted = [...new Set([...inputs, label, ...extras])];
  const missing = wanted.filter((c) => !types.has(c));
  if (missing.length) {
    throw new InputError(
      `${options.relation} lacks column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (it has: ${[...types.keys()].join(', ')})`,
      missing[0],
    );
  }
  const where = options.where ? ` WHERE ${options.where}` : '';
  const sql =
    `SELECT ${wanted.map((c) => projection(c, types.get(c)!)).join(', ')} FROM ${options.relation}${where}` +
    (options.orderBy ? ` ORDER BY ${options.orderBy}` : '');
  const labelCol = wanted.indexOf(label);
  const inputCols = inputs.map((c) => wanted.indexOf(c));
  const extraCols = extras.map((c) => wanted.indexOf(c));
  const width = vectorizer.width;

  return {
    width,
    dimension: vectorizer.dimension,
    vectorizer,
    async count() {
      const r = await connection.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM ${options.relation}${where}`);
      return Number(r.getRowObjectsJS()[0].n);
    },
    close() {
      if (instance) {
        connection.closeSync();
        instance.closeSync();
        instance = undefined;
      }
    },
    async *batches(): AsyncIterable<RowBatch> {
      const result = await connection.stream(sql);
      let capacity = 0;
      let indices = new Int32Array(0);
      let values = new Float32Array(0);
      let labels = new Float32Array(0);
      const columns: Record<string, unknown[]> = Object.fromEntries(extras.map((c) => [c, [] as unknown[]]));
      const row: Record<string, unknown> = {};
      // Ask DuckDB for the next chunk before vectorising this one: its scan then overlaps our work.
      let next = result.fetchChunk();
      for (;;) {
        const chunk = await next;
        if (!chunk || chunk.rowCount === 0) break;
        next = result.fetchChunk();
        const rows = chunk.rowCount;
        if (rows > capacity) {
          capacity = rows;
          indices = new Int32Array(capacity * width);
          values = new Float32Array(capacity * width);
          labels = new Float32Array(capacity);
        }
        const inputVectors = inputCols.map((c) => chunk.getColumnVector(c));
        const labelVector = chunk.getColumnVector(labelCol);
        for (let r = 0; r < rows; r++) {
          for (let i = 0; i < inputs.length; i++) row[inputs[i]] = normalise(inputVectors[i].getItem(r));
          vectorizer.vectorize(row, indices, values, r);
          const y = toNumber(normalise(labelVector.getItem(r)));
          if (y === undefined) throw new InputError(`row with a missing label in column "${label}"`, label);
          labels[r] = y > 0 ? 1 : 0;
        }
        for (let e = 0; e < extras.length; e++) {
          const vec = chunk.getColumnVector(extraCols[e]);
          const out = columns[extras[e]];
          out.length = rows;
          for (let r = 0; r < rows; r++) out[r] = normalise(vec.getItem(r));
        }
        yield {
          rows,
          indices: indices.subarray(0, rows * width),
          values: values.subarray(0, rows * width),
          labels: labels.subarray(0, rows),
          columns,
        };
      }
    },
  };
}
