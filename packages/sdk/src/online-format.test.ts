import { describe, expect, it } from 'vitest';
import { decodeFeatureValue, decodePointer, encodeEntityKey, encodeFeatureValue, encodePointer, featureKey } from './online-format.ts';

describe('online format', () => {
  const view = { name: 'user_stats', schemaHash: '0a1b2c3d' };

  it('builds keys with project, view, schema hash, version and the entity', () => {
    expect(featureKey('ads', view, 3, [42])).toBe('ls:ads:user_stats:0a1b2c3d:v3:42');
    expect(featureKey('ads', view, 3, [42, 'shoes'])).toBe('ls:ads:user_stats:0a1b2c3d:v3:42|shoes');
  });

  it('escapes separators so distinct entities never share a key', () => {
    expect(encodeEntityKey(['a|b'])).not.toBe(encodeEntityKey(['a', 'b']));
    expect(encodeEntityKey(['a%7Cb'])).not.toBe(encodeEntityKey(['a|b']));
    expect(() => encodeEntityKey([1.5])).toThrow(/integer/);
  });

  it('round-trips float64 values exactly and nulls non-finite ones', () => {
    const values = [0.1 + 0.2, 1 / 3, 12345678901234, null, Number.NaN, 5e-324];
    const decoded = decodeFeatureValue(encodeFeatureValue(1700000000000, values), values.length)!;
    expect(decoded.eventTimeMs).toBe(1700000000000);
    expect(decoded.values).toEqual([0.1 + 0.2, 1 / 3, 12345678901234, null, null, 5e-324]);
  });

  it('never misreads a value of another width or a malformed one', () => {
    const text = encodeFeatureValue(1, [1, 2, 3]);
    expect(decodeFeatureValue(text, 2)).toBeUndefined();
    expect(decodeFeatureValue('[1,"x"]', 1)).toBeUndefined();
    expect(decodeFeatureValue('not json', 1)).toBeUndefined();
    expect(decodeFeatureValue(null, 1)).toBeUndefined();
  });

  it('round-trips the publication pointer and ignores a malformed one', () => {
    expect(decodePointer(encodePointer({ 'user_stats:0a1b2c3d': 4 }))).toEqual({ 'user_stats:0a1b2c3d': 4 });
    expect(decodePointer('{bad')).toEqual({});
  });
});
