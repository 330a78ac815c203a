import { describe, expect, it } from 'vitest';
import { LogisticRegression } from './logistic-regression.ts';
import { SeededRandom } from './random.ts';
import { syntheticClicks } from './synthetic.ts';

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('the WebAssembly LR kernel', () => {
  it('trains bit for bit as the JavaScript loop: states, bias, logits, with masks, zero and real values, many chunks', () => {
    const d = syntheticClicks({ rows: 30_000, fields: 12, hashBits: 14, seed: 7 });
    const rng = new SeededRandom(11);
    // Real-valued and zero slots next to the one-hot ones, and a down-sampling mask.
    for (let i = 0; i < d.values.length; i++) if (i % 12 === 5) d.values[i] = rng.next() < 0.2 ? 0 : 4 * rng.next() - 2;
    const mask = Uint8Array.from({ length: d.rows }, (_, r) => (d.labels[r] > 0 || rng.next() < 0.3 ? 1 : 0));
    for (const [ftrl, withMask] of [[{}, false], [{ alpha: 0.05, beta: 0.5, l1: 0.05, l2: 0.1 }, true]] as const) {
      const wasm = new LogisticRegression(d.width, d.dimension, ftrl);
      const js = new LogisticRegression(d.width, d.dimension, ftrl);
      for (const m of [wasm, js]) m.linear.setInitialBias(-1.7);
      const logitsWasm = new Float64Array(d.rows);
      const logitsJs = new Float64Array(d.rows);
      // Two calls (the state carries over), the second spanning several kernel chunks.
      for (const [from, to] of [[0, 1_000], [1_000, d.rows]]) {
        const w = d.width;
        const args = [d.indices.subarray(from * w, to * w), d.values.subarray(from * w, to * w), d.labels.subarray(from, to), to - from, withMask ? mask.subarray(from, to) : null] as const;
        wasm.fit(...args, logitsWasm.subarray(from, to));
        js.fitScalar(...args, logitsJs.subarray(from, to));
      }
      expect(wasm.linear.state.some((v) => v !== 0)).toBe(true);
      expect(Buffer.compare(bytes(wasm.linear.state), bytes(js.linear.state))).toBe(0);
      expect(Buffer.compare(bytes(logitsWasm), bytes(logitsJs))).toBe(0);
      expect([wasm.linear.biasZ, wasm.linear.biasSqrtN, wasm.linear.biasW]).toEqual([js.linear.biasZ, js.linear.biasSqrtN, js.linear.biasW]);
      if (withMask) expect(logitsWasm.some(Number.isNaN)).toBe(true);
    }
  });

  it('refuses an index outside the dimension and short buffers with a RangeError', () => {
    const m = new LogisticRegression(2, 16);
    expect(() => m.fit(Int32Array.of(1, 16), Float32Array.of(1, 1), Float32Array.of(1), 1)).toThrow(/outside \[0, 16\)/);
    expect(() => m.fit(Int32Array.of(1, -1), Float32Array.of(1, 1), Float32Array.of(1), 1)).toThrow(RangeError);
    expect(() => m.fit(Int32Array.of(1), Float32Array.of(1), Float32Array.of(1), 1)).toThrow(/need 2 indices/);
  });
});
