/**
 * The built-in evaluator: a backend in plain TypeScript for exactly the operators lockstep's exporter emits. For the
 * small models of click prediction it is two orders of magnitude faster than onnxruntime-web for one row and needs
 * no wasm, so it fits a free-plan Cloudflare Worker.
 *
 * Loading decodes the ONNX file, refuses graphs with other operators (the registry falls back to onnxruntime-web),
 * compiles recognised LR/FM graphs to fused loops and runs anything else built of the same operators through the
 * generic interpreter. A fused kernel is checked against the interpreter on a probe batch before it is used.
 */
import { EngineError } from '../../errors.ts';
import type { EngineBackend, EngineModel, EngineTerms, ModelEngine } from '../types.ts';
import { type Kernel, recognise } from './fused.ts';
import { type Value, runGraph, unsupportedOps } from './interpreter.ts';
import { DataType, type OnnxModel, decodeModel } from './onnx.ts';

/** Largest difference tolerated between a fused kernel and the interpreter on the probe batch. */
const PROBE_TOLERANCE = 1e-6;
const PROBE_ROWS = 16;

export interface BuiltinOptions {
  /**
   * Use the fused LR/FM kernels when the graph is recognised. Off: always interpret (for tests and comparisons).
   * @default true
   */
  fused?: boolean;
}

/** Creates the built-in backend. */
export function builtinBackend(options: BuiltinOptions = {}): EngineBackend {
  return { name: 'builtin', load: (m) => loadBuiltin(m, options) };
}

function unsupported(message: string): never {
  throw new EngineError(message, { details: { unsupported: true } });
}

/** Loads a model into the built-in evaluator. Throws EngineError when the graph is outside what it supports. */
export function loadBuiltin(m: EngineModel, options: BuiltinOptions = {}): ModelEngine {
  const names = { indices: m.indicesInput ?? 'indices', values: m.valuesInput ?? 'values', output: m.output ?? 'probability' };
  const model = decodeModel(m.bytes);
  if (model.opset !== 0 && model.opset < 11) unsupported(`opset ${model.opset}: the built-in evaluator implements opsets 11 and later`);
  const bad = unsupportedOps(model);
  if (bad.length) unsupported(`operators not supported by the built-in evaluator: ${bad.join(', ')}`);
  checkSignature(model, names, m.width);

  const width = m.width;
  const interpret: Kernel = (indices, values, rows, out) => {
    const feeds = new Map<string, Value>([
      [names.indices, { shape: [rows, width], data: indices.subarray(0, rows * width), kind: 'int' }],
      [names.values, { shape: [rows, width], data: values.subarray(0, rows * width), kind: 'float' }],
    ]);
    const y = runGraph(model, feeds, names.output);
    if (y.data.length !== rows) throw new EngineError(`output "${names.output}" has ${y.data.length} values for ${rows} rows`);
    out.set(y.data);
  };

  let kernel = interpret;
  let mode = 'interpreter';
  const fused = options.fused === false ? undefined : recognise(model, names);
  if (fused) {
    const candidate = fused.kernel(width);
    const drift = probe(candidate, interpret, width, fused.dimension);
    // A recognised graph whose fused result disagrees with the interpreter means the matcher is wrong: never
    // serve it; the interpreter is slower but exact to the graph.
    if (drift <= PROBE_TOLERANCE) {
      kernel = candidate;
      mode = `fused-${fused.family}`;
    }
  }

  return engineOf(kernel, width, mode);
}

/**
 * The engine around a kernel. Built apart from the loader's scope so that a fused engine does not keep the decoded
 * graph (its initializers can be tens of MB) alive.
 */
function engineOf(kernel: Kernel, width: number, mode: string): ModelEngine {
  const run = (indices: Int32Array, values: Float32Array, rows: number, out: Float32Array, shared?: Int32Array, terms?: EngineTerms) => {
    if (indices.length < rows * width || values.length < rows * width || out.length < rows || (terms && terms.values.length < rows * width)) {
      throw new EngineError(`run(${rows} rows) needs ${rows * width} indices and values and ${rows} outputs`);
    }
    try {
      kernel(indices, values, rows, out, shared, terms);
    } catch (e) {
      throw e instanceof EngineError ? e : new EngineError(`built-in evaluator failed: ${(e as Error).message}`, { cause: e });
    }
  };
  return { info: { backend: 'builtin', width, mode }, run, dispose() {} };
}

/** Checks the graph's inputs and output against the names and width the bundle declares. */
function checkSignature(model: OnnxModel, names: { indices: string; values: string; output: string }, width: number): void {
  const input = (name: string, type: number) => {
    const i = model.inputs.find((x) => x.name === name);
    if (!i) throw new EngineError(`the graph has no input "${name}" (inputs: ${model.inputs.map((x) => x.name).join(', ')})`);
    if (i.elemType !== type) throw new EngineError(`input "${name}" has element type ${i.elemType}, expected ${type}`);
    const f = i.dims?.[1];
    if (typeof f === 'number' && f !== width) throw new EngineError(`input "${name}" is ${f} wide, the bundle says ${width}`);
  };
  input(names.indices, DataType.INT64);
  input(names.values, DataType.FLOAT);
  if (model.inputs.length !== 2) unsupported(`the graph has ${model.inputs.length} inputs; lockstep models have 2`);
  if (!model.outputs.some((o) => o.name === names.output)) throw new EngineError(`the graph has no output "${names.output}"`);
}

/** Runs both kernels on a deterministic pseudo-random batch; returns the largest absolute difference. */
function probe(a: Kernel, b: Kernel, width: number, dimension: number): number {
  const n = PROBE_ROWS * width;
  const indices = new Int32Array(n);
  const values = new Float32Array(n);
  let x = 0x9e3779b9;
  const next = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0) >>> 0) / 2 ** 32;
  for (let i = 0; i < n; i++) {
    indices[i] = Math.floor(next() * dimension);
    values[i] = i % 3 === 0 ? 1 : (next() - 0.5) * 4;
  }
  const ya = new Float32Array(PROBE_ROWS);
  const yb = new Float32Array(PROBE_ROWS);
  a(indices, values, PROBE_ROWS, ya);
  b(indices, values, PROBE_ROWS, yb);
  let worst = 0;
  for (let i = 0; i < PROBE_ROWS; i++) {
    const d = Math.abs(ya[i] - yb[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}
