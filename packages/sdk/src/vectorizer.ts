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
  const fields = spec.fields.map((f) => new Field(f, spec.hashSeed, mask, tsField));
  const width = fields.length;

  // One loop over records of one shape, the encoding chosen by a switch: no call through a per-field closure. Such
  // calls are not inlined (every vectoriser's fields share the closures' code, so their call site sees many
  // targets), and a number passed through a call that is not inlined is boxed: a heap allocation per value.
  const vectorize = (row: RowValues, indices: Int32Array, values: Float32Array, offset = 0) => {
    const base = offset * width;
    for (let j = 0; j < width; j++) {
      const f = fields[j];
      let index: number;
      let value = 1;
      switch (f.kind) {
        case CATEGORICAL: {
          const raw = f.derive === IDENTITY ? row[f.input] : derive(f, row);
          // Numbers and strings key the cache directly: String(n) is a pure function of n.
          if (typeof raw === 'string' || (typeof raw === 'number' && !Number.isNaN(raw))) {
            let idx = f.cache.get(raw);
            if (idx === undefined) {
              if (f.cache.size >= CACHE_LIMIT) f.cache.clear();
              idx = f.hash(typeof raw === 'string' ? raw : String(raw));
              f.cache.set(raw, idx);
            }
            index = idx;
          } else {
            const c = toCategory(raw);
            index = c === undefined ? f.missingIndex : f.hash(c);
          }
          break;
        }
        case BUCKETIZE: {
          const x = f.derive === IDENTITY ? toNumber(row[f.input]) : derive(f, row);
          index = x === undefined ? f.missingIndex : f.table[bucketOf(f.bounds, x)];
          break;
        }
        case LOG_BUCKET: {
          const x = f.derive === IDENTITY ? toNumber(row[f.input]) : derive(f, row);
          index = x === undefined ? f.missingIndex : f.table[x > 0 ? Math.min(f.maxBucket, Math.floor(Math.log1p(x) * f.resolution)) : 0];
          break;
        }
        case NUMERIC: {
          const x = f.derive === IDENTITY ? toNumber(row[f.input]) : derive(f, row);
          value = x === undefined || !Number.isFinite(x) ? f.missingValue : Math.fround((f.log ? Math.log1p(Math.max(x, 0)) : x) * f.scale);
          index = f.index;
          break;
        }
        default:
          index = crossIndex(f, row);
      }
      indices[base + j] = index;
      values[base + j] = value;
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

/** Field kinds (see {@link Field}). */
const CATEGORICAL = 0;
const BUCKETIZE = 1;
const LOG_BUCKET = 2;
const NUMERIC = 3;
const CROSS = 4;
/** Derives (see {@link derive}). */
const IDENTITY = 0;
const HOUR_OF_DAY = 1;
const DAY_OF_WEEK = 2;
const AGE_SECONDS = 3;
const DERIVES: Record<string, number> = { identity: IDENTITY, hour_of_day: HOUR_OF_DAY, day_of_week: DAY_OF_WEEK, age_seconds: AGE_SECONDS };

/** Stands for a missing input (undefined, null, NaN) in a cross's cache: all three take the same token. */
const MISSING_PART = Symbol('missing');

/**
 * A compiled field. Every kind has every property (unused ones keep a neutral value), so that all fields share one
 * object shape and the vectoriser's reads of them stay monomorphic.
 */
class Field {
  readonly kind: number;
  readonly input: string;
  readonly derive: number;
  readonly tsField: string;
  readonly seed: number;
  readonly mask: number;
  /** Index of a missing value (categorical, bucketize, log_bucket). */
  readonly missingIndex: number;
  /** Categorical: value → index, bounded by {@link CACHE_LIMIT}. */
  readonly cache = new Map<unknown, number>();
  /** Bucketize: the boundaries; bucketize and log_bucket: each bucket's index. */
  readonly bounds: Float64Array;
  readonly table: number[];
  readonly resolution: number;
  readonly maxBucket: number;
  /** Numeric: the slot's index, the transform, the value of a missing input. */
  readonly index: number;
  readonly log: boolean;
  readonly scale: number;
  readonly missingValue: number;
  /** Cross: its inputs, the default's categorical form, and its caches (see {@link crossIndex}). */
  readonly names: readonly string[];
  readonly fallback: string | undefined;
  readonly byString = new Map<string, number>();
  root = new Map<unknown, unknown>();
  leaves = 0;
  lastFirst: unknown = MISSING_PART;
  lastNode: Map<unknown, unknown> | undefined = undefined;

  constructor(f: FieldSpec, hashSeed: number, mask: number, tsField: string) {
    this.seed = murmur3(f.name, hashSeed);
    this.mask = mask;
    this.tsField = tsField;
    this.input = f.inputs[0];
    this.derive = DERIVES[f.derive ?? 'identity'] ?? IDENTITY;
    this.names = f.inputs;
    this.fallback = f.default === undefined ? undefined : toCategory(f.default);
    this.bounds = EMPTY_BOUNDS;
    this.table = [];
    this.resolution = 0;
    this.maxBucket = 0;
    this.index = 0;
    this.log = false;
    this.scale = 1;
    this.missingValue = 0;
    this.missingIndex = 0;
    const enc = f.encoding;
    if (f.inputs.length > 1) {
      this.kind = CROSS;
      return;
    }
    const fallback = f.default === undefined ? undefined : toNumber(f.default);
    switch (enc.type) {
      case 'categorical':
        this.kind = CATEGORICAL;
        this.missingIndex = this.hash(f.default === undefined ? MISSING_TOKEN : toCategory(f.default)!);
        break;
      case 'bucketize':
        this.kind = BUCKETIZE;
        this.bounds = Float64Array.from(enc.boundaries);
        this.table = Array.from({ length: this.bounds.length + 1 }, (_, b) => this.hash(String(b)));
        this.missingIndex = fallback === undefined ? this.hash(MISSING_TOKEN) : this.table[bucketOf(this.bounds, fallback)];
        break;
      case 'log_bucket': {
        this.kind = LOG_BUCKET;
        const resolution = (this.resolution = enc.resolution ?? 2);
        const maxBucket = (this.maxBucket = enc.maxBucket ?? 63);
        this.table = Array.from({ length: maxBucket + 1 }, (_, b) => this.hash(String(b)));
        this.missingIndex =
          fallback === undefined ? this.hash(MISSING_TOKEN) : this.table[fallback > 0 ? Math.min(maxBucket, Math.floor(Math.log1p(fallback) * resolution)) : 0];
        break;
      }
      default: {
        this.kind = NUMERIC;
        this.index = this.hash('');
        const log = (this.log = enc.transform === 'log1p');
        const scale = (this.scale = enc.scale ?? 1);
        this.missingValue = fallback === undefined ? 0 : Math.fround((log ? Math.log1p(Math.max(fallback, 0)) : fallback) * scale);
      }
    }
  }

  /** The index of a categorical form. */
  hash(s: string): number {
    return murmur3(s, this.seed) & this.mask;
  }
}

const EMPTY_BOUNDS = new Float64Array(0);

/** A derived field's number (undefined when missing). */
function derive(f: Field, row: RowValues): number | undefined {
  const t = toNumber(row[f.input]);
  if (t === undefined) return undefined;
  switch (f.derive) {
    case HOUR_OF_DAY:
      return mod(Math.floor(t / HOUR_MS), 24);
    case DAY_OF_WEEK:
      // 1970-01-01 was a Thursday (4).
      return mod(Math.floor(t / DAY_MS) + 4, 7);
    case AGE_SECONDS: {
      const now = toNumber(row[f.tsField]);
      return now === undefined ? undefined : (now - t) / 1000;
    }
    default:
      return t;
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

/** Separator of a cross's values. */
const CROSS_SEPARATOR = '\u0001';

/** A cross's key string: every input's categorical form, joined by {@link CROSS_SEPARATOR}. */
function crossKey(f: Field, row: RowValues): string {
  let key = '';
  for (let i = 0; i < f.names.length; i++) {
    const c = toCategory(row[f.names[i]]);
    key += (i ? CROSS_SEPARATOR : '') + (c ?? f.fallback ?? MISSING_TOKEN);
  }
  return key;
}

/**
 * Crosses: the key string ({@link crossKey}), hashed. The key string is what defines the index; building it for every
 * row is what costs (a number's string, two concatenations, then hashing the joined string for the cache lookup),
 * so rows whose inputs are all strings, numbers or missing are answered from nested maps keyed by the raw values
 * instead. That is exact because a string's form is itself, a number's form `String(n)` depends on n alone (and Map
 * keys identify 0 and -0, whose forms are both "0"), and every missing value takes the same token. Other values
 * (booleans, bigints, Dates, objects) take the string path. The first input's last value and its node are kept:
 * within a request, the user/context side of a cross is the same for every candidate row, so the first level is
 * usually answered without a lookup.
 */
function crossIndex(f: Field, row: RowValues): number {
  const arity = f.names.length;
  let node = f.root;
  for (let i = 0; i < arity; i++) {
    const v = partOf(row[f.names[i]]);
    if (typeof v !== 'string' && typeof v !== 'number' && v !== MISSING_PART) return cached(f, crossKey(f, row));
    if (i === arity - 1) {
      let idx = node.get(v) as number | undefined;
      if (idx === undefined) {
        if (f.leaves >= CACHE_LIMIT) {
          f.root = new Map();
          f.leaves = 0;
          f.lastNode = undefined;
          node = f.root;
          for (let j = 0; j < i; j++) node = child(node, partOf(row[f.names[j]]));
        }
        idx = f.hash(crossKey(f, row));
        node.set(v, idx);
        f.leaves++;
      }
      return idx;
    }
    if (i === 0 && f.lastNode !== undefined && v === f.lastFirst) node = f.lastNode;
    else {
      node = child(node, v);
      if (i === 0) {
        f.lastFirst = v;
        f.lastNode = node;
      }
    }
  }
  return 0; // unreachable: arity ≥ 2
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

function cached(f: Field, key: string): number {
  let idx = f.byString.get(key);
  if (idx === undefined) {
    if (f.byString.size >= CACHE_LIMIT) f.byString.clear();
    idx = f.hash(key);
    f.byString.set(key, idx);
  }
  return idx;
}
