/**
 * Parity of the SDK's built-in evaluator with onnxruntime-web on models trained and exported by lockstep's own
 * trainer and ONNX exporter, for every model family: 12,000 rows each, outputs within 1e-6. The interpreter path
 * (used for graphs the fused kernels do not recognise) is held to the same bound.
 */
import { describe, expect, it } from 'vitest';
import { loadBuiltin, registerBackend, createEngine, type ModelEngine } from '@lockstep/sdk';
import { onnxruntimeWebBackend } from '@lockstep/sdk/onnxruntime-web';
// The trainer and exporter are not exported from @lockstep/offline's index yet: imported from their modules.
import { arraySource } from '../packages/offline/src/train/batch-source.ts';
import { predictProbabilities, type ModelParams } from '../packages/offline/src/train/model-params.ts';
import { syntheticClicks } from '../packages/offline/src/train/synthetic.ts';
import { train } from '../packages/offline/src/train/trainer.ts';
import { toOnnx } from '../packages/offline/src/export/onnx-model.ts';

const ROWS = 12_000;
const TOLERANCE = 1e-6;

// Trained on one sample, scored on another (so some indices were never seen in training); non-unit values on a
// third of the slots, as numeric features give.
const fit = syntheticClicks({ rows: 40_000, fields: 16, hashBits: 16, seed: 5 });
const test = syntheticClicks({ rows: ROWS, fields: 16, hashBits: 16, seed: 6 });
for (const d of [fit, test]) for (let i = 0; i < d.values.length; i += 3) d.values[i] = Math.fround(((i * 7919) % 1000) / 250 - 1);
const source = arraySource({ width: fit.width, dimension: fit.dimension, indices: fit.indices, values: fit.values, labels: fit.labels });

registerBackend(onnxruntimeWebBackend(), 10);

async function run(engine: ModelEngine): Promise<Float32Array> {
  const out = new Float32Array(ROWS);
  // Batches of 100, as the scorer runs them.
  for (let r = 0; r < ROWS; r += 100) {
    const n = Math.min(100, ROWS - r);
    const slice = new Float32Array(n);
    await engine.run(test.indices.subarray(r * test.width), test.values.subarray(r * test.width), n, slice);
    out.set(slice, r);
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe.each(['lr', 'fm'] as const)('%s exported by lockstep', (family) => {
  it(`built-in evaluator = onnxruntime-web within ${TOLERANCE} on ${ROWS} rows`, async () => {
    const params: ModelParams = (await train(source, { family, ...(family === 'fm' ? { fm: { factors: 8 } } : {}) })).params;
    const bytes = toOnnx(params);
    const model = { bytes, width: test.width };
    const fused = loadBuiltin(model);
    const interpreted = loadBuiltin(model, { fused: false });
    const ort = await createEngine(model, { backends: ['onnxruntime-web'] });
    expect(fused.info.mode).toBe(`fused-${family}`);
    expect(ort.info.backend).toBe('onnxruntime-web');

    const [a, b, c] = [await run(fused), await run(interpreted), await run(ort)];
    const offline = predictProbabilities(params, test.indices, test.values, ROWS);
    const diffs = { fused_vs_ort: maxAbsDiff(a, c), interpreter_vs_ort: maxAbsDiff(b, c), fused_vs_offline: maxAbsDiff(a, offline) };
    console.log(`${family} parity over ${ROWS} rows, max |Δ|:`, diffs);
    expect(diffs.fused_vs_ort).toBeLessThanOrEqual(TOLERANCE);
    expect(diffs.interpreter_vs_ort).toBeLessThanOrEqual(TOLERANCE);
    expect(diffs.fused_vs_offline).toBeLessThanOrEqual(TOLERANCE);
    // The scores are not degenerate: they spread like click probabilities.
    expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(0.05);
    await ort.dispose();
  });
});
