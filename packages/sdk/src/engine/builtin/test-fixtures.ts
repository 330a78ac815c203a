/**
 * Test fixtures: a tiny ONNX writer (protobuf encoding by hand) and the LR/FM graphs of the exporter's contract,
 * with knobs for the variations the matcher must accept or refuse. Not exported from the package.
 */

type Attr = number | number[] | { tensor: TensorDef };

export interface NodeDef {
  op: string;
  inputs: string[];
  output: string;
  attrs?: Record<string, Attr>;
  domain?: string;
}

export interface TensorDef {
  name: string;
  dims: number[];
  float?: Float32Array;
  int64?: number[];
  /** Write float data as float_data (field 4) instead of raw_data. */
  packed?: boolean;
}

export interface GraphDef {
  opset?: number;
  nodes: NodeDef[];
  initializers: TensorDef[];
  width: number;
  /** Leave zero-valued INT attributes without their value, as proto3 writers (protobufjs) do. */
  omitZeroScalars?: boolean;
  /** Extra graph inputs beyond indices and values. */
  extraInputs?: Array<{ name: string; elemType: number }>;
}

class Writer {
  readonly out: number[] = [];
  varint(n: number): this {
    // Two's complement for negatives (int64 on the wire).
    let v = BigInt.asUintN(64, BigInt(n));
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v) b |= 0x80;
      this.out.push(b);
    } while (v);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }
  int(field: number, n: number): this {
    return this.tag(field, 0).varint(n);
  }
  bytes(field: number, b: Uint8Array | number[]): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.out.push(x);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, w: Writer): this {
    return this.bytes(field, w.out);
  }
}

function tensor(t: TensorDef): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  if (t.float) {
    w.int(2, 1);
    const bytes = new Uint8Array(t.float.buffer, t.float.byteOffset, t.float.byteLength);
    if (t.packed) w.bytes(4, bytes);
    else w.bytes(9, bytes);
  } else {
    w.int(2, 7);
    const packed = new Writer();
    for (const v of t.int64 ?? []) packed.varint(v);
    w.bytes(7, packed.out);
  }
  return w.str(8, t.name);
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): Writer {
  const shape = new Writer();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().str(2, d));
  const tt = new Writer().int(1, elemType).msg(2, shape);
  return new Writer().str(1, name).msg(2, new Writer().msg(1, tt));
}

/** Encodes a graph as an ONNX ModelProto. */
export function writeOnnx(g: GraphDef): Uint8Array {
  const graph = new Writer();
  for (const n of g.nodes) {
    const w = new Writer();
    for (const i of n.inputs) w.str(1, i);
    w.str(2, n.output).str(3, `${n.output}_node`).str(4, n.op);
    for (const [name, value] of Object.entries(n.attrs ?? {})) {
      const a = new Writer().str(1, name);
      if (typeof value === 'number') {
        if (value !== 0 || !g.omitZeroScalars) a.int(3, value);
        a.int(20, 2);
      }
      else if (Array.isArray(value)) {
        for (const v of value) a.int(8, v);
        a.int(20, 7);
      } else a.msg(5, tensor(value.tensor)).int(20, 4);
      w.msg(5, a);
    }
    if (n.domain) w.str(7, n.domain);
    graph.msg(1, w);
  }
  graph.str(2, 'test');
  for (const t of g.initializers) graph.msg(5, tensor(t));
  graph.msg(11, valueInfo('indices', 7, ['N', g.width]));
  graph.msg(11, valueInfo('values', 1, ['N', g.width]));
  for (const e of g.extraInputs ?? []) graph.msg(11, valueInfo(e.name, e.elemType, ['N']));
  graph.msg(12, valueInfo('probability', 1, ['N', 1]));
  const model = new Writer().int(1, 8).str(2, 'lockstep-test').msg(7, graph).msg(8, new Writer().str(1, '').int(2, g.opset ?? 13));
  return Uint8Array.from(model.out);
}

