/**
 * The optimised vectoriser against a verbatim copy of the one it replaced (vectorizer-reference.ts): random specs
 * (every encoding, derive, default and cross arity), random rows (missing keys, null, NaN, ±0, ±Infinity, numbers
 * and their string forms, booleans, bigints, valid and invalid Dates, objects, non-ASCII and lone surrogates), the
 * same vectoriser instances over many rows so that every cache is exercised, and caches driven past their bound.
 * Indices must be equal and values equal bit for bit: the vector is the training/serving contract.
 */
import { describe, expect, it } from 'vitest';
import type { FieldSpec, ModelInputSpec } from './spec/model-input.ts';
import { compileVectorizer, type RowValues, type Vectorizer } from './vectorizer.ts';
import { compileReferenceVectorizer } from './vectorizer-reference.ts';

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

type Random = ReturnType<typeof rng>;
const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

const NAMES = ['a', 'b', 'c', 'd', 'e', 'ts', 'now', 'f__x', 'f__y'];
const T0 = Date.UTC(2026, 0, 5, 13, 30);

/** Values that stress every conversion the vectoriser makes. */
function randomValue(r: Random): unknown {
  switch (Math.floor(r() * 16)) {
    case 0:
      return pick(r, [undefined, null, NaN]);
    case 1:
      return pick(r, [0, -0, 1, 2, -3, 1.5, -1e-7, 1e21, 2 ** 31, -(2 ** 31), 2 ** 53, Infinity, -Infinity, Number.MIN_VALUE, 0.1 + 0.2]);
    case 2:
    case 3:
      return Math.floor(r() * 20) - 3; // small integers: cache hits
    case 4:
      return (r() - 0.3) * 10 ** Math.floor(r() * 8);
    case 5:
      return pick(r, ['', ' ', 'a', 'mobile', 'desktop', '2', ' 3 ', '1e3', '0x10', 'NaN', 'Infinity', '-0', '0', 'abc', '\u0000', '\u0001', 'x\u0001y']);
    case 6:
      return pick(r, ['é', 'naïve', '日本', '😀', '\ud800', '\udc00x', 'a\ud83dz', '€']);
    case 7:
      return `cat_${Math.floor(r() * 30)}`;
    case 8:
      return String(Math.floor(r() * 20) - 3); // a number's string form
    case 9:
      return pick(r, [true, false, 5n, -7n, 0n]);
    case 10:
      return pick(r, [new Date(T0), new Date(T0 - 86_400_000 * 3 - 1234), new Date(Number.NaN), new Date(0)]);
    case 11:
      return pick(r, [{}, [1, 2], [], { toString: () => 'obj' }]);
    case 12:
    case 13:
      return T0 - Math.floor(r() * 86_400_000 * 10); // timestamps
    case 14:
      return String(T0 - Math.floor(r() * 86_400_000));
    default:
      return r() * 0.3; // rates
  }
}

function randomRow(r: Random): RowValues {
  const row: Record<string, unknown> = {};
  for (const n of NAMES) if (r() < 0.85) row[n] = randomValue(r);
  return row;
}

function randomField(r: Random, i: number): FieldSpec {
  const field: FieldSpec = { name: `f${i}_${Math.floor(r() * 1000)}`, inputs: [pick(r, NAMES)], encoding: { type: 'categorical' } };
  const kind = Math.floor(r() * 5);
  if (kind === 0) {
    const arity = 2 + Math.floor(r() * 3);
    field.inputs = Array.from({ length: arity }, () => pick(r, NAMES));
  } else if (kind === 1) {
    const n = 1 + Math.floor(r() * 6);
    let b = (r() - 0.5) * 2;
    field.encoding = { type: 'bucketize', boundaries: Array.from({ length: n }, () => (b += r() * 0.5 + 1e-3)) };
  } else if (kind === 2) {
    field.encoding = { type: 'log_bucket', ...(r() < 0.5 ? { resolution: pick(r, [0.5, 1, 2, 3.7]) } : {}), ...(r() < 0.5 ? { maxBucket: pick(r, [1, 5, 63, 100]) } : {}) };
  } else if (kind === 3) {
    field.encoding = { type: 'numeric', ...(r() < 0.6 ? { transform: pick(r, ['none', 'log1p'] as const) } : {}), ...(r() < 0.5 ? { scale: pick(r, [1, 0.5, -2, 1e-3, 1e40]) } : {}) };
  }
  if (field.inputs.length === 1 && r() < 0.4) field.derive = pick(r, ['identity', 'hour_of_day', 'day_of_week', 'age_seconds'] as const);
  if (r() < 0.35) field.default = pick(r, ['x', '', '3', 0, 7, -1.5, 'cat_1', '\u0000']);
  return field;
}

function randomSpec(r: Random): ModelInputSpec {
  const fields = Array.from({ length: 1 + Math.floor(r() * 12) }, (_, i) => randomField(r, i));
  return {
    hashSeed: Math.floor(r() * 2 ** 32),
    hashBits: 8 + Math.floor(r() * 20),
    ...(r() < 0.5 ? { timestampField: pick(r, ['ts', 'now']) } : {}),
    fields,
  };
}

