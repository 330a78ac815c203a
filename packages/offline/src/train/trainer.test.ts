import { describe, expect, it } from 'vitest';
import { arraySource } from './batch-source.ts';
import { syntheticClicks, type SyntheticData } from './synthetic.ts';
import { train } from './trainer.ts';
import { evaluate } from '../evaluate/evaluate.ts';
import { binaryMetrics } from '../evaluate/metrics.ts';

/** First `trainRows` rows to train on, the rest to evaluate on (with the true probability as reference). */
function split(d: SyntheticData, trainRows: number) {
  const w = d.width;
  const part = (from: number, to: number) =>
    arraySource({
      width: w,
      dimension: d.dimension,
      indices: d.indices.subarray(from * w, to * w),
      values: d.values.subarray(from * w, to * w),
      labels: d.labels.subarray(from, to),
      columns: { p_true: d.probabilities.subarray(from, to) },
    });
  return { train: part(0, trainRows), test: part(trainRows, d.rows) };
}

describe('training', () => {
  it('FTRL logistic regression learns a known linear model to near the Bayes limit, calibrated', async () => {
    const d = syntheticClicks({ rows: 250_000, fields: 8, hashBits: 18, cardinalities: [2, 4, 7, 24, 100, 300, 50, 10], interactions: [], weightScale: 0.8, bias: -2.5, seed: 3 });
    const { train: tr, test } = split(d, 200_000);
    const result = await train(tr, { family: 'lr', epochs: 2, ftrl: { alpha: 0.1, l1: 0.1, l2: 1 } });
    const ev = await evaluate(result.params, test, { reference: 'p_true' });
    expect(ev.bayes!.metrics.auc - ev.metrics.auc).toBeLessThan(0.01);
    expect(ev.metrics.logloss - ev.bayes!.metrics.logloss).toBeLessThan(0.005);
    expect(Math.abs(ev.metrics.calibration - 1)).toBeLessThan(0.05);
    expect(result.epochs).toHaveLength(2);
    expect(result.curve.length).toBeGreaterThan(50);
    // The second pass has seen every row once already: its progressive loss is lower.
    expect(result.epochs[1].trainLogloss).toBeLessThan(result.epochs[0].trainLogloss);
  });

  it('the factorization machine learns interactions the logistic regression cannot', async () => {
    const d = syntheticClicks({
      rows: 300_000,
      fields: 6,
      hashBits: 16,
      cardinalities: [8, 12, 20, 8, 12, 20],
      interactions: [[0, 3], [1, 4], [2, 5]],
      weightScale: 0.2,
      interactionScale: 2.5,
      bias: -2,
      seed: 5,
    });
    const { train: tr, test } = split(d, 250_000);
    const lr = await train(tr, { family: 'lr', epochs: 2 });
    const fm = await train(tr, { family: 'fm', epochs: 2, fm: { factors: 8, learningRate: 0.1 } });
    const evLr = await evaluate(lr.params, test, { reference: 'p_true' });
    const evFm = await evaluate(fm.params, test, { reference: 'p_true' });
    expect(evFm.metrics.auc).toBeGreaterThan(evLr.metrics.auc + 0.03);
    expect(evFm.bayes!.metrics.auc - evFm.metrics.auc).toBeLessThan(0.02);
    expect(Math.abs(evFm.metrics.calibration - 1)).toBeLessThan(0.05);
  });

  it('is deterministic: the same seed gives the same parameters bit for bit', async () => {
    const d = syntheticClicks({ rows: 20_000, fields: 6, hashBits: 14, seed: 9 });
    const src = split(d, 20_000).train;
    for (const family of ['lr', 'fm'] as const) {
      const a = await train(src, { family, seed: 4, negativeSampling: 0.5 });
      const b = await train(src, { family, seed: 4, negativeSampling: 0.5 });
      const c = await train(src, { family, seed: 5, negativeSampling: 0.5 });
      expect(Buffer.from(a.params.weights.buffer).equals(Buffer.from(b.params.weights.buffer))).toBe(true);
      expect(a.params.bias).toBe(b.params.bias);
      if (a.params.family === 'fm' && b.params.family === 'fm') {
        expect(Buffer.from(a.params.embeddings.buffer).equals(Buffer.from(b.params.embeddings.buffer))).toBe(true);
      }
      expect(Buffer.from(a.params.weights.buffer).equals(Buffer.from(c.params.weights.buffer))).toBe(false);
    }
  });

  it('negative down-sampling is corrected: the exported model stays calibrated', async () => {
    const d = syntheticClicks({ rows: 300_000, fields: 8, hashBits: 16, interactions: [], weightScale: 0.6, bias: -3.5, seed: 11 });
    const { train: tr, test } = split(d, 250_000);
    const sampled = await train(tr, { family: 'lr', negativeSampling: 0.1, seed: 2 });
    expect(sampled.epochs[0].trainedRows).toBeLessThan(0.2 * sampled.rows);
    const ev = await evaluate(sampled.params, test);
    expect(Math.abs(ev.metrics.calibration - 1)).toBeLessThan(0.08);
    // Without the log(rate) shift the same model would over-predict several-fold.
    const uncorrected = { ...sampled.params, bias: sampled.params.bias - Math.log(0.1) };
    const evRaw = await evaluate(uncorrected, test);
    expect(evRaw.metrics.calibration).toBeGreaterThan(4);
    // And it ranks about as well as a model trained on every row.
    const full = await train(tr, { family: 'lr' });
    const evFull = await evaluate(full.params, test);
    expect(evFull.metrics.auc - ev.metrics.auc).toBeLessThan(0.01);
  });

  it('early stopping keeps the best validation epoch and reports each epoch', async () => {
    const d = syntheticClicks({ rows: 30_000, fields: 10, hashBits: 16, seed: 13 });
    const { train: tr, test } = split(d, 20_000);
    const seen: number[] = [];
    const metrics: string[] = [];
    const r = await train(tr, {
      family: 'fm',
      epochs: 8,
      fm: { learningRate: 0.3 },
      validation: test,
      earlyStopping: { patience: 1 },
      onEpoch: (e) => void seen.push(e.epoch),
      onMetrics: (m) => void metrics.push(...Object.keys(m)),
    });
    expect(seen.length).toBeLessThan(8);
    expect(r.bestEpoch).toBe(seen.length - 1);
    const best = r.epochs[r.bestEpoch - 1].validationLogloss!;
    for (const e of r.epochs) expect(e.validationLogloss).toBeGreaterThanOrEqual(best);
    expect(metrics).toContain('validation_logloss');
    expect(metrics).toContain('train_progressive_logloss');
    // The kept parameters are the best epoch's.
    const ev = await evaluate(r.params, test);
    expect(ev.metrics.logloss).toBeCloseTo(best, 12);
    expect(binaryMetrics([0.5], [1]).rows).toBe(1);
  });

  it('refuses bad options', async () => {
    const d = syntheticClicks({ rows: 10, fields: 2, hashBits: 8 });
    const src = split(d, 10).train;
    await expect(train(src, { family: 'lr', negativeSampling: 0 })).rejects.toThrow(/negativeSampling/);
    await expect(train(src, { family: 'lr', epochs: 0 })).rejects.toThrow(/epochs/);
    await expect(train(src, { family: 'xx' as 'lr' })).rejects.toThrow(/family/);
  });
});
