import { describe, expect, it } from 'vitest';
import type { FeatureRow } from '../online-format.ts';
import { EntityCache, NOT_WRITTEN, WRITTEN_WITH_TERMS, WRITTEN_WITHOUT_TERMS } from './entity-cache.ts';

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

  it('serves memoised slots from hot records exactly while the entry would be served, and forgets them with it', () => {
    const cache = new EntityCache({ maxStalenessMs: 100, maxEntries: 2 });
    const p = cache.partition('p');
    const group = {};
    const at = Int32Array.of(2, 0);
    const indices = new Int32Array(3);
    const values = new Float32Array(3);
    const slots = Float64Array.of(9, 9, 11, 12, 0.5, 1, 9);
    const write = (key: number, now: number, ts: number) => p.writeSlots(key, now, ts, 10, group, at, indices, values, 0, undefined) !== NOT_WRITTEN;
    const stored = row(1000);
    p.set(7, stored, 1000);
    expect(write(7, 1000, 1000)).toBe(false); // nothing memoised yet
    p.memoise(7, p.lookup(7, 1000)!, group, slots, 2, 2);
    expect([...p.lookup(7, 1000)!.slots!]).toEqual([11, 12, 0.5, 1]);
    expect(write(7, 1100, 10_999)).toBe(true);
    expect([...indices]).toEqual([12, 0, 11]);
    expect([...values]).toEqual([1, 0, 0.5]);
    expect(write(7, 1101, 1000)).toBe(false); // stale (staleness bound), as lookup would say
    expect(write(7, 1000, 11_000)).toBe(false); // expired (TTL 10 s)
    expect(p.writeSlots(7, 1000, 1000, 10, {}, at, indices, values, 0, undefined)).toBe(NOT_WRITTEN); // another field group
    p.set(7, stored, 1050); // read again, the same row: still served, staleness from the new read
    expect(write(7, 1150, 1000)).toBe(true);
    p.set(7, row(1000), 1050); // another row (even with equal values): its slots must be computed again
    expect(write(7, 1050, 1000)).toBe(false);
    expect(p.lookup(7, 1050)!.slots).toBeUndefined();

    // A key served from its hot record counts as used for eviction.
    p.memoise(7, p.lookup(7, 1050)!, group, slots, 2, 2);
    p.set(8, row(1000), 1050);
    expect(write(7, 1050, 1050)).toBe(true);
    p.set(9, row(1000), 1050); // over maxEntries: 7 was used, 8 goes
    expect(p.lookup(8, 1050)).toBeUndefined();
    expect(write(7, 1050, 1050)).toBe(true);
    p.set(10, row(1000), 1050); // 9 (unused) goes
    p.set(11, row(1000), 1050); // 7 was used: second chance (flag cleared), 10 goes
    p.set(12, row(1000), 1050); // 11 goes
    p.set(13, row(1000), 1050); // 7, unused since its second chance, goes
    expect(p.lookup(7, 1050)).toBeUndefined();
    expect(write(7, 1050, 1050)).toBe(false);
    p.set(7, stored, 1050); // back, without its memoised slots
    expect(write(7, 1050, 1050)).toBe(false);
    cache.clear();
    expect(write(7, 1050, 1050)).toBe(false);
  });

  it('remembers engine terms in hot records only for the slots they were computed from, and forgets them with the slots', () => {
    const cache = new EntityCache({ maxStalenessMs: 100, maxEntries: 2 });
    const p = cache.partition('p');
    const group = {};
    const at = Int32Array.of(2, 0, 1);
    const indices = new Int32Array(3);
    const values = new Float32Array(3);
    const terms = new Float32Array(3);
    const slots = Float64Array.of(11, 12, 13, 0.5, 1, 2);
    const write = (key: number, g: object = group) => p.writeSlots(key, 1000, 1000, 10, g, at, indices, values, 0, terms);
    const engine = () => at.forEach((s) => (terms[s] = Number.isNaN(terms[s]) ? Math.fround(indices[s] * values[s] * 0.1) : terms[s]));
    const remember = (key: number, g: object = group) => p.rememberTerms(key, g, at, indices, values, terms, 0);
    p.set(7, row(1000), 1000);
    p.memoise(7, p.lookup(7, 1000)!, group, slots, 0, 3, true);
    expect(write(7)).toBe(WRITTEN_WITHOUT_TERMS);
    expect([...terms].every(Number.isNaN)).toBe(true);
    remember(7); // the engine left NaN (it ignores terms): nothing remembered
    expect(write(7)).toBe(WRITTEN_WITHOUT_TERMS);
    engine();
    const computed = [...terms];
    indices[at[1]] = 99; // not the record's slots any more (another request replaced the row meanwhile)
    remember(7);
    expect(write(7)).toBe(WRITTEN_WITHOUT_TERMS);
    engine();
    remember(7, {}); // another field group (another model)
    expect(write(7)).toBe(WRITTEN_WITHOUT_TERMS);
    engine();
    remember(7);
    terms.fill(-1);
    indices.fill(-1);
    expect(write(7)).toBe(WRITTEN_WITH_TERMS);
    expect([...terms]).toEqual(computed);
    expect([...indices]).toEqual([-1, -1, -1]); // the terms alone: the engine reads nothing else there
    expect(write(7, {})).toBe(NOT_WRITTEN);
    // Eviction's second chance keeps them; new slots for the key drop them.
    p.set(8, row(1000), 1000);
    p.set(9, row(1000), 1000); // 7 was used: second chance, 8 goes
    expect(write(7)).toBe(WRITTEN_WITH_TERMS);
    p.memoise(7, p.lookup(7, 1000)!, group, slots, 0, 3, true);
    expect(write(7)).toBe(WRITTEN_WITHOUT_TERMS);
    expect([...indices]).toEqual([12, 13, 11]);
    engine();
    remember(7);
    p.set(7, row(1000), 1000); // another row
    expect(write(7)).toBe(NOT_WRITTEN);
    p.memoise(7, p.lookup(7, 1000)!, group, slots, 0, 3, true);
    expect(write(7)).toBe(WRITTEN_WITHOUT_TERMS);
    // Another group's records replace this one's: back to no terms.
    p.memoise(7, p.lookup(7, 1000)!, {}, slots, 0, 3, true);
    p.memoise(7, p.lookup(7, 1000)!, group, slots, 0, 3, true);
    expect(write(7)).toBe(WRITTEN_WITHOUT_TERMS);
    // Records made without room for terms (an engine that computes none) never take any.
    const plain = {};
    p.memoise(7, p.lookup(7, 1000)!, plain, slots, 0, 3);
    expect(write(7, plain)).toBe(WRITTEN_WITHOUT_TERMS);
    engine();
    remember(7, plain);
    expect(write(7, plain)).toBe(WRITTEN_WITHOUT_TERMS);
  });
});
