/**
 * Writes a trained model as ONNX (spec: docs/bundle-format.md, "The ONNX graph"). Standard operators of the
 * default domain only, opset 13, IR 8: inputs `indices` int64[N, F] and `values` float[N, F], output
 * `probability` float[N, 1]. The SDK's built-in evaluator implements exactly these two graphs, so keep to them.
 */
import type { ModelParams } from '../train/model-params.ts';
import { AttributeType, DataType, ModelProto } from './onnx-proto.ts';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;

export interface OnnxExportOptions {
  /** Graph name. @default 'lockstep' */
  graphName?: string;
  /** producer_version: the code version that wrote the model. @default '0' */
  producerVersion?: string;
  /** Free text stored as the model's doc_string. */
  docString?: string;
  /** Extra key/value pairs stored as metadata_props. */
  metadata?: Record<string, string>;
}

interface Node {
  opType: string;
  input: string[];
  output: string[];
  name: string;
  domain: string;
  attribute?: Array<{ name: string; type: number; i: number }>;
}

/** Encodes the model as an ONNX ModelProto. */
export function toOnnx(params: ModelParams, options: OnnxExportOptions = {}): Uint8Array {
  const nodes: Node[] = [];
  const node = (opType: string, input: string[], output: string, keepdims?: 0 | 1) => {
    nodes.push({
      opType,
      input,
      output: [output],
      name: `${output}_${opType}`,
      domain: '',
      ...(keepdims === undefined ? {} : { attribute: [{ name: 'keepdims', type: AttributeType.INT, i: keepdims }] }),
    });
    return output;
  };

  const initializers = [
    floatTensor('w', [params.dimension], params.weights),
    floatTensor('b', [1], Float32Array.of(params.bias)),
    int64Tensor('axes_1', [1]),
  ];

  // Linear part: Σ_j w[indices_j] · values_j + b.
  const gw = node('Gather', ['w', 'indices'], 'w_gathered');
  const wx = node('Mul', [gw, 'values'], 'wx');
  const dot = node('ReduceSum', [wx, 'axes_1'], 'wx_sum', 1);
  let logit = node('Add', [dot, 'b'], 'linear');

  if (params.family === 'fm') {
    const K = params.factors;
    initializers.push(floatTensor('v', [params.dimension, K], params.embeddings), int64Tensor('axes_2', [2]), floatTensor('half', [1], Float32Array.of(0.5)));
    // Pairwise part in O(F·K): ½ Σ_k ((Σ_j v_jk x_j)² − Σ_j (v_jk x_j)²).
    const gv = node('Gather', ['v', 'indices'], 'v_gathered'); // [N, F, K]
    const x3 = node('Unsqueeze', ['values', 'axes_2'], 'values_3d'); // [N, F, 1]
    const xv = node('Mul', [gv, x3], 'xv'); // [N, F, K]
    const s = node('ReduceSum', [xv, 'axes_1'], 'xv_sum', 0); // [N, K]
    const s2 = node('Mul', [s, s], 'xv_sum_sq');
    const xv2 = node('Mul', [xv, xv], 'xv_sq');
    const q = node('ReduceSum', [xv2, 'axes_1'], 'xv_sq_sum', 0); // [N, K]
    const d = node('Sub', [s2, q], 'pair_k');
    const pair = node('ReduceSum', [d, 'axes_1'], 'pair_sum', 1); // [N, 1]
    const inter = node('Mul', [pair, 'half'], 'interaction');
    logit = node('Add', [logit, inter], 'logit');
  }
  node('Sigmoid', [logit], 'probability');

  const model = {
    irVersion: ONNX_IR_VERSION,
    producerName: 'lockstep',
    producerVersion: options.producerVersion ?? '0',
    modelVersion: 1,
    docString: options.docString ?? `lockstep ${params.family} click model`,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: Object.entries({
      'lockstep.family': params.family,
      'lockstep.width': String(params.width),
      'lockstep.dimension': String(params.dimension),
      ...(params.family === 'fm' ? { 'lockstep.factors': String(params.factors) } : {}),
      ...options.metadata,
    }).map(([key, value]) => ({ key, value })),
    graph: {
      name: options.graphName ?? 'lockstep',
      node: nodes,
      initializer: initializers,
      input: [valueInfo('indices', DataType.INT64, ['N', params.width]), valueInfo('values', DataType.FLOAT, ['N', params.width])],
      output: [valueInfo('probability', DataType.FLOAT, ['N', 1])],
    },
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

function floatTensor(name: string, dims: number[], data: Float32Array) {
  // raw_data is little-endian; every platform Node runs lockstep on is little-endian, so the view is the bytes.
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function int64Tensor(name: string, values: number[]) {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims: [values.length], dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) };
}

function valueInfo(name: string, elemType: number, shape: Array<string | number>) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}
