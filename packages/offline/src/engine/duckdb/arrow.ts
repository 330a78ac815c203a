/**
 * DuckDB results → Apache Arrow record batches, without DuckDB's arrow extension (it cannot be downloaded here):
 * each data chunk's vectors are read value by value into Arrow builders. Types map as follows:
 *   BOOLEAN → Bool; TINYINT..INTEGER, UTINYINT, USMALLINT → Int32; BIGINT → Int64; UINTEGER, UBIGINT, HUGEINT,
 *   DECIMAL → Float64; FLOAT → Float32; DOUBLE → Float64; VARCHAR → Utf8; every TIMESTAMP kind and DATE →
 *   Timestamp(ms) (epoch milliseconds); anything else → Utf8 of the value's text.
 */
import {
  Bool,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  makeBuilder,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Utf8,
  type Builder,
  type DataType,
} from 'apache-arrow';
import { DuckDBTypeId, type DuckDBResult, type DuckDBValue } from '@duckdb/node-api';

interface ColumnConverter {
  type: DataType;
  convert: (value: DuckDBValue) => unknown;
}

const identity = (v: DuckDBValue) => v;
const toNumber = (v: DuckDBValue) => (typeof v === 'bigint' ? Number(v) : Number(v as number));

function converterFor(typeId: DuckDBTypeId): ColumnConverter {
  switch (typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { type: new Bool(), convert: identity };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
      return { type: new Int32(), convert: identity };
    case DuckDBTypeId.BIGINT:
      return { type: new Int64(), convert: identity };
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
      return { type: new Float64(), convert: toNumber };
    case DuckDBTypeId.DECIMAL:
      return { type: new Float64(), convert: (v) => Number(String(v)) };
    case DuckDBTypeId.FLOAT:
      return { type: new Float32(), convert: identity };
    case DuckDBTypeId.DOUBLE:
      return { type: new Float64(), convert: identity };
    case DuckDBTypeId.VARCHAR:
      return { type: new Utf8(), convert: identity };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { type: new TimestampMillisecond(), convert: (v) => Number((v as { micros: bigint }).micros / 1000n) };
    case DuckDBTypeId.TIMESTAMP_MS:
      return { type: new TimestampMillisecond(), convert: (v) => Number((v as { millis: bigint }).millis) };
    case DuckDBTypeId.TIMESTAMP_S:
      return { type: new TimestampMillisecond(), convert: (v) => Number((v as { seconds: bigint }).seconds) * 1000 };
    case DuckDBTypeId.TIMESTAMP_NS:
      return { type: new TimestampMillisecond(), convert: (v) => Number((v as { nanos: bigint }).nanos / 1_000_000n) };
    case DuckDBTypeId.DATE:
      return { type: new TimestampMillisecond(), convert: (v) => (v as { days: number }).days * 86_400_000 };
    default:
      return { type: new Utf8(), convert: (v) => String(v) };
  }
}

/**
 * Streams a DuckDB result as Arrow record batches of about `batchRows` rows (whole DuckDB chunks, 2048 rows each).
 * Memory stays bounded by one batch plus DuckDB's own buffers.
 */
export async function* resultToRecordBatches(result: DuckDBResult, batchRows = 65_536): AsyncGenerator<RecordBatch> {
  const names = result.columnNames();
  const converters = names.map((_, i) => converterFor(result.columnTypeId(i)));
  const schema = new Schema(names.map((n, i) => new Field(n, converters[i].type, true)));
  const builders: Builder[] = converters.map((c) => makeBuilder({ type: c.type, nullValues: [null, undefined] }));
  let rows = 0;
  let yielded = false;
  const flush = () => {
    const children = builders.map((b) => b.flush());
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, children, nullCount: 0 }));
    rows = 0;
    return batch;
  };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    for (let c = 0; c < converters.length; c++) {
      const vector = chunk.getColumnVector(c);
      const { convert } = converters[c];
      const builder = builders[c];
      for (let r = 0; r < n; r++) {
        const v = vector.getItem(r);
        builder.append(v === null ? null : convert(v));
      }
    }
    rows += n;
    if (rows >= batchRows) {
      yielded = true;
      yield flush();
    }
  }
  if (rows > 0) yield flush();
  // An empty result still yields one (empty) batch, so it carries its schema.
  else if (!yielded) yield new RecordBatch(schema);
}
