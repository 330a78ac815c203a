/**
 * The quality bench's cross-validation folds: every model, the Python peers included, chooses its settings on them,
 * so they must be stratified, of even sizes, a partition of the pool, and the same for the same seed.
 */
import { describe, expect, it } from 'vitest';
import { crossValidation, stratifiedFolds } from '../bench/quality.ts';
import { SeededRandom } from '../packages/offline/src/train/random.ts';

function labels(n: number, rate: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => (rng.next() < rate ? 1 : 0));
}

describe('stratifiedFolds', () => {
  it('gives k folds of even size and click count, the same for the same seed', () => {
    const y = labels(7609, 0.26, 3);
    const folds = stratifiedFolds(y, 5, 2026);
    const size = [0, 0, 0, 0, 0];
    const clicks = [0, 0, 0, 0, 0];
    folds.forEach((f, r) => {
      size[f]++;
      clicks[f] += y[r];
    });
    expect(Math.max(...size) - Math.min(...size)).toBeLessThanOrEqual(1);
    expect(Math.max(...clicks) - Math.min(...clicks)).toBeLessThanOrEqual(1);
    expect(stratifiedFolds(y, 5, 2026)).toEqual(folds);
    // Another seed draws other folds.
    const other = stratifiedFolds(y, 5, 7);
    expect(other.filter((f, r) => f !== folds[r]).length).toBeGreaterThan(y.length / 2);
  });
});

describe('crossValidation', () => {
  it('validates every pool row exactly once and never trains on a row it validates', async () => {
    const n = 1003;
    const width = 2;
    // Each row's first slot holds its own number: it identifies the row in every part.
    const pool = {
      width,
      dimension: 1 << 12,
      indices: Int32Array.from({ length: n * width }, (_, j) => (j % width === 0 ? j / width : 0)),
      values: new Float32Array(n * width).fill(1),
      labels: labels(n, 0.3, 5),
      columns: {},
    };
    const { selection, folds } = crossValidation(pool, 11);
    if (selection.kind !== 'cv') throw new Error('expected a cross-validation selection');
    const rowsOf = async (src: (typeof selection.folds)[number]['train']) => {
      const out: number[] = [];
      for await (const b of src.batches()) for (let r = 0; r < b.rows; r++) out.push(b.indices[r * width]);
      return out;
    };
    const validated = new Array<number>(n).fill(0);
    for (const [k, part] of selection.folds.entries()) {
      const valid = await rowsOf(part.valid);
      const train = new Set(await rowsOf(part.train));
      expect(train.size + valid.length).toBe(n);
      for (const r of valid) {
        expect(folds[r]).toBe(k);
        expect(train.has(r)).toBe(false);
        validated[r]++;
      }
    }
    expect(validated.every((c) => c === 1)).toBe(true);
  });
});