/** Deterministic pseudo-random floats in [-scale, scale). */
export function randomFloats(n: number, seed: number, scale = 1): Float32Array {
  let x = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

export interface ModelDef {
  dimension: number;
  width: number;
  factors?: number;
  w: Float32Array;
  b: number;
  v?: Float32Array;
}

/** A random LR (or FM, with `factors`) model. */
export function randomModel(dimension: number, width: number, factors?: number, seed = 7): ModelDef {
  return {
    dimension,
    width,
    factors,
    w: randomFloats(dimension, seed, 0.5),
    b: -1.5,
    v: factors ? randomFloats(dimension * factors, seed + 1, 0.3) : undefined,
  };
}

export interface Variation {
  /** Swap the operands of every commutative node. */
  swapOperands?: boolean;
  /** Write axes as negative numbers. */
  negativeAxes?: boolean;
  /** Give the axes through Constant nodes instead of initializers. */
  constantNodes?: boolean;
  /** Opset 11 style: axes as attributes. */
  axesAsAttributes?: boolean;
  /** keepdims = 0 written as an INT attribute without a value (proto3 writers). */
  omitZeroScalars?: boolean;
}

/** The exporter's graph for an LR or FM model (docs/bundle-format.md), with optional variations. */
export function modelGraph(m: ModelDef, v: Variation = {}): GraphDef {
  const nodes: NodeDef[] = [];
  const inits: TensorDef[] = [
    { name: 'w', dims: [m.dimension], float: m.w },
    { name: 'b', dims: [1], float: Float32Array.of(m.b) },
  ];
  const ax1 = v.negativeAxes ? -1 : 1;
  const ax2 = v.negativeAxes ? -1 : 2;
  const axesRef = (name: string, value: number): string[] => {
    if (v.axesAsAttributes) return [];
    if (v.constantNodes) nodes.push({ op: 'Constant', inputs: [], output: name, attrs: { value: { tensor: { name, dims: [1], int64: [value] } } } });
    else inits.push({ name, dims: [1], int64: [value] });
    return [name];
  };
  const axesAttr = (value: number): Record<string, Attr> => (v.axesAsAttributes ? { axes: [value] } : {});
  const bin = (op: string, a: string, b: string, output: string) =>
    nodes.push({ op, inputs: v.swapOperands && op !== 'Sub' ? [b, a] : [a, b], output });
  const reduce = (input: string, output: string, keepdims: number, axis = ax1) =>
    nodes.push({ op: 'ReduceSum', inputs: [input, ...axesRef(`${output}_axes`, axis)], output, attrs: { keepdims, ...axesAttr(axis) } });

  nodes.push({ op: 'Gather', inputs: ['w', 'indices'], output: 'wg' });
  bin('Mul', 'wg', 'values', 'wx');
  reduce('wx', 'dot', 1);
  bin('Add', 'dot', 'b', 'linear');
  let logit = 'linear';
  if (m.factors && m.v) {
    inits.push({ name: 'v', dims: [m.dimension, m.factors], float: m.v }, { name: 'half', dims: [1], float: Float32Array.of(0.5) });
    nodes.push({ op: 'Gather', inputs: ['v', 'indices'], output: 'vg' });
    nodes.push({ op: 'Unsqueeze', inputs: ['values', ...axesRef('unsq_axes', ax2)], output: 'x3', attrs: axesAttr(ax2) });
    bin('Mul', 'vg', 'x3', 'xv');
    // Axis 1 of a rank-3 tensor is -2 from the end.
    reduce('xv', 's', 0, v.negativeAxes ? -2 : 1);
    bin('Mul', 's', 's', 's2');
    bin('Mul', 'xv', 'xv', 'xv2');
    reduce('xv2', 'q', 0, v.negativeAxes ? -2 : 1);
    bin('Sub', 's2', 'q', 'd');
    reduce('d', 'pair', 1);
    bin('Mul', 'pair', 'half', 'inter');
    bin('Add', 'linear', 'inter', 'logit');
    logit = 'logit';
  }
  nodes.push({ op: 'Sigmoid', inputs: [logit], output: 'probability' });
  return { opset: v.axesAsAttributes ? 11 : 13, nodes, initializers: inits, width: m.width, omitZeroScalars: v.omitZeroScalars };
}

/** Random rows: indices in [0, dimension), values mixing 1s (categorical slots) and reals. */
export function randomRows(rows: number, width: number, dimension: number, seed = 3): { indices: Int32Array; values: Float32Array } {
  const r = randomFloats(rows * width * 2, seed, 1);
  const indices = new Int32Array(rows * width);
  const values = new Float32Array(rows * width);
  for (let i = 0; i < rows * width; i++) {
    indices[i] = Math.min(dimension - 1, Math.floor((r[2 * i] * 0.5 + 0.5) * dimension));
    values[i] = i % width < width / 2 ? 1 : r[2 * i + 1] * 3;
  }
  return { indices, values };
}
