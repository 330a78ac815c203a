import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../train/random.ts';
import { aucDifference, structuralComponents } from './auc-difference.ts';
import { auc } from './metrics.ts';

/** Rows with a click probability rising with a latent x; model a sees x with little noise, model b with more. */
function rows(n: number, seed: number) {
  const rng = new SeededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const labels = new Uint8Array(n);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = gauss();
    labels[i] = rng.next() < 1 / (1 + Math.exp(-(x - 1.5))) ? 1 : 0;
    // Rounded scores make ties, which the components must count as ½.
    a[i] = Math.round((x + 0.5 * gauss()) * 4) / 4;
    b[i] = Math.round((x + 1.2 * gauss()) * 4) / 4;
  }
  return { labels, a, b };
}

describe('structuralComponents', () => {
  it('match the pairwise definition, ties counted ½, and average to the AUC', () => {
    const { labels, a } = rows(300, 1);
    const { positives, negatives } = structuralComponents(a, labels);
    const pos = [...labels.keys()].filter((i) => labels[i]);
    const neg = [...labels.keys()].filter((i) => !labels[i]);
    const cmp = (p: number, q: number) => (a[p] > a[q] ? 1 : a[p] === a[q] ? 0.5 : 0);
    pos.forEach((p, k) => expect(positives[k]).toBeCloseTo(neg.reduce((s, q) => s + cmp(p, q), 0) / neg.length, 12));
    neg.forEach((q, k) => expect(negatives[k]).toBeCloseTo(pos.reduce((s, p) => s + cmp(p, q), 0) / pos.length, 12));
    const meanPos = positives.reduce((s, v) => s + v, 0) / positives.length;
    const meanNeg = negatives.reduce((s, v) => s + v, 0) / negatives.length;
    expect(meanPos).toBeCloseTo(auc(a, labels), 12);
    expect(meanNeg).toBeCloseTo(auc(a, labels), 12);
  });
});

describe('aucDifference', () => {
  it('is zero with no spread for one model against itself', () => {
    const { labels, a } = rows(200, 2);
    const d = aucDifference(a, a, labels);
    expect(d.difference).toBe(0);
    expect(d.standardError).toBe(0);
    expect(d.pValue).toBe(1);
  });

  it("agrees with a paired bootstrap's standard error", () => {
    const { labels, a, b } = rows(400, 3);
    const d = aucDifference(a, b, labels);
    expect(d.aucA).toBeCloseTo(auc(a, labels), 12);
    expect(d.aucB).toBeCloseTo(auc(b, labels), 12);
    expect(d.high - d.difference).toBeCloseTo(1.959964 * d.standardError, 5);
    const rng = new SeededRandom(9);
    const diffs: number[] = [];
    const n = labels.length;
    for (let r = 0; r < 400; r++) {
      const idx = Array.from({ length: n }, () => Math.floor(rng.next() * n));
      const l = idx.map((i) => labels[i]);
      diffs.push(auc(idx.map((i) => a[i]), l) - auc(idx.map((i) => b[i]), l));
    }
    const m = diffs.reduce((s, v) => s + v, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((s, v) => s + (v - m) ** 2, 0) / (diffs.length - 1));
    expect(d.standardError / sd).toBeGreaterThan(0.8);
    expect(d.standardError / sd).toBeLessThan(1.25);
    expect(d.difference).toBeGreaterThan(0);
  });

  it('rejects mismatched lengths and one-class labels', () => {
    expect(() => aucDifference([0.1, 0.2], [0.1], [0, 1])).toThrow(RangeError);
    expect(() => aucDifference([0.1, 0.2], [0.3, 0.1], [1, 1])).toThrow(/both/);
  });
});
