import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors.ts';
import { loadBuiltin } from './builtin/builtin-backend.ts';
import { readVarint } from './builtin/protobuf.ts';
import { type ModelDef, type Variation, modelGraph, randomModel, randomRows, writeOnnx } from './builtin/test-fixtures.ts';
import { onnxruntimeWebBackend } from './onnxruntime-web.ts';
import { createEngine, listBackends, registerBackend } from './registry.ts';
import type { EngineBackend } from './types.ts';

/** Reference scores computed directly in float64 from the model definition. */
function reference(m: ModelDef, indices: Int32Array, values: Float32Array, rows: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let z = m.b;
    const s = new Float64Array(m.factors ?? 0);
    const q = new Float64Array(m.factors ?? 0);
    for (let j = 0; j < m.width; j++) {
      const i = indices[r * m.width + j];
      const x = values[r * m.width + j];
      z += m.w[i] * x;
      for (let k = 0; k < (m.factors ?? 0); k++) {
        const t = m.v![i * m.factors! + k] * x;
        s[k] += t;
        q[k] += t * t;
      }
    }
    for (let k = 0; k < (m.factors ?? 0); k++) z += 0.5 * (s[k] * s[k] - q[k]);
    out[r] = 1 / (1 + Math.exp(-z));
  }
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const lr = randomModel(1 << 10, 12);
const fm = randomModel(1 << 10, 12, 4);
const rows = randomRows(200, 12, 1 << 10);

describe('protobuf reader', () => {
  it('reads varints, including negative int64 values', () => {
    expect(readVarint(Uint8Array.of(0x96, 0x01), 0)).toEqual([150, 2]);
    expect(readVarint(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 0)).toEqual([-1, 10]);
    expect(readVarint(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x10), 0)).toEqual([2 ** 32, 5]);
  });
  it('refuses truncated input with an EngineError', () => {
    expect(() => loadBuiltin({ bytes: Uint8Array.of(0x0a, 0x05, 0x01), width: 12 })).toThrow(EngineError);
  });
});

describe('built-in evaluator', () => {
  const variations: Array<[string, Variation]> = [
    ['as exported', {}],
    ['operands swapped', { swapOperands: true }],
    ['negative axes', { negativeAxes: true }],
    ['axes from Constant nodes', { constantNodes: true }],
    ['opset 11 axes attributes', { axesAsAttributes: true }],
    ['keepdims 0 left out (proto3 writers)', { omitZeroScalars: true }],
  ];
  for (const [family, m] of [['lr', lr], ['fm', fm]] as const) {
    for (const [label, v] of variations) {
      it(`${family}, ${label}: fused kernel, equal to the interpreter and to float64 math`, () => {
        const bytes = writeOnnx(modelGraph(m, v));
        const fused = loadBuiltin({ bytes, width: 12 });
        const interp = loadBuiltin({ bytes, width: 12 }, { fused: false });
        expect(fused.info.mode).toBe(`fused-${family}`);
        expect(interp.info.mode).toBe('interpreter');
        const a = new Float32Array(200);
        const b = new Float32Array(200);
        fused.run(rows.indices, rows.values, 200, a);
        interp.run(rows.indices, rows.values, 200, b);
        expect(maxDiff(a, b)).toBeLessThan(1e-6);
        expect(maxDiff(a, reference(m, rows.indices, rows.values, 200))).toBeLessThan(1e-6);
      });
    }
  }

  it('interprets a graph of supported operators that is not LR or FM', () => {
    // LR without a bias and with an extra Sub of a constant: same operators, another structure.
    const g = modelGraph(lr);
    g.nodes = g.nodes.map((n) => (n.output === 'linear' ? { op: 'Sub', inputs: ['dot', 'b'], output: 'linear' } : n));
    const e = loadBuiltin({ bytes: writeOnnx(g), width: 12 });
    expect(e.info.mode).toBe('interpreter');
    const out = new Float32Array(200);
    e.run(rows.indices, rows.values, 200, out);
    expect(maxDiff(out, reference({ ...lr, b: -lr.b }, rows.indices, rows.values, 200))).toBeLessThan(1e-6);
  });

  it('refuses operators it does not implement, naming them', () => {
    const g = modelGraph(lr);
    g.nodes.splice(g.nodes.length - 1, 0, { op: 'Relu', inputs: ['linear'], output: 'relu' });
    g.nodes[g.nodes.length - 1].inputs = ['relu'];
    expect(() => loadBuiltin({ bytes: writeOnnx(g), width: 12 })).toThrow(/operators not supported by the built-in evaluator: Relu/);
  });

  it('checks the width against the graph and the index range at run time', () => {
    const bytes = writeOnnx(modelGraph(lr));
    expect(() => loadBuiltin({ bytes, width: 11 })).toThrow(/12 wide, the bundle says 11/);
    const e = loadBuiltin({ bytes, width: 12 });
    const bad = Int32Array.from(rows.indices.subarray(0, 12));
    bad[3] = 1 << 10;
    expect(() => e.run(bad, rows.values, 1, new Float32Array(1))).toThrow(EngineError);
    expect(() => e.run(bad, rows.values, 2, new Float32Array(2))).toThrow(/needs 24 indices/);
  });

  it('allocates nothing per call on the fused path (steady heap over many calls)', () => {
    const e = loadBuiltin({ bytes: writeOnnx(modelGraph(fm)), width: 12 });
    const out = new Float32Array(100);
    for (let i = 0; i < 2000; i++) e.run(rows.indices, rows.values, 100, out);
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) e.run(rows.indices, rows.values, 100, out);
    // Not a benchmark: a sanity bound that catches an accidental interpreter fallback (≈100× slower).
    expect((performance.now() - t0) / 2000).toBeLessThan(1);
  });
});

