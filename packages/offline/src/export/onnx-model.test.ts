import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web/wasm';
import { arraySource } from '../train/batch-source.ts';
import { predictProbabilities, type ModelParams } from '../train/model-params.ts';
import { SeededRandom } from '../train/random.ts';
import { syntheticClicks } from '../train/synthetic.ts';
import { train } from '../train/trainer.ts';
import { pythonUnavailable, runPython } from '../evaluate/debian-python.ts';
import { toOnnx } from './onnx-model.ts';

ort.env.wasm.numThreads = 1;

const ROWS = 12_000;
// Trained models (not random weights): 12 fields, non-unit values on a third of the slots, some unseen indices.
const data = syntheticClicks({ rows: 60_000, fields: 12, hashBits: 16, seed: 21 });
const rng = new SeededRandom(8);
for (let i = 0; i < data.values.length; i++) if (i % 3 === 0) data.values[i] = Math.fround(rng.next() * 3 - 0.5);
const source = arraySource({ width: data.width, dimension: data.dimension, indices: data.indices, values: data.values, labels: data.labels });
const trained: Record<'lr' | 'fm', ModelParams> = {
  lr: (await train(source, { family: 'lr' })).params,
  fm: (await train(source, { family: 'fm', fm: { factors: 8 } })).params,
};
const dir = mkdtempSync(join(tmpdir(), 'lockstep-onnx-'));

describe('ONNX export', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const missing = pythonUnavailable(['onnx']);
  const skip = missing !== undefined && process.env.CI !== 'true';
  it.skipIf(skip)(`passes onnx.checker.check_model(full_check=True) for both families${skip ? ` (skipped: ${missing})` : ''}`, async () => {
    const files = (['lr', 'fm'] as const).map((f) => {
      const path = join(dir, `${f}.onnx`);
      writeFileSync(path, toOnnx(trained[f]));
      return path;
    });
    const script = join(dir, 'check.py');
    writeFileSync(
      script,
      [
        'import sys, json, onnx',
        'out = []',
        'for path in sys.argv[1:]:',
        '    m = onnx.load(path)',
        '    onnx.checker.check_model(m, full_check=True)',
        '    ops = sorted({n.op_type for n in m.graph.node})',
        '    domains = sorted({n.domain for n in m.graph.node} | {o.domain for o in m.opset_import})',
        '    out.append({"ir": m.ir_version, "opset": [o.version for o in m.opset_import], "ops": ops, "domains": domains,',
        '                "inputs": [(i.name, i.type.tensor_type.elem_type) for i in m.graph.input],',
        '                "outputs": [(o.name, o.type.tensor_type.elem_type, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in m.graph.output]})',
        'print(json.dumps(out))',
      ].join('\n'),
    );
    const [lr, fm] = JSON.parse(await runPython(script, files)) as Array<{ ir: number; opset: number[]; ops: string[]; domains: string[]; inputs: unknown; outputs: unknown }>;
    for (const m of [lr, fm]) {
      expect(m.ir).toBe(8);
      expect(m.opset).toEqual([13]);
      expect(m.domains).toEqual(['']);
      expect(m.inputs).toEqual([['indices', 7], ['values', 1]]);
      expect(m.outputs).toEqual([['probability', 1, ['N', 1]]]);
    }
    expect(lr.ops).toEqual(['Add', 'Gather', 'Mul', 'ReduceSum', 'Sigmoid']);
    expect(fm.ops).toEqual(['Add', 'Gather', 'Mul', 'ReduceSum', 'Sigmoid', 'Sub', 'Unsqueeze']);
  });

  for (const family of ['lr', 'fm'] as const) {
    it(`${family}: onnxruntime-web gives the TypeScript model's probabilities within 1e-6 on ${ROWS} rows`, async () => {
      const params = trained[family];
      const session = await ort.InferenceSession.create(toOnnx(params));
      const F = params.width;
      // Rows the model was not trained on (fresh draws), in batches of 1,000.
      const test = syntheticClicks({ rows: ROWS, fields: F, hashBits: 16, seed: 99 });
      for (let i = 0; i < test.values.length; i++) if (i % 3 === 0) test.values[i] = Math.fround(rng.next() * 3 - 0.5);
      const ours = predictProbabilities(params, test.indices, test.values, ROWS);
      let worst = 0;
      for (let from = 0; from < ROWS; from += 1000) {
        const n = Math.min(1000, ROWS - from);
        const idx = test.indices.subarray(from * F, (from + n) * F);
        const feeds = {
          indices: new ort.Tensor('int64', BigInt64Array.from(idx, (v) => BigInt(v)), [n, F]),
          values: new ort.Tensor('float32', test.values.slice(from * F, (from + n) * F), [n, F]),
        };
        const out = await session.run(feeds);
        expect(out.probability.dims).toEqual([n, 1]);
        const p = out.probability.data as Float32Array;
        for (let r = 0; r < n; r++) worst = Math.max(worst, Math.abs(p[r] - ours[from + r]));
      }
      expect(worst).toBeLessThan(1e-6);
      // The model is not trivial: predictions spread.
      expect(Math.max(...ours) - Math.min(...ours)).toBeGreaterThan(0.1);
    });
  }
});
