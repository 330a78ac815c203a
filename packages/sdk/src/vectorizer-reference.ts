/**
 * TEST-ONLY reference: a verbatim copy of the vectoriser as it was before its performance work (commit 3dae615),
 * kept so that vectorizer.equivalence.test.ts can check the optimised one gives bit-identical output on random
 * rows. Never imported by the SDK itself.
 */
import { murmur3 } from './hash.ts';
import { type FieldSpec, type ModelInputSpec, validateModelInputSpec } from './spec/model-input.ts';

/** A row of named values: request and candidate fields, and feature values named `<view>__<feature>`. */
export type RowValues = Readonly<Record<string, unknown>>;

/** The token hashed for a missing categorical-style value. Cannot collide with a real value's string form. */
export const MISSING_TOKEN = '\u0000';
/** Separator of a cross's values. */
const CROSS_SEPARATOR = '\u0001';
/** Bound on each field's cache of value → index (high-cardinality fields simply restart it when full). */
const CACHE_LIMIT = 1 << 16;

export interface Vectorizer {
  /** Slots per row: the number of fields. */
  readonly width: number;
  /** Size of the index space, 2^hashBits. */
  readonly dimension: number;
  /** The spec it was compiled from. */
  readonly spec: ModelInputSpec;
  /** Writes one row's `width` slots at `offset * width` into `indices` and `values`. */
  vectorize(row: RowValues, indices: Int32Array, values: Float32Array, offset?: number): void;
  /** Convenience: one row to fresh arrays. */
  vectorizeOne(row: RowValues): { indices: Int32Array; values: Float32Array };
  /** Explains one row: per field, the value read, the index and the slot value (for skew reports). */
  explain(row: RowValues): Array<{ field: string; input: unknown; index: number; value: number }>;
}

/** A compiled field: reads the row and returns its slot's index; writes its value through `out`. */
type FieldEncoder = (row: RowValues, out: { value: number }) => number;

