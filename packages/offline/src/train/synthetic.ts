/**
 * Synthetic hashed click data from a known model, for tests and the training benchmark: F categorical fields with
 * long-tailed (≈ Zipf) value frequencies, a true logit made of per-value weights plus latent interactions between
 * some field pairs, and labels drawn from the true probability. Deterministic for a seed.
 */
import { SeededRandom } from './random.ts';

export interface SyntheticOptions {
  rows: number;
  /** Categorical fields per row. @default 24 */
  fields?: number;
  /** log2 of the hashed index space. @default 20 */
  hashBits?: number;
  /** Distinct values per field, cycled over the fields. @default [2, 4, 7, 24, 100, 1000, 10000, 100000] */
  cardinalities?: number[];
  /** Field pairs (by field number) with a true interaction. @default [[0, 3], [1, 4], [2, 5], [3, 6]] */
  interactions?: Array<[number, number]>;
  /** Spread of the true per-value weights. @default 0.4 */
  weightScale?: number;
  /** Strength of the true interactions. @default 1 */
  interactionScale?: number;
  /** True bias: sets the base rate (−3.5 gives roughly 4% clicks). @default -3.5 */
  bias?: number;
  seed?: number;
}

export interface SyntheticData {
  rows: number;
  width: number;
  dimension: number;
  indices: Int32Array;
  values: Float32Array;
  labels: Float32Array;
  /** The true click probability of each row. */
  probabilities: Float64Array;
}

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x27d4eb2f, 0x165667b1) ^ b;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A deterministic value in [-1, 1) for a (key, value) pair. */
function unit(a: number, b: number): number {
  return mix(a, b) / 2147483648 - 1;
}

export function syntheticClicks(options: SyntheticOptions): SyntheticData {
  const rows = options.rows;
  const F = options.fields ?? 24;
  const bits = options.hashBits ?? 20;
  const cards = options.cardinalities ?? [2, 4, 7, 24, 100, 1000, 10000, 100000];
  const pairs = options.interactions ?? [[0, 3], [1, 4], [2, 5], [3, 6]];
  const ws = options.weightScale ?? 0.4;
  const is = options.interactionScale ?? 1;
  const bias = options.bias ?? -3.5;
  const rng = new SeededRandom(options.seed ?? 7);
  const mask = 2 ** bits - 1;
  const K = 4;

  const indices = new Int32Array(rows * F);
  const values = new Float32Array(rows * F).fill(1);
  const labels = new Float32Array(rows);
  const probabilities = new Float64Array(rows);
  const logC = Array.from({ length: F }, (_, f) => Math.log(cards[f % cards.length] + 1));
  const value = new Int32Array(F);

  for (let r = 0; r < rows; r++) {
    let z = bias;
    for (let f = 0; f < F; f++) {
      // Log-uniform ranks: a value's frequency falls roughly as 1/rank, like real categorical traffic.
      const v = Math.floor(Math.exp(rng.next() * logC[f])) - 1;
      value[f] = v;
      indices[r * F + f] = mix(f + 1, v) & mask;
      z += ws * unit(f + 101, v);
    }
    for (const [a, b] of pairs) {
      let dot = 0;
      for (let k = 0; k < K; k++) dot += unit(a * 64 + k, value[a]) * unit(b * 64 + k + 32, value[b]);
      z += (is * dot) / Math.sqrt(K);
    }
    const p = 1 / (1 + Math.exp(-z));
    probabilities[r] = p;
    labels[r] = rng.next() < p ? 1 : 0;
  }
  return { rows, width: F, dimension: mask + 1, indices, values, labels, probabilities };
}
