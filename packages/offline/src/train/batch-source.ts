/**
 * Where training and evaluation rows come from: a stream of vectorised record batches. A source can be read more
 * than once (one pass per epoch); each pass yields batches whose buffers the source may reuse, so a consumer must
 * finish with a batch before asking for the next one. Memory stays that of one batch, whatever the row count.
 */

export interface RowBatch {
  /** Rows in this batch. */
  rows: number;
  /** Hashed indices, `rows × width` (row r at `r * width`). */
  indices: Int32Array;
  /** Slot values, `rows × width`. */
  values: Float32Array;
  /** Labels, 0 or 1. */
  labels: Float32Array;
  /** Raw values of the extra columns asked for (slices, ids, reference probabilities), one entry per row. */
  columns: Readonly<Record<string, ArrayLike<unknown>>>;
}

export interface BatchSource {
  /** Slots per row. */
  readonly width: number;
  /** Size of the hashed index space. */
  readonly dimension: number;
  /** One pass over the rows, in a fixed order. */
  batches(): AsyncIterable<RowBatch>;
}

export interface ArraySourceOptions {
  width: number;
  dimension: number;
  indices: Int32Array;
  values: Float32Array;
  labels: Float32Array;
  /** Extra columns, each one value per row. */
  columns?: Record<string, ArrayLike<unknown>>;
  /** Rows per batch. @default 8192 */
  batchSize?: number;
}

/** Rows already vectorised in memory (tests, benchmarks): batches are views, nothing is copied. */
export function arraySource(options: ArraySourceOptions): BatchSource {
  const { width, dimension, indices, values, labels } = options;
  const rows = labels.length;
  if (indices.length !== rows * width || values.length !== rows * width) {
    throw new RangeError(`arraySource: ${rows} labels need ${rows * width} indices and values, got ${indices.length} and ${values.length}`);
  }
  const size = options.batchSize ?? 8192;
  const cols = options.columns ?? {};
  return {
    width,
    dimension,
    async *batches() {
      for (let from = 0; from < rows; from += size) {
        const to = Math.min(rows, from + size);
        const columns: Record<string, ArrayLike<unknown>> = {};
        for (const [k, v] of Object.entries(cols)) columns[k] = sliceLike(v, from, to);
        yield {
          rows: to - from,
          indices: indices.subarray(from * width, to * width),
          values: values.subarray(from * width, to * width),
          labels: labels.subarray(from, to),
          columns,
        };
      }
    },
  };
}

function sliceLike(v: ArrayLike<unknown>, from: number, to: number): ArrayLike<unknown> {
  const s = v as { subarray?: (a: number, b: number) => ArrayLike<unknown>; slice?: (a: number, b: number) => ArrayLike<unknown> };
  if (typeof s.subarray === 'function') return s.subarray(from, to);
  if (typeof s.slice === 'function') return s.slice(from, to);
  return Array.from({ length: to - from }, (_, i) => v[from + i]);
}
