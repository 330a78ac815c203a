/**
 * FTRL-Proximal (McMahan et al., "Ad Click Prediction: a View from the Trenches", KDD 2013, Algorithm 1):
 * per-coordinate learning rates, L1 for sparsity and L2 for shrinkage. The linear part of both model families
 * uses it.
 *
 * The paper computes each weight lazily from (z, n) at prediction time. Here each coordinate keeps its weight
 * next to z and √n, recomputed when the coordinate is updated: the same weights (they only change on updates),
 * but a prediction is then a plain load and the update costs one square root instead of two.
 */
import { KERNEL_SCRATCH_BYTES } from './ftrl-wasm.ts';

export interface FtrlOptions {
  /** Learning-rate scale α of the per-coordinate rate α / (β + √n). @default 0.1 */
  alpha?: number;
  /** Learning-rate smoothing β. @default 1 */
  beta?: number;
  /** L1 strength λ1 (weights with |z| ≤ λ1 are exactly 0). @default 0.5 */
  l1?: number;
  /** L2 strength λ2. @default 1 */
  l2?: number;
}

export const FTRL_DEFAULTS: Required<FtrlOptions> = { alpha: 0.1, beta: 1, l1: 0.5, l2: 1 };

/** Slots per coordinate in the state array: z, √n, w and one pad (32 bytes: a coordinate never straddles a cache line). */
const STRIDE = 4;

/** FTRL state for `dimension` coordinates plus an unregularised bias. */
export class FtrlLinear {
  readonly dimension: number;
  readonly options: Required<FtrlOptions>;
  /**
   * Per coordinate [z, √n, w, 0], in float64: n sums millions of squared gradients. A view of `memory`, where the
   * logistic regression's WebAssembly training kernel (ftrl-wasm.ts) updates it in place.
   */
  readonly state: Float64Array;
  /** Holds `state` from address 0, then the kernel's scratch space. */
  readonly memory: WebAssembly.Memory;
  biasZ = 0;
  biasSqrtN = 0;
  biasW = 0;
  private readonly invAlpha: number;

  constructor(dimension: number, options: FtrlOptions = {}) {
    this.dimension = dimension;
    this.options = { ...FTRL_DEFAULTS, ...options };
    for (const [k, v] of Object.entries(this.options)) {
      if (!(Number.isFinite(v) && v >= 0) || (k === 'alpha' && v === 0)) throw new RangeError(`ftrl.${k} must be a finite number ≥ 0 (alpha > 0), got ${v}`);
    }
    const bytes = 8 * STRIDE * dimension + KERNEL_SCRATCH_BYTES;
    if (!(Number.isInteger(dimension) && dimension > 0 && bytes <= 2 ** 32)) throw new RangeError(`ftrl dimension must be an integer in 1..${(2 ** 32 - KERNEL_SCRATCH_BYTES) / 32}, got ${dimension}`);
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65_536) });
    this.state = new Float64Array(this.memory.buffer, 0, STRIDE * dimension);
    this.invAlpha = 1 / this.options.alpha;
  }

  /** The linear logit (bias included) of the row at `base`. */
  logit(indices: Int32Array, values: Float32Array, base: number, width: number): number {
    const s = this.state;
    let dot = this.biasW;
    for (let j = 0; j < width; j++) dot += s[(indices[base + j] << 2) + 2] * values[base + j];
    return dot;
  }

  /** Applies g, the loss gradient with respect to the logit, to the row's coordinates and the bias. */
  update(indices: Int32Array, values: Float32Array, base: number, width: number, g: number): void {
    const s = this.state;
    const { l1, l2, beta } = this.options;
    const invAlpha = this.invAlpha;
    for (let j = 0; j < width; j++) {
      const x = values[base + j];
      if (x === 0) continue;
      const gi = g * x;
      const o = indices[base + j] << 2;
      const sq = s[o + 1];
      const sqNew = Math.sqrt(sq * sq + gi * gi);
      const z = s[o] + gi - (sqNew - sq) * invAlpha * s[o + 2];
      s[o] = z;
      s[o + 1] = sqNew;
      s[o + 2] = z > l1 ? (l1 - z) / ((beta + sqNew) * invAlpha + l2) : z < -l1 ? (-l1 - z) / ((beta + sqNew) * invAlpha + l2) : 0;
    }
    // The bias: the same step without L1 or L2.
    const sqNew = Math.sqrt(this.biasSqrtN * this.biasSqrtN + g * g);
    this.biasZ += g - (sqNew - this.biasSqrtN) * invAlpha * this.biasW;
    this.biasSqrtN = sqNew;
    this.biasW = -this.biasZ / ((beta + sqNew) * invAlpha);
  }

  /** The bias weight. */
  bias(): number {
    return this.biasW;
  }

  /** Starts the bias at `w` (with no gradient history yet, w = −z·α/β). */
  setInitialBias(w: number): void {
    this.biasSqrtN = 0;
    this.biasW = w;
    this.biasZ = (-w * this.options.beta) / this.options.alpha;
  }

  /** Every coordinate's weight as float32 (for export). */
  weights(): Float32Array {
    const out = new Float32Array(this.dimension);
    for (let i = 0; i < this.dimension; i++) out[i] = this.state[i * STRIDE + 2];
    return out;
  }
}
