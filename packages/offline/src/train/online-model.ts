/** What the trainer needs of a model family: one pass of online updates, predictions, and export. */
import type { ModelFamily } from '@lockstep/sdk';
import type { FtrlLinear } from './ftrl.ts';
import type { ModelParams } from './model-params.ts';

export interface OnlineModel {
  readonly family: ModelFamily;
  /** Slots per row. */
  readonly width: number;
  /** Size of the hashed index space. */
  readonly dimension: number;
  /**
   * One online step per row, in order, over rows [0, rows) of the buffers (row r's slots at `r * width`).
   * Rows with `mask[r] === 0` are skipped (negative down-sampling). The logit predicted for each row *before* its
   * update is written to `logits[r]` (progressive validation); skipped rows get NaN.
   */
  fit(indices: Int32Array, values: Float32Array, labels: Float32Array, rows: number, mask?: Uint8Array | null, logits?: Float64Array | null): void;
  /** Logits of the current (float64) state, without any down-sampling correction. */
  logits(indices: Int32Array, values: Float32Array, rows: number, out: Float64Array): void;
  /** The FTRL linear part (both families have one). */
  readonly linear: FtrlLinear;
  /** The float32 parameters to export, with `logitShift` (e.g. the down-sampling correction) folded into the bias. */
  toParams(logitShift?: number): ModelParams;
}

/** Logits beyond ±35 saturate the sigmoid in float64: clamping keeps exp() and the log loss finite. */
export const MAX_LOGIT = 35;

/** σ(z) for the update step, with z clamped. */
export function clampedSigmoid(z: number): number {
  if (z > MAX_LOGIT) z = MAX_LOGIT;
  else if (z < -MAX_LOGIT) z = -MAX_LOGIT;
  return 1 / (1 + Math.exp(-z));
}
