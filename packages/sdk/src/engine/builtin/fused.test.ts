/**
 * The fused kernels against a plain transcription of the graphs' float32 arithmetic (the kernels as they were before
 * their memory-access work): bit for bit, for LR and FM with several K (K = 8 has its own unrolled kernel), negative
 * indices, and batch sizes around the kernels' block size.
 */
import { describe, expect, it } from 'vitest';
import { recognise } from './fused.ts';
import { decodeModel } from './onnx.ts';
import { modelGraph, randomModel, writeOnnx, type ModelDef } from './test-fixtures.ts';

const fround = Math.fround;

/** Σ fround(w·x) per row (float64 sum), or with the FM term; the same operations in the same order as the graph. */
function reference(m: ModelDef, indices: Int32Array, values: Float32Array, rows: number, width: number): Float32Array {
  const d = m.w.length;
  const k = m.factors ?? 0;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let lin = 0;
    const s = new Float64Array(k);
    const q = new Float64Array(k);
    for (let j = r * width; j < (r + 1) * width; j++) {
      const i = indices[j] < 0 ? indices[j] + d : indices[j];
      const x = values[j];
      lin += fround(m.w[i] * x);
      for (let f = 0; f < k; f++) {
        const t = fround(m.v![i * k + f] * x);
        s[f] += t;
        q[f] += fround(t * t);
      }
    }
    let logit = fround(fround(lin) + fround(m.b));
    if (k) {
      let pair = 0;
      for (let f = 0; f < k; f++) pair += fround(fround(fround(s[f]) * fround(s[f])) - fround(q[f]));
      logit = fround(logit + fround(fround(pair) * fround(0.5)));
    }
    out[r] = 1 / (1 + Math.exp(-logit));
  }
  return out;
}

describe('fused kernels', () => {
  it('give bit for bit the graph arithmetic (LR, FM with K = 2, 4, 8, 16)', () => {
    let x = 99;
    const random = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0) >>> 0) / 2 ** 32;
    const dim = 1 << 12;
    for (const factors of [undefined, 2, 4, 8, 16]) {
      for (const width of [1, 25]) {
        const m = randomModel(dim, width, factors, 11 + (factors ?? 0) + width);
        const fused = recognise(decodeModel(writeOnnx(modelGraph(m))), { indices: 'indices', values: 'values', output: 'probability' });
        expect(fused?.family).toBe(factors ? 'fm' : 'lr');
        const kernel = fused!.kernel(width);
        for (const rows of [0, 1, 31, 32, 33, 100]) {
          const indices = new Int32Array(rows * width);
          const values = new Float32Array(rows * width);
          for (let i = 0; i < indices.length; i++) {
            indices[i] = Math.floor(random() * dim) - (random() < 0.1 ? dim : 0); // some counted from the end
            values[i] = random() < 0.5 ? 1 : (random() - 0.5) * 8;
          }
          const out = new Float32Array(rows);
          kernel(indices, values, rows, out);
          expect([...out]).toEqual([...reference(m, indices, values, rows, width)]);
        }
      }
    }
  });

  it('give the same bits when told which positions every row shares (read from the first row only)', () => {
    let x = 7;
    const random = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0) >>> 0) / 2 ** 32;
    const dim = 1 << 12;
    const width = 25;
    for (const factors of [undefined, 4, 8]) {
      const m = randomModel(dim, width, factors, 5 + (factors ?? 0));
      const kernel = recognise(decodeModel(writeOnnx(modelGraph(m))), { indices: 'indices', values: 'values', output: 'probability' })!.kernel(width);
      for (const rows of [0, 1, 2, 33, 100]) {
        // A random subset of positions, the same (index, value) in every row; the others random per row.
        const shared = Int32Array.from(Array.from({ length: width }, (_, p) => p).filter(() => random() < 0.4));
        const indices = new Int32Array(rows * width);
        const values = new Float32Array(rows * width);
        const first = Array.from({ length: width }, () => [Math.floor(random() * dim) - (random() < 0.1 ? dim : 0), random() < 0.5 ? 1 : (random() - 0.5) * 8]);
        for (let r = 0; r < rows; r++) {
          for (let p = 0; p < width; p++) {
            const own = !shared.includes(p);
            indices[r * width + p] = own ? Math.floor(random() * dim) : first[p][0];
            values[r * width + p] = own ? (random() - 0.5) * 8 : first[p][1];
          }
        }
        const out = new Float32Array(rows);
        kernel(indices, values, rows, out, shared);
        expect([...out]).toEqual([...reference(m, indices, values, rows, width)]);
        // The same kernel without the hint afterwards (its shared terms must not leak into the next call).
        kernel(indices, values, rows, out);
        expect([...out]).toEqual([...reference(m, indices, values, rows, width)]);
      }
    }
  });

  it('refuses a shared position outside the row', () => {
    const m = randomModel(64, 3, undefined, 1);
    const kernel = recognise(decodeModel(writeOnnx(modelGraph(m))), { indices: 'indices', values: 'values', output: 'probability' })!.kernel(3);
    expect(() => kernel(new Int32Array(6), new Float32Array(6), 2, new Float32Array(2), Int32Array.of(3))).toThrow(RangeError);
  });
});