/** Vectorises `rows` with both, in one batch at an offset and one by one, and compares bit for bit. */
function compare(spec: ModelInputSpec, rows: RowValues[], optimised: Vectorizer, reference: Vectorizer): void {
  const w = spec.fields.length;
  const offset = 3;
  const total = (rows.length + offset) * w;
  const a = { indices: new Int32Array(total), values: new Float32Array(total) };
  const b = { indices: new Int32Array(total), values: new Float32Array(total) };
  for (let i = 0; i < rows.length; i++) {
    optimised.vectorize(rows[i], a.indices, a.values, i + offset);
    reference.vectorize(rows[i], b.indices, b.values, i + offset);
  }
  const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let j = 0; j < total; j++) {
    if (a.indices[j] !== b.indices[j] || bits(a.values)[j] !== bits(b.values)[j]) {
      const i = Math.floor(j / w) - offset;
      const f = spec.fields[j % w];
      throw new Error(
        `row ${i}, field ${f.name} (${JSON.stringify(f)}): optimised ${a.indices[j]}/${a.values[j]}, reference ${b.indices[j]}/${b.values[j]}; ` +
          `inputs ${f.inputs.map((n) => `${n}=${show(rows[i][n])}`).join(', ')}`,
      );
    }
  }
  const one = optimised.vectorizeOne(rows[0]);
  const ref = reference.vectorizeOne(rows[0]);
  expect([...one.indices]).toEqual([...ref.indices]);
  expect([...bits(one.values)]).toEqual([...bits(ref.values)]);
  expect(optimised.explain(rows[1])).toEqual(reference.explain(rows[1]));
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Date) return `Date(${v.getTime()})`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return String(v);
}
describe('the optimised vectoriser equals the reference', () => {
  it('on 300 random specs × 400 random rows each', () => {
    const r = rng(20260105);
    for (let s = 0; s < 300; s++) {
      const spec = randomSpec(r);
      const rows = Array.from({ length: 400 }, () => randomRow(r));
      compare(spec, rows, compileVectorizer(spec), compileReferenceVectorizer(spec));
    }
  });

  it('on the sponsored-ads shape: request values shared by many candidate rows, numbers next to their strings', () => {
    const r = rng(7);
    const spec: ModelInputSpec = {
      hashSeed: 0,
      hashBits: 20,
      fields: [
        { name: 'position', inputs: ['position'], encoding: { type: 'categorical' } },
        { name: 'query_x_ad_category', inputs: ['query_category', 'ad_category'], encoding: { type: 'categorical' } },
        { name: 'device_x_position', inputs: ['device', 'position'], encoding: { type: 'categorical' } },
        { name: 'user_x_cat_x_pos', inputs: ['user_id', 'ad_category', 'position'], encoding: { type: 'categorical' }, default: 'none' },
        { name: 'bid', inputs: ['bid'], encoding: { type: 'numeric', transform: 'log1p' } },
        { name: 'hour', inputs: ['ts'], derive: 'hour_of_day', encoding: { type: 'categorical' } },
      ],
    };
    const optimised = compileVectorizer(spec);
    const reference = compileReferenceVectorizer(spec);
    for (let q = 0; q < 200; q++) {
      const request = { query_category: pick(r, ['cat_1', 'cat_2', 1, '1', undefined, null]), device: pick(r, ['mobile', 'desktop', 0, -0]), user_id: Math.floor(r() * 50), ts: T0 + q * 1000 };
      const rows = Array.from({ length: 100 }, (_, p) => ({
        ...request,
        position: pick(r, [p + 1, String(p + 1), p + 1.5, NaN, -0, 0, undefined]),
        ad_category: pick(r, [`cat_${p % 7}`, p % 7, null, true, new Date(T0)]),
        bid: r() * 3,
      }));
      compare(spec, rows, optimised, reference);
    }
  });

  it('past every cache bound (high-cardinality values restart the caches without changing an answer)', () => {
    const spec: ModelInputSpec = {
      hashSeed: 11,
      hashBits: 24,
      fields: [
        { name: 'id', inputs: ['id'], encoding: { type: 'categorical' } },
        { name: 'id_x_k', inputs: ['id', 'k'], encoding: { type: 'categorical' } },
        { name: 'k_x_id', inputs: ['k', 'id'], encoding: { type: 'categorical' } },
        { name: 'k_x_id_x_s', inputs: ['k', 'id', 's'], encoding: { type: 'categorical' } },
      ],
    };
    const optimised = compileVectorizer(spec);
    const reference = compileReferenceVectorizer(spec);
    const rows: RowValues[] = [];
    // 2^16 is the per-field bound: 150,000 distinct values, then the first ones again.
    for (let i = 0; i < 150_000; i++) rows.push({ id: i % 3 ? i : String(i), k: i % 5, s: i % 2 ? `s${i % 9}` : null });
    for (let i = 0; i < 2_000; i++) rows.push({ id: i, k: i % 5, s: `s${i % 9}` });
    for (let i = 0; i < rows.length; i += 10_000) compare(spec, rows.slice(i, i + 10_000), optimised, reference);
  });
});
