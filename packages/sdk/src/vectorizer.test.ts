import { describe, expect, it } from 'vitest';
import { compileVectorizer, MISSING_TOKEN } from './vectorizer.ts';
import { murmur3 } from './hash.ts';
import type { ModelInputSpec } from './spec/model-input.ts';
import { DefinitionError } from './errors.ts';

const spec: ModelInputSpec = {
  hashSeed: 7,
  hashBits: 18,
  fields: [
    { name: 'device', inputs: ['device'], encoding: { type: 'categorical' } },
    { name: 'position', inputs: ['position'], encoding: { type: 'categorical' }, default: 1 },
    { name: 'hour', inputs: ['ts'], derive: 'hour_of_day', encoding: { type: 'categorical' } },
    { name: 'user_x_cat', inputs: ['user_id', 'ad_category'], encoding: { type: 'categorical' } },
    { name: 'ctr_7d', inputs: ['user_stats__ctr_7d'], encoding: { type: 'bucketize', boundaries: [0.01, 0.02, 0.05] } },
    { name: 'imps_7d', inputs: ['user_stats__impressions_7d'], encoding: { type: 'log_bucket' } },
    { name: 'bid', inputs: ['bid'], encoding: { type: 'numeric', transform: 'log1p' } },
    { name: 'since_last', inputs: ['user_stats__last_seen'], derive: 'age_seconds', encoding: { type: 'log_bucket', resolution: 1 } },
  ],
};

const index = (field: string, token: string) => murmur3(token, murmur3(field, 7)) & (2 ** 18 - 1);

describe('compileVectorizer', () => {
  const v = compileVectorizer(spec);
  const ts = Date.UTC(2026, 0, 5, 13, 30);
  const row = {
    device: 'mobile',
    position: 2,
    ts,
    user_id: 42,
    ad_category: 'shoes',
    user_stats__ctr_7d: 0.03,
    user_stats__impressions_7d: 100,
    bid: 1.5,
    user_stats__last_seen: ts - 3_600_000,
  };

  it('gives one slot per field with the documented indices and values', () => {
    const { indices, values } = v.vectorizeOne(row);
    expect(v.width).toBe(8);
    expect(indices[0]).toBe(index('device', 'mobile'));
    expect(indices[1]).toBe(index('position', '2'));
    expect(indices[2]).toBe(index('hour', '13'));
    expect(indices[3]).toBe(index('user_x_cat', '42\u0001shoes'));
    expect(indices[4]).toBe(index('ctr_7d', '2')); // 0.01 ≤ 0.02 ≤ 0.03 < 0.05
    expect(indices[5]).toBe(index('imps_7d', String(Math.floor(Math.log1p(100) * 2))));
    expect(values[6]).toBe(Math.fround(Math.log1p(1.5)));
    expect(indices[7]).toBe(index('since_last', String(Math.floor(Math.log1p(3600)))));
    expect([...values].filter((_, j) => j !== 6)).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  it('treats a number and its string form alike, and Dates as epoch ms', () => {
    const a = v.vectorizeOne(row);
    const b = v.vectorizeOne({ ...row, position: '2', user_id: '42', ts: new Date(ts) });
    expect([...b.indices]).toEqual([...a.indices]);
  });

  it('encodes missing values with defaults or the missing token', () => {
    const { indices, values } = v.vectorizeOne({ ts });
    expect(indices[0]).toBe(index('device', MISSING_TOKEN));
    expect(indices[1]).toBe(index('position', '1')); // declared default
    expect(indices[3]).toBe(index('user_x_cat', `${MISSING_TOKEN}\u0001${MISSING_TOKEN}`));
    expect(indices[4]).toBe(index('ctr_7d', MISSING_TOKEN));
    expect(values[6]).toBe(0);
  });

  it('is stable across calls (caches never change an answer)', () => {
    const first = v.vectorizeOne(row);
    for (let i = 0; i < 3; i++) expect([...v.vectorizeOne(row).indices]).toEqual([...first.indices]);
  });

  it('refuses an invalid spec, naming every problem', () => {
    expect(() =>
      compileVectorizer({
        hashSeed: 0,
        hashBits: 40,
        fields: [
          { name: 'a', inputs: ['x'], encoding: { type: 'bucketize', boundaries: [2, 1] } },
          { name: 'a', inputs: ['x', 'y'], encoding: { type: 'numeric' } },
        ],
      }),
    ).toThrow(DefinitionError);
    try {
      compileVectorizer({ hashSeed: 0, hashBits: 40, fields: [{ name: 'a', inputs: [], encoding: { type: 'categorical' } }] });
    } catch (e) {
      expect((e as DefinitionError).issues.join('\n')).toMatch(/hashBits.*\n.*inputs/s);
    }
  });
});
