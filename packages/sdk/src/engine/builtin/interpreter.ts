/**
 * A small generic interpreter for the operators lockstep's exporter emits (opset 13 semantics): Gather, Mul, Add,
 * Sub, ReduceSum, Sigmoid, Unsqueeze and Constant. It runs any graph made of those, with numpy broadcasting and
 * float32 results per operator, as onnxruntime does. It allocates per call: it is the evaluator's general path
 * and the reference the fused LR/FM kernels are checked against when a model loads.
 */
import { EngineError } from '../../errors.ts';
import type { ConstTensor, OnnxModel, OnnxNode } from './onnx.ts';

/** A runtime value: float tensors hold float32 data, integer tensors hold exact integers. */
export interface Value {
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
  kind: 'float' | 'int';
}

/** Operators the built-in evaluator implements. */
export const SUPPORTED_OPS: ReadonlySet<string> = new Set(['Gather', 'Mul', 'Add', 'Sub', 'ReduceSum', 'Sigmoid', 'Unsqueeze', 'Constant']);

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function fail(node: OnnxNode, message: string): never {
  throw new EngineError(`${node.opType} node "${node.name || node.outputs[0]}": ${message}`);
}

function fromConst(t: ConstTensor): Value {
  return { shape: t.dims, data: t.data, kind: t.kind };
}

/** Integer list from a value (axes). */
function intList(v: Value | undefined): number[] | undefined {
  return v ? Array.from(v.data) : undefined;
}

function normAxes(node: OnnxNode, axes: number[], rank: number): number[] {
  const out = axes.map((a) => (a < 0 ? a + rank : a));
  if (out.some((a) => !Number.isInteger(a) || a < 0 || a >= rank)) fail(node, `axes [${axes.join(', ')}] out of range for rank ${rank}`);
  return out;
}

function gather(node: OnnxNode, data: Value, indices: Value): Value {
  const rank = data.shape.length;
  const axis = normAxes(node, [node.attributes.get('axis')?.i ?? 0], rank)[0];
  const dim = data.shape[axis];
  const outer = size(data.shape.slice(0, axis));
  const inner = size(data.shape.slice(axis + 1));
  const n = indices.data.length;
  const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
  const out = data.kind === 'float' ? new Float32Array(size(shape)) : new Float64Array(size(shape));
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (let j = 0; j < n; j++) {
      let i = indices.data[j];
      if (i < 0) i += dim;
      if (!(i >= 0 && i < dim)) fail(node, `index ${indices.data[j]} out of range [${-dim}, ${dim})`);
      const from = (a * dim + i) * inner;
      for (let k = 0; k < inner; k++) out[o++] = data.data[from + k];
    }
  }
  return { shape, data: out, kind: data.kind };
}