describe('engine registry', () => {
  it('tries backends by priority and reports every failure', async () => {
    const failing: EngineBackend = { name: 'failing-init', init: async () => { throw new Error('no wasm here'); }, load: () => { throw new Error('unreachable'); } };
    const refusing: EngineBackend = { name: 'refusing', load: () => { throw new EngineError('graph not supported'); } };
    const g = modelGraph(lr);
    g.nodes.push({ op: 'Relu', inputs: ['probability'], output: 'relu' });
    const err = await createEngine({ bytes: writeOnnx(g), width: 12 }, { backends: ['builtin', failing, refusing, 'nope'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/builtin: operators not supported by the built-in evaluator: Relu/);
    expect(msg).toMatch(/failing-init: init failed: no wasm here/);
    expect(msg).toMatch(/refusing: graph not supported/);
    expect(msg).toMatch(/nope: not registered/);
  });

  it('uses the built-in evaluator first and falls back for graphs it cannot run', async () => {
    expect(listBackends()[0]).toBe('builtin');
    registerBackend(onnxruntimeWebBackend(), 10);
    expect(listBackends()).toEqual(['builtin', 'onnxruntime-web']);
    const builtin = await createEngine({ bytes: writeOnnx(modelGraph(fm)), width: 12 });
    expect(builtin.info).toEqual({ backend: 'builtin', width: 12, mode: 'fused-fm' });

    // Identity is not a built-in operator: onnxruntime-web takes the graph.
    const g = modelGraph(fm);
    g.nodes[g.nodes.length - 1].output = 'p0';
    g.nodes.push({ op: 'Identity', inputs: ['p0'], output: 'probability' });
    const ort = await createEngine({ bytes: writeOnnx(g), width: 12 });
    expect(ort.info.backend).toBe('onnxruntime-web');
    const a = new Float32Array(200);
    const b = new Float32Array(200);
    builtin.run(rows.indices, rows.values, 200, a);
    await ort.run(rows.indices, rows.values, 200, b);
    expect(maxDiff(a, b)).toBeLessThan(1e-6);
    await ort.dispose();
  });
});
