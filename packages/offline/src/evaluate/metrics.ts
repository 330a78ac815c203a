/**
 * Click-model metrics over predicted probabilities and 0/1 labels. All are exact (no binning approximations in
 * AUC or log loss) and run in O(n log n).
 */

/** Probabilities are clipped to [ε, 1 − ε] in the log loss, as scikit-learn's `log_loss` does. */
export const LOGLOSS_EPS = 1e-15;

export interface BinaryMetrics {
  /** Rows evaluated. */
  rows: number;
  /** Positive labels (clicks). */
  clicks: number;
  /** Observed click rate. */
  ctr: number;
  /** Mean predicted probability. */
  meanPrediction: number;
  /** Area under the ROC curve, ties counted as half (NaN when one class is absent). */
  auc: number;
  /** Mean negative log-likelihood (natural log). */
  logloss: number;
  /**
   * Normalized entropy (He et al. 2014): the log loss divided by the log loss of always predicting the observed
   * click rate of these rows. Below 1 means better than the base rate; lower is better.
   */
  ne: number;
  /** Predicted clicks / observed clicks (1 is perfectly calibrated on average). */
  calibration: number;
}

/** Log loss of a probability for a label. */
export function rowLogloss(p: number, y: number): number {
  const q = p < LOGLOSS_EPS ? LOGLOSS_EPS : p > 1 - LOGLOSS_EPS ? 1 - LOGLOSS_EPS : p;
  return y > 0 ? -Math.log(q) : -Math.log(1 - q);
}

/** Binary entropy (natural log) of a rate: the log loss of predicting the rate itself. */
export function entropy(rate: number): number {
  if (rate <= 0 || rate >= 1) return 0;
  return -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
}

/**
 * AUC as the probability that a random positive scores above a random negative, ties counted as ½
 * (the Mann-Whitney statistic, what scikit-learn's `roc_auc_score` computes). `order` may be a precomputed
 * ascending sort of the rows by score.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>, order?: Uint32Array): number {
  const ord = order ?? sortByScore(scores);
  let pos = 0;
  let neg = 0;
  let area = 0; // Σ over positives of (negatives below + ½ negatives tied)
  for (let a = 0; a < ord.length; ) {
    // One group of equal scores.
    let b = a;
    let gp = 0;
    let gn = 0;
    const s = scores[ord[a]];
    while (b < ord.length && scores[ord[b]] === s) {
      if (labels[ord[b]] > 0) gp++;
      else gn++;
      b++;
    }
    area += gp * (neg + 0.5 * gn);
    pos += gp;
    neg += gn;
    a = b;
  }
  return pos === 0 || neg === 0 ? NaN : area / (pos * neg);
}

/** Row numbers sorted by ascending score (a stable sort: equal scores keep row order). */
export function sortByScore(scores: ArrayLike<number>): Uint32Array {
  const n = scores.length;
  // Sorting (score, row) pairs packed in one Float64Array would lose the row; sort row numbers by score instead.
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => scores[a] - scores[b] || a - b);
}

/** AUC, log loss, normalized entropy and calibration of predictions `p` against `labels`. */
export function binaryMetrics(p: ArrayLike<number>, labels: ArrayLike<number>, order?: Uint32Array): BinaryMetrics {
  const n = p.length;
  let clicks = 0;
  let sumP = 0;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i] > 0 ? 1 : 0;
    clicks += y;
    sumP += p[i];
    loss += rowLogloss(p[i], y);
  }
  const ctr = n ? clicks / n : NaN;
  const logloss = n ? loss / n : NaN;
  const h = entropy(ctr);
  return {
    rows: n,
    clicks,
    ctr,
    meanPrediction: n ? sumP / n : NaN,
    auc: auc(p, labels, order),
    logloss,
    ne: h > 0 ? logloss / h : NaN,
    calibration: clicks ? sumP / clicks : NaN,
  };
}

export interface ReliabilityBin {
  /** Rows in the bin. */
  rows: number;
  /** Lowest and highest predicted probability in the bin. */
  minPrediction: number;
  maxPrediction: number;
  /** Mean predicted probability. */
  meanPrediction: number;
  /** Observed click rate. */
  observedRate: number;
  /** Clicks in the bin. */
  clicks: number;
  /** 95% Wilson interval of the observed rate. */
  low: number;
  high: number;
}

/**
 * The reliability table: rows sorted by prediction and cut into `bins` bins of (nearly) equal size, each with its
 * mean prediction and observed rate. Equal-count bins suit click data, whose predictions crowd near 0.
 */
export function reliabilityTable(p: ArrayLike<number>, labels: ArrayLike<number>, bins = 10, order?: Uint32Array): ReliabilityBin[] {
  const ord = order ?? sortByScore(p);
  const n = ord.length;
  const out: ReliabilityBin[] = [];
  const count = Math.max(1, Math.min(bins, n));
  for (let b = 0; b < count && n > 0; b++) {
    const from = Math.floor((b * n) / count);
    const to = Math.floor(((b + 1) * n) / count);
    if (to <= from) continue;
    let sumP = 0;
    let clicks = 0;
    for (let i = from; i < to; i++) {
      sumP += p[ord[i]];
      clicks += labels[ord[i]] > 0 ? 1 : 0;
    }
    const rows = to - from;
    const [low, high] = wilson(clicks, rows);
    out.push({
      rows,
      minPrediction: p[ord[from]],
      maxPrediction: p[ord[to - 1]],
      meanPrediction: sumP / rows,
      observedRate: clicks / rows,
      clicks,
      low,
      high,
    });
  }
  return out;
}

/** 95% Wilson score interval of k successes in n trials. */
export function wilson(k: number, n: number, z = 1.959963984540054): [number, number] {
  if (n === 0) return [0, 1];
  const phat = k / n;
  const denom = 1 + (z * z) / n;
  const centre = (phat + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((phat * (1 - phat)) / n + (z * z) / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** A point of the ROC curve. */
export interface RocPoint {
  fpr: number;
  tpr: number;
}

/**
 * The ROC curve (false-positive rate, true-positive rate) at every distinct threshold, thinned to at most
 * `maxPoints` points for plotting (the area is computed exactly by {@link auc}, not from these points).
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, maxPoints = 200, order?: Uint32Array): RocPoint[] {
  const ord = order ?? sortByScore(scores);
  let P = 0;
  for (let i = 0; i < ord.length; i++) P += labels[i] > 0 ? 1 : 0;
  const N = ord.length - P;
  if (P === 0 || N === 0) return [];
  const points: RocPoint[] = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  // Descending thresholds: walk the ascending order backwards, one point per group of equal scores.
  for (let b = ord.length - 1; b >= 0; ) {
    const s = scores[ord[b]];
    while (b >= 0 && scores[ord[b]] === s) {
      if (labels[ord[b]] > 0) tp++;
      else fp++;
      b--;
    }
    points.push({ fpr: fp / N, tpr: tp / P });
  }
  if (points.length <= maxPoints) return points;
  const step = (points.length - 1) / (maxPoints - 1);
  return Array.from({ length: maxPoints }, (_, i) => points[Math.round(i * step)]);
}