/** Turns a row value into a finite number, or undefined when missing. Dates and bigints are accepted. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : v;
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

/** The canonical string form of a categorical value, or undefined when missing. */
export function toCategory(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : String(v);
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return String(v.getTime());
  return String(v);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Compiles a model input spec. Validates it first (throws DefinitionError on a bad spec). */
export function compileReferenceVectorizer(spec: ModelInputSpec): Vectorizer {
  validateModelInputSpec(spec);
  const mask = 2 ** spec.hashBits - 1;
  const tsField = spec.timestampField ?? 'ts';
  const encoders = spec.fields.map((f) => compileField(f, spec.hashSeed, mask, tsField));
  const width = encoders.length;
  const out = { value: 0 };

  const vectorize = (row: RowValues, indices: Int32Array, values: Float32Array, offset = 0) => {
    const base = offset * width;
    for (let j = 0; j < width; j++) {
      indices[base + j] = encoders[j](row, out);
      values[base + j] = out.value;
    }
  };

  return {
    width,
    dimension: mask + 1,
    spec,
    vectorize,
    vectorizeOne(row) {
      const indices = new Int32Array(width);
      const values = new Float32Array(width);
      vectorize(row, indices, values, 0);
      return { indices, values };
    },
    explain(row) {
      const { indices, values } = this.vectorizeOne(row);
      return spec.fields.map((f, j) => ({
        field: f.name,
        input: f.inputs.length === 1 ? row[f.inputs[0]] : f.inputs.map((i) => row[i]),
        index: indices[j],
        value: values[j],
      }));
    },
  };
}

function compileField(f: FieldSpec, hashSeed: number, mask: number, tsField: string): FieldEncoder {
  const seed = murmur3(f.name, hashSeed);
  const hashOf = (s: string) => murmur3(s, seed) & mask;
  const enc = f.encoding;

  // Crosses: every input's categorical form, joined.
  if (f.inputs.length > 1) {
    const names = f.inputs;
    const fallback = f.default === undefined ? undefined : toCategory(f.default);
    const cache = new Map<string, number>();
    return (row, out) => {
      out.value = 1;
      let key = '';
      for (let i = 0; i < names.length; i++) {
        const c = toCategory(row[names[i]]);
        key += (i ? CROSS_SEPARATOR : '') + (c ?? fallback ?? MISSING_TOKEN);
      }
      return cached(cache, key, hashOf);
    };
  }

  const input = f.inputs[0];
  const read = compileDerive(f.derive ?? 'identity', input, tsField);

  switch (enc.type) {
    case 'categorical': {
      const derived = (f.derive ?? 'identity') !== 'identity';
      const fallback = f.default === undefined ? MISSING_TOKEN : toCategory(f.default)!;
      const missingIndex = hashOf(fallback);
      const cache = new Map<unknown, number>();
      return (row, out) => {
        out.value = 1;
        const raw = derived ? read(row) : row[input];
        // Numbers and strings key the cache directly: String(n) is a pure function of n.
        if (typeof raw === 'string' || (typeof raw === 'number' && !Number.isNaN(raw))) {
          let idx = cache.get(raw);
          if (idx === undefined) {
            if (cache.size >= CACHE_LIMIT) cache.clear();
            idx = hashOf(typeof raw === 'string' ? raw : String(raw));
            cache.set(raw, idx);
          }
          return idx;
        }
        const c = toCategory(raw);
        return c === undefined ? missingIndex : hashOf(c);
      };
    }
    case 'bucketize': {
      const bounds = Float64Array.from(enc.boundaries);
      const table = Array.from({ length: bounds.length + 1 }, (_, b) => hashOf(String(b)));
      const fallback = f.default === undefined ? undefined : toNumber(f.default);
      const missingIndex = fallback === undefined ? hashOf(MISSING_TOKEN) : table[bucketOf(bounds, fallback)];
      return (row, out) => {
        out.value = 1;
        const x = read(row);
        return x === undefined ? missingIndex : table[bucketOf(bounds, x)];
      };
    }
    case 'log_bucket': {
      const resolution = enc.resolution ?? 2;
      const maxBucket = enc.maxBucket ?? 63;
      const table = Array.from({ length: maxBucket + 1 }, (_, b) => hashOf(String(b)));
      const bucket = (x: number) => (x > 0 ? Math.min(maxBucket, Math.floor(Math.log1p(x) * resolution)) : 0);
      const fallback = f.default === undefined ? undefined : toNumber(f.default);
      const missingIndex = fallback === undefined ? hashOf(MISSING_TOKEN) : table[bucket(fallback)];
      return (row, out) => {
        out.value = 1;
        const x = read(row);
        return x === undefined ? missingIndex : table[bucket(x)];
      };
    }
    case 'numeric': {
      const index = hashOf('');
      const log = enc.transform === 'log1p';
      const scale = enc.scale ?? 1;
      const fallback = f.default === undefined ? undefined : toNumber(f.default);
      const transform = (x: number) => Math.fround((log ? Math.log1p(Math.max(x, 0)) : x) * scale);
      const missingValue = fallback === undefined ? 0 : transform(fallback);
      return (row, out) => {
        const x = read(row);
        out.value = x === undefined || !Number.isFinite(x) ? missingValue : transform(x);
        return index;
      };
    }
  }
}

/** Compiles a derive into a reader of the row that returns a number (undefined when missing). */
function compileDerive(derive: string, input: string, tsField: string): (row: RowValues) => number | undefined {
  switch (derive) {
    case 'hour_of_day':
      return (row) => {
        const t = toNumber(row[input]);
        return t === undefined ? undefined : mod(Math.floor(t / HOUR_MS), 24);
      };
    case 'day_of_week':
      return (row) => {
        const t = toNumber(row[input]);
        // 1970-01-01 was a Thursday (4).
        return t === undefined ? undefined : mod(Math.floor(t / DAY_MS) + 4, 7);
      };
    case 'age_seconds':
      return (row) => {
        const t = toNumber(row[input]);
        const now = toNumber(row[tsField]);
        return t === undefined || now === undefined ? undefined : (now - t) / 1000;
      };
    default:
      return (row) => toNumber(row[input]);
  }
}

function bucketOf(bounds: Float64Array, x: number): number {
  // Upper bound: the number of boundaries ≤ x. Linear scans win for the short lists features use.
  let b = 0;
  while (b < bounds.length && bounds[b] <= x) b++;
  return b;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function cached(cache: Map<string, number>, key: string, hashOf: (s: string) => number): number {
  let idx = cache.get(key);
  if (idx === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    idx = hashOf(key);
    cache.set(key, idx);
  }
  return idx;
}
