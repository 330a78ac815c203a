import { describe, expect, it } from 'vitest';
import { AliasTable, Rng } from './prng.ts';

describe('Rng', () => {
  it('repeats a stream for the same (seed, keys) and differs otherwise', () => {
    const draw = (r: Rng) => Array.from({ length: 8 }, () => r.u32());
    expect(draw(new Rng(42, 1, 2))).toEqual(draw(new Rng(42, 1, 2)));
    expect(draw(new Rng(42, 1, 2))).not.toEqual(draw(new Rng(42, 1, 3)));
    expect(draw(new Rng(42, 1))).not.toEqual(draw(new Rng(43, 1)));
    // Seeds above 2^32 are not truncated into collisions.
    expect(draw(new Rng(2 ** 32 + 5))).not.toEqual(draw(new Rng(5)));
  });

  it('draws uniforms in [0, 1) and standard normals with the right moments', () => {
    const r = new Rng(1);
    let sum = 0;
    let sq = 0;
    let min = 1;
    let max = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const u = r.float();
      min = Math.min(min, u);
      max = Math.max(max, u);
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.02);
  });
});

describe('AliasTable', () => {
  it('samples indices in proportion to their weights', () => {
    const weights = [5, 0, 1, 3, 1];
    const table = new AliasTable(weights);
    const r = new Rng(3);
    const counts = new Array(weights.length).fill(0);
    const n = 200_000;
    for (let i = 0; i < n; i++) counts[table.sample(r)]++;
    weights.forEach((w, i) => expect(Math.abs(counts[i] / n - w / 10)).toBeLessThan(0.005));
    expect(counts[1]).toBe(0);
  });

  it('refuses empty or all-zero weights', () => {
    expect(() => new AliasTable([])).toThrow(RangeError);
    expect(() => new AliasTable([0, 0])).toThrow(RangeError);
  });
});
