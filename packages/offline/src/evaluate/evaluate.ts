/**
 * Evaluation of exported parameters (exactly what ships in the bundle) on held-out rows: overall metrics, a
 * reliability table, the ROC curve, per-slice figures, and, when the rows carry the true click probability (the
 * generated data's oracle), the same figures for the Bayes-optimal predictor: the limit any model can reach.
 */
import type { BatchSource } from '../train/batch-source.ts';
import { predictProbabilities, type ModelParams } from '../train/model-params.ts';
import {
  binaryMetrics,
  reliabilityTable,
  rocCurve,
  sortByScore,
  type BinaryMetrics,
  type ReliabilityBin,
  type RocPoint,
} from './metrics.ts';

export interface EvaluateOptions {
  /** Columns to break the figures down by (e.g. position, device); the source must carry them in `columns`. */
  slices?: string[];
  /** A column holding each row's true click probability: adds the Bayes-optimal figures on the same rows. */
  reference?: string;
  /** Bins of the reliability table. @default 10 */
  bins?: number;
  /** Most frequent values listed per slice column; the rest are pooled as "(other)". @default 20 */
  maxSliceValues?: number;
}

export interface SliceFigures extends BinaryMetrics {
  /** The slice column's value. */
  value: string;
}

export interface PredictorFigures {
  metrics: BinaryMetrics;
  reliability: ReliabilityBin[];
  roc: RocPoint[];
}

export interface Evaluation extends PredictorFigures {
  /** Per slice column, per value. */
  slices: Record<string, SliceFigures[]>;
  /** The Bayes-optimal predictor on the same rows (when `reference` was given). */
  bayes?: PredictorFigures;
}

/** Predictions and labels collected from a source, with the slice values and reference probabilities. */
export interface Scored {
  predictions: Float64Array;
  labels: Uint8Array;
  slices: Record<string, string[]>;
  reference?: Float64Array;
}

/** Scores every row of a source with the exported parameters. */
export async function scoreRows(params: ModelParams, source: BatchSource, options: Pick<EvaluateOptions, 'slices' | 'reference'> = {}): Promise<Scored> {
  const preds = new Growable();
  const ref = new Growable();
  const labels: number[] = [];
  const slices: Record<string, string[]> = Object.fromEntries((options.slices ?? []).map((s) => [s, [] as string[]]));
  let out = new Float64Array(0);
  for await (const batch of source.batches()) {
    if (out.length < batch.rows) out = new Float64Array(batch.rows);
    predictProbabilities(params, batch.indices, batch.values, batch.rows, out);
    preds.push(out, batch.rows);
    for (let r = 0; r < batch.rows; r++) labels.push(batch.labels[r] > 0 ? 1 : 0);
    for (const s of options.slices ?? []) {
      const col = batch.columns[s];
      if (!col) throw new RangeError(`evaluation source does not carry slice column "${s}"`);
      for (let r = 0; r < batch.rows; r++) slices[s].push(col[r] === null || col[r] === undefined ? '(missing)' : String(col[r]));
    }
    if (options.reference) {
      const col = batch.columns[options.reference];
      if (!col) throw new RangeError(`evaluation source does not carry reference column "${options.reference}"`);
      for (let r = 0; r < batch.rows; r++) ref.pushOne(Number(col[r] ?? NaN));
    }
  }
  const reference = options.reference ? ref.values() : undefined;
  if (reference?.some((p) => !(p >= 0 && p <= 1))) throw new RangeError(`reference column "${options.reference}" has rows without a probability in [0, 1]`);
  return { predictions: preds.values(), labels: Uint8Array.from(labels), slices, ...(reference ? { reference } : {}) };
}

/** Figures of one predictor. */
export function figures(p: Float64Array, labels: Uint8Array, bins = 10): PredictorFigures {
  const order = sortByScore(p);
  return { metrics: binaryMetrics(p, labels, order), reliability: reliabilityTable(p, labels, bins, order), roc: rocCurve(p, labels, 200, order) };
}

/** Evaluates already scored rows. */
export function evaluateScored(scored: Scored, options: EvaluateOptions = {}): Evaluation {
  const bins = options.bins ?? 10;
  const main = figures(scored.predictions, scored.labels, bins);
  const slices: Record<string, SliceFigures[]> = {};
  for (const [name, values] of Object.entries(scored.slices)) slices[name] = sliceFigures(values, scored.predictions, scored.labels, options.maxSliceValues ?? 20);
  return { ...main, slices, ...(scored.reference ? { bayes: figures(scored.reference, scored.labels, bins) } : {}) };
}

/** Scores a source with the exported parameters and evaluates it. */
export async function evaluate(params: ModelParams, source: BatchSource, options: EvaluateOptions = {}): Promise<Evaluation> {
  return evaluateScored(await scoreRows(params, source, options), options);
}

function sliceFigures(values: string[], p: Float64Array, labels: Uint8Array, maxValues: number): SliceFigures[] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  // Most frequent first; ties by value so the table is stable.
  const kept = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxValues).map(([v]) => v);
  const keep = new Set(kept);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < values.length; i++) {
    const key = keep.has(values[i]) ? values[i] : '(other)';
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  const order = [...kept, ...(groups.has('(other)') ? ['(other)'] : [])];
  // Numeric slice values (positions, hours) read best in numeric order.
  if (kept.every((v) => v !== '' && Number.isFinite(Number(v)))) order.sort((a, b) => (a === '(other)' ? 1 : b === '(other)' ? -1 : Number(a) - Number(b)));
  return order.map((value) => {
    const rows = groups.get(value)!;
    return { value, ...binaryMetrics(Float64Array.from(rows, (i) => p[i]), Uint8Array.from(rows, (i) => labels[i])) };
  });
}

/** A growable Float64Array. */
class Growable {
  private buf = new Float64Array(1024);
  private n = 0;
  push(src: Float64Array, count: number): void {
    this.reserve(count);
    this.buf.set(src.subarray(0, count), this.n);
    this.n += count;
  }
  pushOne(v: number): void {
    this.reserve(1);
    this.buf[this.n++] = v;
  }
  values(): Float64Array {
    return this.buf.slice(0, this.n);
  }
  private reserve(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    const next = new Float64Array(Math.max(this.buf.length * 2, this.n + extra));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
}