function broadcast(node: OnnxNode, a: Value, b: Value, f: (x: number, y: number) => number): Value {
  if (a.kind !== b.kind) fail(node, 'inputs of different element types');
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, i) => {
    if (d !== sb[i] && d !== 1 && sb[i] !== 1) fail(node, `shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
    return d === 1 ? sb[i] : d;
  });
  // Strides of each input over the output's index space (0 along broadcast dimensions).
  const strides = (s: number[]) => {
    const st = new Array<number>(rank);
    let acc = 1;
    for (let i = rank - 1; i >= 0; i--) {
      st[i] = s[i] === 1 ? 0 : acc;
      acc *= s[i];
    }
    return st;
  };
  const ta = strides(sa);
  const tb = strides(sb);
  const total = size(shape);
  const out = a.kind === 'float' ? new Float32Array(total) : new Float64Array(total);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < total; o++) {
    out[o] = f(a.data[ia], b.data[ib]);
    // Odometer step over the output index, moving both input offsets along.
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ia += ta[d];
      ib += tb[d];
      if (idx[d] < shape[d]) break;
      ia -= ta[d] * shape[d];
      ib -= tb[d] * shape[d];
      idx[d] = 0;
    }
  }
  return { shape, data: out, kind: a.kind };
}

function reduceSum(node: OnnxNode, data: Value, axesInput: number[] | undefined): Value {
  const rank = data.shape.length;
  const keep = (node.attributes.get('keepdims')?.i ?? 1) !== 0;
  const raw = axesInput ?? node.attributes.get('axes')?.ints ?? [];
  if (raw.length === 0 && (node.attributes.get('noop_with_empty_axes')?.i ?? 0) !== 0) return data;
  const axes = new Set(raw.length ? normAxes(node, raw, rank) : data.shape.map((_, i) => i));
  const outShapeKeep = data.shape.map((d, i) => (axes.has(i) ? 1 : d));
  const acc = new Float64Array(size(outShapeKeep));
  // Output strides in the input's index space (0 along reduced axes).
  const st = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    st[i] = axes.has(i) ? 0 : s;
    s *= outShapeKeep[i];
  }
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  for (let k = 0; k < data.data.length; k++) {
    acc[o] += data.data[k];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      o += st[d];
      if (idx[d] < data.shape[d]) break;
      o -= st[d] * data.shape[d];
      idx[d] = 0;
    }
  }
  const shape = keep ? outShapeKeep : data.shape.filter((_, i) => !axes.has(i));
  return { shape, data: data.kind === 'float' ? Float32Array.from(acc) : acc, kind: data.kind };
}

function unsqueeze(node: OnnxNode, data: Value, axesInput: number[] | undefined): Value {
  const raw = axesInput ?? node.attributes.get('axes')?.ints;
  if (!raw) fail(node, 'axes are required');
  const rank = data.shape.length + raw.length;
  const axes = new Set(normAxes(node, raw, rank));
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(axes.has(i) ? 1 : data.shape[j++]);
  return { shape, data: data.data, kind: data.kind };
}

function constant(node: OnnxNode): Value {
  const a = node.attributes;
  const t = a.get('value')?.t;
  if (t) return fromConst(t);
  const vf = a.get('value_float')?.f;
  if (vf !== undefined) return { shape: [], data: Float32Array.of(vf), kind: 'float' };
  const vi = a.get('value_int')?.i;
  if (vi !== undefined) return { shape: [], data: Float64Array.of(vi), kind: 'int' };
  const vfs = a.get('value_floats')?.floats;
  if (vfs) return { shape: [vfs.length], data: Float32Array.from(vfs), kind: 'float' };
  const vis = a.get('value_ints')?.ints;
  if (vis) return { shape: [vis.length], data: Float64Array.from(vis), kind: 'int' };
  fail(node, 'no supported value attribute');
}

/** Evaluates one node on its input values. */
export function evalNode(node: OnnxNode, inputs: Array<Value | undefined>): Value {
  const need = (i: number): Value => inputs[i] ?? fail(node, `input ${i} is missing`);
  switch (node.opType) {
    case 'Gather':
      return gather(node, need(0), need(1));
    case 'Mul':
      return broadcast(node, need(0), need(1), (x, y) => x * y);
    case 'Add':
      return broadcast(node, need(0), need(1), (x, y) => x + y);
    case 'Sub':
      return broadcast(node, need(0), need(1), (x, y) => x - y);
    case 'ReduceSum':
      return reduceSum(node, need(0), intList(inputs[1]));
    case 'Unsqueeze':
      return unsqueeze(node, need(0), intList(inputs[1]));
    case 'Sigmoid': {
      const x = need(0);
      if (x.kind !== 'float') fail(node, 'Sigmoid needs a float input');
      const out = new Float32Array(x.data.length);
      for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-x.data[i]));
      return { shape: x.shape, data: out, kind: 'float' };
    }
    case 'Constant':
      return constant(node);
    default:
      fail(node, 'operator not supported by the built-in evaluator');
  }
}

/** The operators of a model that the interpreter cannot run (empty when it can run them all). */
export function unsupportedOps(model: OnnxModel): string[] {
  const bad = new Set<string>();
  for (const n of model.nodes) {
    const domainOk = n.domain === '' || n.domain === 'ai.onnx';
    if (!domainOk || !SUPPORTED_OPS.has(n.opType)) bad.add(domainOk ? n.opType : `${n.domain}:${n.opType}`);
  }
  return [...bad];
}

/** Runs the whole graph (nodes are in topological order, as ONNX requires) and returns the named output. */
export function runGraph(model: OnnxModel, feeds: Map<string, Value>, output: string): Value {
  const values = new Map<string, Value>(feeds);
  for (const [name, t] of model.initializers) if (!values.has(name)) values.set(name, fromConst(t));
  for (const node of model.nodes) {
    // An empty input name marks an omitted optional input.
    const ins = node.inputs.map((n) => (n === '' ? undefined : values.get(n) ?? fail(node, `input "${n}" is not computed before use`)));
    values.set(node.outputs[0], evalNode(node, ins));
  }
  return values.get(output) ?? (() => { throw new EngineError(`graph does not compute output "${output}"`); })();
}
