import { describe, expect, it } from 'vitest';
import type { FeatureRow } from '../online-format.ts';
import { EntityCache } from './entity-cache.ts';

const row = (t: number): FeatureRow => ({ eventTimeMs: t, values: [t] });

describe('EntityCache', () => {
  it('finds integer keys (array-indexed) and other keys (hashed) alike, within the staleness bound', () => {
    const cache = new EntityCache({ maxStalenessMs: 100 });
    const p = cache.partition('p');
    const keys = [0, 1, 4095, 4096, 123_456, 2 ** 24 - 1, 2 ** 24, 2 ** 40, -1, 1.5, 'ad-7', '7'];
    keys.forEach((k, i) => p.set(k, row(i), 1000));
    keys.forEach((k, i) => {
      const e = p.lookup(k, 1100);
      expect(e?.row).toEqual(row(i));
      expect(e?.eventTimeMs).toBe(i);
    });
    expect(p.lookup(7, 1000)).toBeUndefined(); // '7' is another key than 7
    expect(p.lookup(0, 1101)).toBeUndefined(); // stale
    p.set(0, undefined, 1200); // an absent row is cached too
    const absent = p.lookup(0, 1200)!;
    expect(absent.row).toBeUndefined();
    expect(absent.eventTimeMs).toBeNaN();
  });

  it('evicts by CLOCK and forgets evicted and cleared keys in both indexes', () => {
    const cache = new EntityCache({ maxEntries: 3 });
    const p = cache.partition('p');
    for (const k of [10, 11, 12]) p.set(k, row(k), 0);
    p.lookup(10, 0); // used: survives the next eviction
    p.set(13, row(13), 0);
    expect(p.lookup(11, 0)).toBeUndefined();
    expect(p.size).toBe(3);
    for (const k of [10, 12, 13]) expect(p.lookup(k, 0)?.row).toEqual(row(k));
    p.set('x', row(1), 0);
    cache.clear();
    expect(p.size).toBe(0);
    for (const k of [10, 12, 13, 'x']) expect(p.lookup(k, 0)).toBeUndefined();
  });

  it('keeps sparse ids beyond its array budget in the map, and still finds them', () => {
    const cache = new EntityCache({ maxEntries: 1000 });
    const p = cache.partition('p');
    // Each key in its own 4,096-key range: only the first ranges get arrays (budget: 2 × maxEntries keys).
    const keys = Array.from({ length: 1000 }, (_, i) => i * 4096 + 7);
    keys.forEach((k) => p.set(k, row(k), 0));
    keys.forEach((k) => expect(p.lookup(k, 0)?.row).toEqual(row(k)));
    expect(p.lookup(4096 * 999 + 8, 0)).toBeUndefined();
    // A row replaced in place keeps its entry, with the new event time.
    p.set(keys[999], row(5), 0);
    expect(p.lookup(keys[999], 0)?.eventTimeMs).toBe(5);
  });
});
