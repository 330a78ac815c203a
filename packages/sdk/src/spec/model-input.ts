/**
 * The model input spec: how a flat row of named values (request fields, candidate fields and feature values)
 * becomes the model's input vector. It is declared in the feature repo, written into every bundle, and compiled
 * by {@link compileVectorizer} for both training and serving, so both compute the same vector bit for bit.
 *
 * Every field yields exactly one (index, value) slot, so a row is always `fields.length` slots wide: the ONNX
 * model's inputs are `indices: int64[batch, F]` and `values: float[batch, F]`.
 */
import { DefinitionError } from '../errors.ts';

/** A request-time transform applied to a field's single input before encoding. */
export type Derive =
  /** The value as it is. */
  | 'identity'
  /** UTC hour of day (0-23) of an epoch-millisecond timestamp. */
  | 'hour_of_day'
  /** UTC day of week (0 = Sunday) of an epoch-millisecond timestamp. */
  | 'day_of_week'
  /** Seconds from an epoch-millisecond timestamp to the row's request time (the spec's `timestampField`). */
  | 'age_seconds';

export type Encoding =
  /** The value's string form is hashed into the index space; the slot value is 1. */
  | { type: 'categorical' }
  /** A number is cut at ascending `boundaries` (bucket = how many boundaries are ≤ x); the bucket is hashed. */
  | { type: 'bucketize'; boundaries: number[] }
  /**
   * A number x ≥ 0 goes to bucket floor(log1p(x) × resolution), capped at `maxBucket`; negatives go to bucket 0.
   * Good for counts and ages whose scale spans orders of magnitude.
   */
  | { type: 'log_bucket'; resolution?: number; maxBucket?: number }
  /** One index per field; the slot value is the number, optionally log1p-transformed and scaled. */
  | { type: 'numeric'; transform?: 'none' | 'log1p'; scale?: number };

export interface FieldSpec {
  /** Unique field name; also seeds the field's hash so equal values in two fields land on different indices. */
  name: string;
  /**
   * Names of the row values this field reads: one for most encodings, two or more for a feature cross (the
   * values are joined and hashed as one categorical value). Feature values are named `<view>__<feature>`.
   */
  inputs: string[];
  /** A request-time transform of the (single) input. @default 'identity' */
  derive?: Derive;
  /** How the value becomes an index and a value. */
  encoding: Encoding;
  /**
   * The value used when an input is missing (null, undefined or NaN). Without it, categorical-style encodings
   * hash a reserved "missing" token and numeric encodings emit 0.
   */
  default?: string | number;
}

export interface ModelInputSpec {
  /** Base seed of every field's hash. @default 0 */
  hashSeed: number;
  /** The index space is 2^hashBits (between 8 and 30). */
  hashBits: number;
  /** The row value holding the request time (epoch ms), used by `age_seconds`. @default 'ts' */
  timestampField?: string;
  /** Fields, in slot order. */
  fields: FieldSpec[];
}

const DERIVES = new Set<Derive>(['identity', 'hour_of_day', 'day_of_week', 'age_seconds']);

/** Checks a spec and throws a {@link DefinitionError} listing every problem. Returns the spec for chaining. */
export function validateModelInputSpec(spec: ModelInputSpec): ModelInputSpec {
  const issues: string[] = [];
  if (!Number.isInteger(spec.hashBits) || spec.hashBits < 8 || spec.hashBits > 30) {
    issues.push(`hashBits must be an integer from 8 to 30, got ${String(spec.hashBits)}`);
  }
  if (!Number.isInteger(spec.hashSeed) || spec.hashSeed < 0 || spec.hashSeed > 0xffffffff) {
    issues.push(`hashSeed must be an unsigned 32-bit integer, got ${String(spec.hashSeed)}`);
  }
  if (!Array.isArray(spec.fields) || spec.fields.length === 0) issues.push('fields must be a non-empty array');
  const seen = new Set<string>();
  for (const [i, f] of (spec.fields ?? []).entries()) {
    const at = `fields[${i}] (${f?.name ?? '?'})`;
    if (!f?.name || typeof f.name !== 'string') issues.push(`${at}: name is required`);
    else if (seen.has(f.name)) issues.push(`${at}: duplicate field name "${f.name}"`);
    else seen.add(f.name);
    if (!Array.isArray(f.inputs) || f.inputs.length === 0 || f.inputs.some((x) => typeof x !== 'string' || !x)) {
      issues.push(`${at}: inputs must be a non-empty array of row value names`);
    }
    const derive = f.derive ?? 'identity';
    if (!DERIVES.has(derive)) issues.push(`${at}: unknown derive "${String(derive)}"`);
    const enc = f.encoding;
    if (!enc || typeof enc !== 'object') {
      issues.push(`${at}: encoding is required`);
      continue;
    }
    if (f.inputs?.length > 1 && enc.type !== 'categorical') {
      issues.push(`${at}: a cross of ${f.inputs.length} inputs must use the categorical encoding`);
    }
    if (f.inputs?.length > 1 && derive !== 'identity') issues.push(`${at}: a cross cannot have a derive`);
    switch (enc.type) {
      case 'categorical':
        break;
      case 'bucketize':
        if (!Array.isArray(enc.boundaries) || enc.boundaries.length === 0) {
          issues.push(`${at}: bucketize needs a non-empty boundaries array`);
        } else if (enc.boundaries.some((b, j) => !Number.isFinite(b) || (j > 0 && b <= enc.boundaries[j - 1]))) {
          issues.push(`${at}: boundaries must be finite and strictly ascending`);
        }
        break;
      case 'log_bucket':
        if (enc.resolution !== undefined && !(enc.resolution > 0)) issues.push(`${at}: resolution must be > 0`);
        if (enc.maxBucket !== undefined && !(Number.isInteger(enc.maxBucket) && enc.maxBucket > 0)) {
          issues.push(`${at}: maxBucket must be a positive integer`);
        }
        break;
      case 'numeric':
        if (enc.transform !== undefined && enc.transform !== 'none' && enc.transform !== 'log1p') {
          issues.push(`${at}: numeric transform must be "none" or "log1p"`);
        }
        if (enc.scale !== undefined && !Number.isFinite(enc.scale)) issues.push(`${at}: scale must be finite`);
        break;
      default:
        issues.push(`${at}: unknown encoding type "${String((enc as { type: unknown }).type)}"`);
    }
  }
  if (issues.length) throw new DefinitionError(issues);
  return spec;
}

/** Every row value name the spec reads (feature columns, request and candidate fields, the timestamp). */
export function specInputs(spec: ModelInputSpec): string[] {
  const names = new Set<string>();
  for (const f of spec.fields) {
    for (const i of f.inputs) names.add(i);
    if (f.derive === 'age_seconds') names.add(spec.timestampField ?? 'ts');
  }
  return [...names];
}
