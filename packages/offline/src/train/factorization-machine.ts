/**
 * A second-order factorization machine (Rendle 2010) over the same hashed slots as the logistic regression:
 * logit = b + Σ w_i x_i + Σ_{i<j} ⟨v_i, v_j⟩ x_i x_j, computed in O(F·K) as ½ Σ_k ((Σ v_ik x_i)² − Σ (v_ik x_i)²).
 *
 * The linear part learns with FTRL-Proximal, exactly as the LR does. The factors learn with row-wise AdaGrad
 * (one squared-gradient sum per index, shared by its K factors, as production embedding trainers do, e.g.
 * FBGEMM's rowwise_adagrad): adaptive per index like AdaGrad, with one square root per index instead of K.
 */
import { FtrlLinear, type FtrlOptions } from './ftrl.ts';
import type { FmParams } from './model-params.ts';
import { clampedSigmoid, type OnlineModel } from './online-model.ts';
import { SeededRandom } from './random.ts';

export interface FmOptions {
  /** Latent factors per index (K). @default 8 */
  factors?: number;
  /** AdaGrad learning rate of the factors. @default 0.02 */
  learningRate?: number;
  /** L2 strength on the factors (applied to the factors a row touches). @default 0.0001 */
  l2?: number;
  /** Standard deviation of the (uniform, seeded) initial factors. @default 0.01 */
  initStd?: number;
  /** AdaGrad's initial squared-gradient sum: damps the first steps of a rarely seen index. @default 0.01 */
  initialAccumulator?: number;
  /** Seed of the initial factors. @default 1 */
  seed?: number;
  /** FTRL options of the linear part. */
  ftrl?: FtrlOptions;
}

export const FM_DEFAULTS = { factors: 8, learningRate: 0.02, l2: 1e-4, initStd: 0.01, initialAccumulator: 0.01, seed: 1 };

export class FactorizationMachine implements OnlineModel {
  readonly family = 'fm' as const;
  readonly width: number;
  readonly dimension: number;
  readonly factors: number;
  readonly options: Required<Omit<FmOptions, 'ftrl'>>;
  readonly linear: FtrlLinear;
  /** Per index: its K factors, then its AdaGrad sum (stride K + 1), so a row's reads stay together. */
  readonly vg: Float32Array;
  private readonly stride: number;
  /** Σ_i v_ik x_i of the current row, per factor. */
  private readonly sum: Float64Array;
  /** One index's factor gradients (scratch). */
  private readonly grads: Float64Array;

  constructor(width: number, dimension: number, options: FmOptions = {}) {
    this.width = width;
    this.dimension = dimension;
    const { ftrl, ...rest } = options;
    this.options = { ...FM_DEFAULTS, ...rest };
    const { factors, learningRate, l2, initStd, initialAccumulator } = this.options;
    if (!Number.isInteger(factors) || factors < 1 || factors > 256) throw new RangeError(`fm.factors must be an integer in 1..256, got ${factors}`);
    for (const [k, v] of Object.entries({ learningRate, l2, initStd, initialAccumulator })) {
      if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`fm.${k} must be a finite number ≥ 0, got ${v}`);
    }
    this.factors = factors;
    this.stride = factors + 1;
    this.linear = new FtrlLinear(dimension, ftrl);
    this.vg = new Float32Array(dimension * this.stride);
    // Uniform on [-a, a] has standard deviation a/√3.
    const a = initStd * Math.sqrt(3);
    const rng = new SeededRandom(this.options.seed);
    for (let i = 0; i < dimension; i++) {
      const o = i * this.stride;
      for (let k = 0; k < factors; k++) this.vg[o + k] = (2 * rng.next() - 1) * a;
      this.vg[o + factors] = initialAccumulator;
    }
    this.sum = new Float64Array(factors);
    this.grads = new Float64Array(factors);
  }

  /** The pairwise term ½ Σ_k ((Σ v x)² − Σ (v x)²) of the row at `base`; leaves Σ v x per factor in `this.sum`. */
  private pairwise(indices: Int32Array, values: Float32Array, base: number): number {
    const { width, vg, sum, stride } = this;
    const K = this.factors;
    sum.fill(0);
    let sq = 0;
    for (let j = 0; j < width; j++) {
      const x = values[base + j];
      const o = indices[base + j] * stride;
      for (let k = 0; k < K; k++) {
        const t = vg[o + k] * x;
        sum[k] += t;
        sq += t * t;
      }
    }
    let s2 = 0;
    for (let k = 0; k < K; k++) s2 += sum[k] * sum[k];
    return 0.5 * (s2 - sq);
  }

  fit(indices: Int32Array, values: Float32Array, labels: Float32Array, rows: number, mask?: Uint8Array | null, logits?: Float64Array | null): void {
    const { width, linear, vg, sum, stride, grads } = this;
    const K = this.factors;
    const invK = 1 / K;
    const { learningRate: lr, l2 } = this.options;
    for (let r = 0; r < rows; r++) {
      if (mask && mask[r] === 0) {
        if (logits) logits[r] = NaN;
        continue;
      }
      const base = r * width;
      const z = linear.logit(indices, values, base, width) + this.pairwise(indices, values, base);
      if (logits) logits[r] = z;
      const g = clampedSigmoid(z) - labels[r];
      linear.update(indices, values, base, width, g);
      // ∂z/∂v_ik = x_i (Σ_j v_jk x_j − v_ik x_i), with the sums from before this row's updates.
      for (let j = 0; j < width; j++) {
        const x = values[base + j];
        if (x === 0) continue;
        const gx = g * x;
        const o = indices[base + j] * stride;
        let g2 = 0;
        for (let k = 0; k < K; k++) {
          const v = vg[o + k];
          const grad = gx * (sum[k] - v * x) + l2 * v;
          grads[k] = grad;
          g2 += grad * grad;
        }
        const acc = vg[o + K] + g2 * invK;
        vg[o + K] = acc;
        const step = lr / Math.sqrt(acc);
        for (let k = 0; k < K; k++) vg[o + k] -= step * grads[k];
      }
    }
  }

  logits(indices: Int32Array, values: Float32Array, rows: number, out: Float64Array): void {
    const { width, linear } = this;
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      out[r] = linear.logit(indices, values, base, width) + this.pairwise(indices, values, base);
    }
  }

  toParams(logitShift = 0): FmParams {
    const K = this.factors;
    const embeddings = new Float32Array(this.dimension * K);
    for (let i = 0; i < this.dimension; i++) embeddings.set(this.vg.subarray(i * this.stride, i * this.stride + K), i * K);
    return {
      family: 'fm',
      width: this.width,
      dimension: this.dimension,
      factors: K,
      bias: Math.fround(this.linear.bias() + logitShift),
      weights: this.linear.weights(),
      embeddings,
    };
  }
}
