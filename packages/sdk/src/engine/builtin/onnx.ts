/**
 * Decodes the part of an ONNX ModelProto the built-in evaluator needs (field numbers from upstream onnx.proto):
 * the default-domain opset, the graph's nodes, initializers, inputs and outputs. Anything else is skipped.
 */
import { EngineError } from '../../errors.ts';
import { type Field, doubles, fields, floats, ints, str } from './protobuf.ts';

/** A constant tensor. Float tensors keep float32 precision; integer tensors are held as plain numbers. */
export interface ConstTensor {
  name: string;
  dims: number[];
  /** float32 data for FLOAT, numbers for INT32/INT64. */
  data: Float32Array | Float64Array;
  kind: 'float' | 'int';
}

export interface OnnxAttribute {
  name: string;
  i?: number;
  f?: number;
  s?: string;
  ints?: number[];
  floats?: number[];
  t?: ConstTensor;
}

export interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  /** TensorProto.DataType of the element, 0 when absent. */
  elemType: number;
  /** Dimensions: a number when fixed, a string (symbolic) or undefined when free. */
  dims: Array<number | string | undefined> | undefined;
}

export interface OnnxModel {
  irVersion: number;
  /** Version of the default ('' / 'ai.onnx') operator set, 0 when not declared. */
  opset: number;
  /** Every imported operator set, by domain. */
  opsets: Map<string, number>;
  nodes: OnnxNode[];
  initializers: Map<string, ConstTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** TensorProto.DataType values the evaluator handles. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

function unsupported(message: string): never {
  throw new EngineError(message, { details: { unsupported: true } });
}

export function decodeModel(bytes: Uint8Array): OnnxModel {
  const model: OnnxModel = {
    irVersion: 0,
    opset: 0,
    opsets: new Map(),
    nodes: [],
    initializers: new Map(),
    inputs: [],
    outputs: [],
  };
  let sawGraph = false;
  for (const f of fields(bytes)) {
    if (f.field === 1) model.irVersion = f.varint;
    else if (f.field === 8) {
      let domain = '';
      let version = 0;
      for (const g of fields(f.bytes)) {
        if (g.field === 1) domain = str(g);
        else if (g.field === 2) version = g.varint;
      }
      model.opsets.set(domain, version);
      if (domain === '' || domain === 'ai.onnx') model.opset = version;
    } else if (f.field === 7) {
      sawGraph = true;
      decodeGraph(f.bytes, model);
    }
  }
  if (!sawGraph) throw new EngineError('malformed ONNX model: no graph');
  return model;
}

function decodeGraph(bytes: Uint8Array, model: OnnxModel): void {
  for (const f of fields(bytes)) {
    switch (f.field) {
      case 1:
        model.nodes.push(decodeNode(f.bytes));
        break;
      case 5: {
        const t = decodeTensor(f.bytes);
        model.initializers.set(t.name, t);
        break;
      }
      case 11:
        model.inputs.push(decodeValueInfo(f.bytes));
        break;
      case 12:
        model.outputs.push(decodeValueInfo(f.bytes));
        break;
      case 15:
        unsupported('sparse initializers are not supported by the built-in evaluator');
    }
  }
  // Since IR 4, initializers may also be listed as inputs (overridable defaults): they are constants here.
  model.inputs = model.inputs.filter((i) => !model.initializers.has(i.name));
}

function decodeNode(bytes: Uint8Array): OnnxNode {
  const node: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], attributes: new Map() };
  for (const f of fields(bytes)) {
    switch (f.field) {
      case 1:
        node.inputs.push(str(f));
        break;
      case 2:
        node.outputs.push(str(f));
        break;
      case 3:
        node.name = str(f);
        break;
      case 4:
        node.opType = str(f);
        break;
      case 7:
        node.domain = str(f);
        break;
      case 5: {
        const a = decodeAttribute(f.bytes);
        node.attributes.set(a.name, a);
        break;
      }
    }
  }
  return node;
}

