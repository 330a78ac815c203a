/**
 * The vectoriser: row values → hashed indices and float32 values, one slot per field. Training calls it on every
 * training-set row and `score()` calls it on every candidate: one implementation, so both give the same vector
 * bit for bit. See spec/model-input.ts for the semantics of each encoding.
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

/**
 * A compiled field: reads the row and returns its slot's index; writes its value into `out[0]` (a typed array:
 * storing a fractional number into an object property allocates a heap number, into a typed array it does not).
 */
type FieldEncoder = (row: RowValues, out: Float64Array) => number;

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
export function compileVectorizer(spec: ModelInputSpec): Vectorizer {
  validateModelInputSpec(spec);
  const mask = 2 ** spec.hashBits - 1;
  const tsField = spec.timestampField ?? 'ts';
  const encoders = spec.fields.map((f) => compileField(f, spec.hashSeed, mask, tsField));
  const width = encoders.length;
  const out = new Float64Array(1);

  const vectorize = (row: RowValues, indices: Int32Array, values: Float32Array, offset = 0) => {
    const base = offset * width;
    for (let j = 0; j < width; j++) {
      indices[base + j] = encoders[j](row, out);
      values[base + j] = out[0];
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

  if (f.inputs.length > 1) return compileCross(f.inputs, f.default === undefined ? undefined : toCategory(f.default), hashOf);

  const input = f.inputs[0];
  const derived = (f.derive ?? 'identity') !== 'identity';
  const derive = compileDerive(f.derive ?? 'identity', input, tsField);
  // Numbers are read and transformed inline below, not through closures: V8 does not inline calls to closures made
  // per field, and a number passed to or returned from a call that is not inlined is a heap allocation (a box).

  switch (enc.type) {
    case 'categorical': {
      const fallback = f.default === undefined ? MISSING_TOKEN : toCategory(f.default)!;
      const missingIndex = hashOf(fallback);
      const cache = new Map<unknown, number>();
      return (row, out) => {
        out[0] = 1;
        const raw = derived ? derive(row) : row[input];
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
        out[0] = 1;
        const x = derived ? derive(row) : toNumber(row[input]);
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
        out[0] = 1;
        const x = derived ? derive(row) : toNumber(row[input]);
        return x === undefined ? missingIndex : table[x > 0 ? Math.min(maxBucket, Math.floor(Math.log1p(x) * resolution)) : 0];
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
        const x = derived ? derive(row) : toNumber(row[input]);
        out[0] = x === undefined || !Number.isFinite(x) ? missingValue : Math.fround((log ? Math.log1p(Math.max(x, 0)) : x) * scale);
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

/** Stands for a missing input (undefined, null, NaN) in a cross's cache: all three take the same token. */
const MISSING_PART = Symbol('missing');

/**
 * Crosses: every input's categorical form, joined by {@link CROSS_SEPARATOR}, hashed. The key string is what
 * defines the index; building it for every row is what costs (a number's string, two concatenations, then hashing
 * the joined string for the cache lookup), so rows whose inputs are all strings, numbers or missing are answered
 * from nested maps keyed by the raw values instead. That is exact because a string's form is itself, a number's
 * form `String(n)` depends on n alone (and Map keys identify 0 and -0, whose forms are both "0"), and every missing
 * value takes the same token. Other values (booleans, bigints, Dates, objects) take the string path.
 */
function compileCross(names: readonly string[], fallback: string | undefined, hashOf: (s: string) => number): FieldEncoder {
  const arity = names.length;
  const keyOf = (row: RowValues): string => {
    let key = '';
    for (let i = 0; i < arity; i++) {
      const c = toCategory(row[names[i]]);
      key += (i ? CROSS_SEPARATOR : '') + (c ?? fallback ?? MISSING_TOKEN);
    }
    return key;
  };
  const byString = new Map<string, number>();
  let root = new Map<unknown, unknown>();
  let leaves = 0;
  // The first input's last value and its node: within a request, the user/context side of a cross is the same
  // for every candidate row, so the first level is usually answered without a lookup.
  let lastFirst: unknown = MISSING_PART;
  let lastNode: Map<unknown, unknown> | undefined;
  return (row, out) => {
    out[0] = 1;
    let node = root;
    for (let i = 0; i < arity; i++) {
      const v = partOf(row[names[i]]);
      if (typeof v !== 'string' && typeof v !== 'number' && v !== MISSING_PART) return cached(byString, keyOf(row), hashOf);
      if (i === arity - 1) {
        let idx = node.get(v) as number | undefined;
        if (idx === undefined) {
          if (leaves >= CACHE_LIMIT) {
            root = new Map();
            leaves = 0;
            lastNode = undefined;
            node = root;
            for (let j = 0; j < i; j++) node = child(node, partOf(row[names[j]]));
          }
          idx = hashOf(keyOf(row));
          node.set(v, idx);
          leaves++;
        }
        return idx;
      }
      if (i === 0 && lastNode !== undefined && v === lastFirst) node = lastNode;
      else {
        node = child(node, v);
        if (i === 0) {
          lastFirst = v;
          lastNode = node;
        }
      }
    }
    return 0; // unreachable: arity ≥ 2
  };
}

/** A cross input's key in the nested maps: the value itself, or {@link MISSING_PART}. */
function partOf(v: unknown): unknown {
  return v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v)) ? MISSING_PART : v;
}

function child(node: Map<unknown, unknown>, key: unknown): Map<unknown, unknown> {
  let next = node.get(key) as Map<unknown, unknown> | undefined;
  if (next === undefined) node.set(key, (next = new Map()));
  return next;
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
