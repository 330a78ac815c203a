import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auc, binaryMetrics, entropy, reliabilityTable, rocCurve, wilson } from './metrics.ts';
import { evaluateScored } from './evaluate.ts';
import { pythonUnavailable, runPython } from './debian-python.ts';
import { SeededRandom } from '../train/random.ts';

describe('metrics, against hand-computed values', () => {
  it('AUC counts ties as one half', () => {
    // Positives at 0.8 and 0.4; negatives at 0.4, 0.2, 0.1. Pairs: (0.8 beats all 3) + (0.4 ties one, beats two).
    expect(auc([0.8, 0.4, 0.4, 0.2, 0.1], [1, 1, 0, 0, 0])).toBeCloseTo((3 + 2.5) / 6, 15);
    expect(auc([0.5, 0.5, 0.5], [1, 0, 1])).toBe(0.5);
    expect(auc([0.1, 0.9], [1, 0])).toBe(0);
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
  });

  it('log loss, normalized entropy and calibration', () => {
    const m = binaryMetrics([0.9, 0.2, 0.3, 0.6], [1, 0, 0, 1]);
    const ll = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.7) + Math.log(0.6)) / 4;
    expect(m.logloss).toBeCloseTo(ll, 15);
    expect(m.ctr).toBe(0.5);
    expect(m.ne).toBeCloseTo(ll / Math.log(2), 15);
    expect(m.calibration).toBeCloseTo(2 / 2, 15);
    expect(m.auc).toBe(1);
    expect(entropy(0)).toBe(0);
    // Clipped, never infinite.
    expect(Number.isFinite(binaryMetrics([0, 1], [1, 0]).logloss)).toBe(true);
  });

  it('reliability bins have equal counts and the right rates', () => {
    const p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    const y = [0, 0, 1, 0, 1, 1];
    const t = reliabilityTable(p, y, 3);
    expect(t.map((b) => b.rows)).toEqual([2, 2, 2]);
    expect(t.map((b) => b.observedRate)).toEqual([0, 0.5, 1]);
    expect(t[1].meanPrediction).toBeCloseTo(0.35, 15);
    const [lo, hi] = wilson(5, 10);
    expect(lo).toBeCloseTo(0.2366, 3);
    expect(hi).toBeCloseTo(0.7634, 3);
  });

  it('ROC runs from (0,0) to (1,1)', () => {
    const roc = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
    expect(roc[0]).toEqual({ fpr: 0, tpr: 0 });
    expect(roc.at(-1)).toEqual({ fpr: 1, tpr: 1 });
  });

  it('slices: per value, numeric values in numeric order', () => {
    const ev = evaluateScored({
      predictions: Float64Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6),
      labels: Uint8Array.of(0, 1, 0, 1, 0, 1),
      slices: { position: ['10', '2', '2', '10', '1', '1'] },
    });
    expect(ev.slices.position.map((s) => s.value)).toEqual(['1', '2', '10']);
    expect(ev.slices.position.map((s) => s.rows)).toEqual([2, 2, 2]);
    expect(ev.slices.position[0].calibration).toBeCloseTo(1.1, 12);
  });
});

describe('metrics, against scikit-learn', () => {
  const missing = pythonUnavailable(['sklearn', 'numpy']);
  const skip = missing !== undefined && process.env.CI !== 'true';
  it.skipIf(skip)(`roc_auc_score and log_loss agree to 1e-12 on 20,000 rows with ties${skip ? ` (skipped: ${missing})` : ''}`, async () => {
    const rng = new SeededRandom(42);
    const n = 20_000;
    // Rounded scores make many ties.
    const p = Array.from({ length: n }, () => Math.round(rng.next() * 200) / 201 + 0.001);
    const y = p.map((q) => (rng.next() < q ? 1 : 0));
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-metrics-'));
    try {
      const script = join(dir, 'm.py');
      writeFileSync(
        script,
        'import sys, json\nfrom sklearn.metrics import roc_auc_score, log_loss\nd = json.load(sys.stdin)\n' +
          'print(json.dumps({"auc": roc_auc_score(d["y"], d["p"]), "logloss": log_loss(d["y"], d["p"])}))\n',
      );
      const sk = JSON.parse(await runPython(script, [], JSON.stringify({ p, y }))) as { auc: number; logloss: number };
      const m = binaryMetrics(p, y);
      expect(Math.abs(m.auc - sk.auc)).toBeLessThan(1e-12);
      expect(Math.abs(m.logloss - sk.logloss)).toBeLessThan(1e-12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