/** AttributeProto.AttributeType values whose scalar may be omitted on the wire when it is zero. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;

function decodeAttribute(bytes: Uint8Array): OnnxAttribute {
  const a: OnnxAttribute = { name: '' };
  let type = 0;
  for (const f of fields(bytes)) {
    switch (f.field) {
      case 20:
        type = f.varint;
        break;
      case 1:
        a.name = str(f);
        break;
      case 2:
        a.f = floats(f, [])[0];
        break;
      case 3:
        a.i = f.varint;
        break;
      case 4:
        a.s = str(f);
        break;
      case 5:
        a.t = decodeTensor(f.bytes);
        break;
      case 7:
        a.floats = floats(f, a.floats ?? []);
        break;
      case 8:
        a.ints = ints(f, a.ints ?? []);
        break;
      case 6:
      case 10:
        unsupported(`attribute "${a.name}": graph-valued attributes are not supported by the built-in evaluator`);
    }
  }
  // Writers that follow proto3 rules (protobufjs) leave out a zero scalar: `keepdims = 0` arrives as an INT
  // attribute without `i`. Its value is the field's default, 0, exactly as onnxruntime reads it.
  if (type === ATTR_INT && a.i === undefined) a.i = 0;
  if (type === ATTR_FLOAT && a.f === undefined) a.f = 0;
  return a;
}

function decodeTensor(bytes: Uint8Array): ConstTensor {
  let name = '';
  const dims: number[] = [];
  let dataType = 0;
  let raw: Uint8Array | undefined;
  const numbers: number[] = [];
  let external = false;
  for (const f of fields(bytes)) {
    switch (f.field) {
      case 1:
        ints(f, dims);
        break;
      case 2:
        dataType = f.varint;
        break;
      case 4:
        floats(f, numbers);
        break;
      case 5:
      case 7:
        ints(f, numbers);
        break;
      case 10:
        doubles(f, numbers);
        break;
      case 8:
        name = str(f);
        break;
      case 9:
        raw = f.bytes;
        break;
      case 14:
        external = f.varint === 1;
        break;
    }
  }
  if (external) unsupported(`tensor "${name}": external data is not supported by the built-in evaluator`);
  const count = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array | Float64Array;
  let kind: 'float' | 'int';
  if (dataType === DataType.FLOAT) {
    kind = 'float';
    if (raw) {
      if (raw.length !== count * 4) throw new EngineError(`tensor "${name}": ${raw.length} raw bytes for ${count} floats`);
      // Copy into an aligned buffer (raw_data can start at any byte offset) and read little-endian.
      data = new Float32Array(count);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
    } else data = Float32Array.from(numbers);
  } else if (dataType === DataType.INT64 || dataType === DataType.INT32) {
    kind = 'int';
    if (raw) {
      const width = dataType === DataType.INT64 ? 8 : 4;
      if (raw.length !== count * width) throw new EngineError(`tensor "${name}": ${raw.length} raw bytes for ${count} ints`);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      data = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        data[i] = width === 8 ? view.getInt32(i * 8 + 4, true) * 4294967296 + view.getUint32(i * 8, true) : view.getInt32(i * 4, true);
      }
    } else data = Float64Array.from(numbers);
  } else {
    unsupported(`tensor "${name}": element type ${dataType} is not supported by the built-in evaluator`);
  }
  if (data.length !== count) throw new EngineError(`tensor "${name}": ${data.length} values for dims [${dims.join(', ')}]`);
  return { name, dims, data, kind };
}

function decodeValueInfo(bytes: Uint8Array): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '', elemType: 0, dims: undefined };
  for (const f of fields(bytes)) {
    if (f.field === 1) info.name = str(f);
    else if (f.field === 2) {
      // TypeProto.tensor_type (1) → Tensor { elem_type (1), shape (2) → TensorShapeProto { dim (1) } }
      for (const t of fields(f.bytes)) {
        if (t.field !== 1) continue;
        for (const u of fields(t.bytes)) {
          if (u.field === 1) info.elemType = u.varint;
          else if (u.field === 2) info.dims = decodeShape(u);
        }
      }
    }
  }
  return info;
}

function decodeShape(f: Field): Array<number | string | undefined> {
  const dims: Array<number | string | undefined> = [];
  for (const d of fields(f.bytes)) {
    if (d.field !== 1) continue;
    let dim: number | string | undefined;
    for (const v of fields(d.bytes)) {
      if (v.field === 1) dim = v.varint;
      else if (v.field === 2) dim = str(v);
    }
    dims.push(dim);
  }
  return dims;
}
