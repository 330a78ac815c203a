/**
 * A trained model's parameters as exported: float32, exactly what model.onnx holds. Predictions made here from
 * these parameters are what the ONNX graph computes (up to float32 rounding order), which the parity tests check.
 */
import type { ModelFamily } from '@lockstep/sdk';

interface CommonParams {
  family: ModelFamily;
  /** Size of the hashed index space. */
  dimension: number;
  /** Slots per row. */
  width: number;
  /** Global bias (logit), including the negative down-sampling correction. Held as a float32 value. */
  bias: number;
  /** Linear weight per index, length `dimension`. */
  weights: Float32Array;
}

export interface LrParams extends CommonParams {
  family: 'lr';
}

export interface FmParams extends CommonParams {
  family: 'fm';
  /** Latent factors per index (K). */
  factors: number;
  /** Latent vectors, row-major [dimension, factors]. */
  embeddings: Float32Array;
}

export type ModelParams = LrParams | FmParams;

/**
 * The logit of each of `rows` rows (slots at `r * width`), written into `out`. Mirrors the ONNX graph:
 * linear = Σ w[i]·x + b, FM adds ½ Σ_k ((Σ v·x)² − Σ (v·x)²).
 */
export function predictLogits(
  params: ModelParams,
  indices: Int32Array,
  values: Float32Array,
  rows: number,
  out: Float64Array,
): void {
  const { width, weights } = params;
  const bias = Math.fround(params.bias);
  if (params.family === 'lr') {
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      let dot = 0;
      for (let j = 0; j < width; j++) dot += weights[indices[base + j]] * values[base + j];
      out[r] = dot + bias;
    }
    return;
  }
  const K = params.factors;
  const v = params.embeddings;
  const sum = new Float64Array(K);
  const sq = new Float64Array(K);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    let dot = 0;
    sum.fill(0);
    sq.fill(0);
    for (let j = 0; j < width; j++) {
      const i = indices[base + j];
      const x = values[base + j];
      dot += weights[i] * x;
      const o = i * K;
      for (let k = 0; k < K; k++) {
        const t = v[o + k] * x;
        sum[k] += t;
        sq[k] += t * t;
      }
    }
    let pair = 0;
    for (let k = 0; k < K; k++) pair += sum[k] * sum[k] - sq[k];
    out[r] = dot + bias + 0.5 * pair;
  }
}

/** Click probabilities of `rows` rows: the sigmoid of {@link predictLogits}. */
export function predictProbabilities(
  params: ModelParams,
  indices: Int32Array,
  values: Float32Array,
  rows: number,
  out: Float64Array = new Float64Array(rows),
): Float64Array {
  predictLogits(params, indices, values, rows, out);
  for (let r = 0; r < rows; r++) out[r] = sigmoid(out[r]);
  return out;
}

/** The logistic function, stable for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
