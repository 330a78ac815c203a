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

  it('LR: give the same bits with known terms at random positions, and write the unknown ones', () => {
    let x = 13;
    const random = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0) >>> 0) / 2 ** 32;
    const dim = 1 << 12;
    const width = 25;
    const m = randomModel(dim, width, undefined, 17);
    const kernel = recognise(decodeModel(writeOnnx(modelGraph(m))), { indices: 'indices', values: 'values', output: 'probability' })!.kernel(width);
    for (const rows of [0, 1, 2, 33, 100]) {
      const pick = (p: number) => Int32Array.from(Array.from({ length: width }, (_, j) => j).filter(() => random() < p));
      const positions = pick(0.4);
      // Some positions both shared and with terms: sharing wins, the terms there are neither read nor written.
      const shared = Int32Array.from([...pick(0.3)].filter((p) => p % 2 === 0));
      const indices = new Int32Array(rows * width);
      const values = new Float32Array(rows * width);
      for (let i = 0; i < indices.length; i++) {
        indices[i] = Math.floor(random() * dim) - (random() < 0.1 ? dim : 0);
        values[i] = random() < 0.5 ? 1 : (random() - 0.5) * 8;
      }
      for (let r = 1; r < rows; r++) {
        for (const p of shared) {
          indices[r * width + p] = indices[p];
          values[r * width + p] = values[p];
        }
      }
      const expected = [...reference(m, indices, values, rows, width)];
      const term = (j: number) => fround(m.w[indices[j] < 0 ? indices[j] + dim : indices[j]] * values[j]);
      // Random known terms, NaN elsewhere (and garbage at unlisted positions, which must not be read).
      const known = new Float32Array(rows * width).fill(1e9);
      for (let r = 0; r < rows; r++) for (const p of positions) known[r * width + p] = random() < 0.5 ? term(r * width + p) : NaN;
      const before = known.slice();
      const out = new Float32Array(rows);
      kernel(indices, values, rows, out, shared, { positions, values: known });
      expect([...out]).toEqual(expected);
      for (let j = 0; j < known.length; j++) {
        const p = j % width;
        if (positions.includes(p) && !(shared.includes(p) && rows > 1)) expect(known[j]).toBe(term(j));
        else expect(Object.is(known[j], before[j])).toBe(true);
      }
      // Every term known now: the slots at those positions are not read (garbage there would show).
      const noIndices = indices.slice();
      const noValues = values.slice();
      for (let r = 0; r < rows; r++) {
        for (const p of positions) {
          if (shared.includes(p) && rows > 1) continue;
          noIndices[r * width + p] = 1 << 30;
          noValues[r * width + p] = NaN;
        }
      }
      kernel(noIndices, noValues, rows, out, shared, { positions, values: known });
      expect([...out]).toEqual(expected);
      // And no leak into a call without them.
      kernel(indices, values, rows, out);
      expect([...out]).toEqual(expected);
    }
  });

  it('refuses a shared position outside the row', () => {
    const m = randomModel(64, 3, undefined, 1);
    const kernel = recognise(decodeModel(writeOnnx(modelGraph(m))), { indices: 'indices', values: 'values', output: 'probability' })!.kernel(3);
    expect(() => kernel(new Int32Array(6), new Float32Array(6), 2, new Float32Array(2), Int32Array.of(3))).toThrow(RangeError);
    expect(() => kernel(new Int32Array(6), new Float32Array(6), 2, new Float32Array(2), undefined, { positions: Int32Array.of(-1), values: new Float32Array(6) })).toThrow(RangeError);
  });
});
