/**
 * Recognises the two graphs lockstep's exporter writes and compiles them to fused loops:
 *
 *   LR: Sigmoid(ReduceSum(Gather(w, indices) · values, axis 1) + b)
 *   FM: Sigmoid(LR logit + c · ReduceSum((Σ_f xv)² − Σ_f xv², axis 1)),  xv = Gather(v, indices) · values[..., None]
 *
 * Matching is structural, not by node names: Add and Mul operands may come in either order, axes may be given
 * negative, and constants may be initializers or Constant nodes. A graph that does not match exactly is left to
 * the generic interpreter. The kernels read the weights in place and allocate nothing per call.
 */
import type { EngineTerms } from '../types.ts';
import type { ConstTensor, OnnxModel, OnnxNode } from './onnx.ts';

/**
 * The row-level kernel: same contract as ModelEngine.run (`shared`: positions whose slot is the same in every row;
 * `terms`: known per-slot terms, LR only, see {@link lrKernel}).
 */
export type Kernel = (indices: Int32Array, values: Float32Array, rows: number, out: Float32Array, shared?: Int32Array, terms?: EngineTerms) => void;

export interface FusedModel {
  family: 'lr' | 'fm';
  dimension: number;
  factors?: number;
  kernel: (width: number) => Kernel;
}

interface Ctx {
  model: OnnxModel;
  producers: Map<string, OnnxNode>;
  indices: string;
  values: string;
}

const fround = Math.fround;

/** Tries to recognise an LR or FM graph; returns undefined when the graph is anything else. */
export function recognise(model: OnnxModel, names: { indices: string; values: string; output: string }): FusedModel | undefined {
  const producers = new Map<string, OnnxNode>();
  for (const n of model.nodes) for (const o of n.outputs) producers.set(o, n);
  const cx: Ctx = { model, producers, ...names };
  const top = op(cx, names.output, 'Sigmoid');
  if (!top) return undefined;
  const terms: string[] = [];
  flattenAdds(cx, top.inputs[0], terms);

  let w: Float32Array | undefined;
  let bias = 0;
  let biasSeen = false;
  let fm: { v: Float32Array; k: number; c: number } | undefined;
  for (const t of terms) {
    const lin = matchLinear(cx, t);
    if (lin && !w) {
      w = lin;
      continue;
    }
    const b = constant(cx, t);
    if (b && b.kind === 'float' && b.data.length === 1 && b.dims.length <= 1 && !biasSeen) {
      bias = b.data[0];
      biasSeen = true;
      continue;
    }
    const inter = matchInteraction(cx, t);
    if (inter && !fm) {
      fm = inter;
      continue;
    }
    return undefined;
  }
  if (!w) return undefined;
  const dimension = w.length;
  if (fm && fm.v.length !== dimension * fm.k) return undefined;
  const weights = w;
  const b = fround(bias);
  if (!fm) return { family: 'lr', dimension, kernel: (width) => lrKernel(weights, b, width) };
  const { v, k, c } = fm;
  return { family: 'fm', dimension, factors: k, kernel: (width) => fmKernel(weights, b, v, k, fround(c), width) };
}

function op(cx: Ctx, name: string, type: string): OnnxNode | undefined {
  const n = cx.producers.get(name);
  return n && n.opType === type && (n.domain === '' || n.domain === 'ai.onnx') ? n : undefined;
}

function flattenAdds(cx: Ctx, name: string, out: string[]): void {
  const n = op(cx, name, 'Add');
  if (!n) out.push(name);
  else for (const i of n.inputs) flattenAdds(cx, i, out);
}

/** A constant by name: an initializer or the output of a Constant node with a tensor value. */
function constant(cx: Ctx, name: string): ConstTensor | undefined {
  const init = cx.model.initializers.get(name);
  if (init) return init;
  const n = op(cx, name, 'Constant');
  const t = n?.attributes.get('value')?.t;
  if (t) return t;
  const f = n?.attributes.get('value_float')?.f;
  return f === undefined ? undefined : { name, dims: [], data: Float32Array.of(f), kind: 'float' };
}

/** The axes of a ReduceSum/Unsqueeze (input 1 from opset 13, the attribute before), normalised for `rank`. */
function axes(cx: Ctx, n: OnnxNode, rank: number): number[] | undefined {
  const raw = n.inputs[1] ? constant(cx, n.inputs[1])?.data : n.attributes.get('axes')?.ints;
  return raw ? Array.from(raw, (a) => (a < 0 ? a + rank : a)) : undefined;
}

function isReduce(cx: Ctx, n: OnnxNode | undefined, rank: number, axis: number, keepdims: boolean): n is OnnxNode {
  if (!n) return false;
  const a = axes(cx, n, rank);
  const keep = (n.attributes.get('keepdims')?.i ?? 1) !== 0;
  return !!a && a.length === 1 && a[0] === axis && keep === keepdims;
}

/** Both operands of a binary node, in either order, satisfying `first` and `second`. */
function pair<A, B>(n: OnnxNode, first: (x: string) => A | undefined, second: (x: string) => B | undefined): [A, B] | undefined {
  const [x, y] = n.inputs;
  const a1 = first(x);
  const b1 = a1 === undefined ? undefined : second(y);
  if (a1 !== undefined && b1 !== undefined) return [a1, b1];
  const a2 = first(y);
  const b2 = a2 === undefined ? undefined : second(x);
  return a2 !== undefined && b2 !== undefined ? [a2, b2] : undefined;
}

/** Gather(P, indices) with P a float initializer of rank `rank`; returns P. */
function gatheredParam(cx: Ctx, name: string, rank: number): ConstTensor | undefined {
  const g = op(cx, name, 'Gather');
  if (!g || (g.attributes.get('axis')?.i ?? 0) !== 0 || g.inputs[1] !== cx.indices) return undefined;
  const p = cx.model.initializers.get(g.inputs[0]);
  return p && p.kind === 'float' && p.dims.length === rank ? p : undefined;
}

/** ReduceSum(Gather(w, indices) · values, axes [1], keepdims 1) → w. */
function matchLinear(cx: Ctx, name: string): Float32Array | undefined {
  const r = op(cx, name, 'ReduceSum');
  if (!isReduce(cx, r, 2, 1, true)) return undefined;
  const m = op(cx, r.inputs[0], 'Mul');
  const p = m && pair(m, (x) => gatheredParam(cx, x, 1), (x) => (x === cx.values ? x : undefined));
  return p?.[0].data as Float32Array | undefined;
}

/** Gather(v, indices) · Unsqueeze(values, [2]) → v. */
function matchXv(cx: Ctx, name: string): ConstTensor | undefined {
  const m = op(cx, name, 'Mul');
  const isUnsqueezedValues = (x: string) => {
    const u = op(cx, x, 'Unsqueeze');
    const a = u && axes(cx, u, 3);
    return u && u.inputs[0] === cx.values && a?.length === 1 && a[0] === 2 ? x : undefined;
  };
  return (m && pair(m, (x) => gatheredParam(cx, x, 2), isUnsqueezedValues))?.[0];
}

/** c · ReduceSum(ReduceSum(xv, 1)² − ReduceSum(xv², 1), axes [1], keepdims 1) → v, k, c. */
function matchInteraction(cx: Ctx, name: string): { v: Float32Array; k: number; c: number } | undefined {
  const m = op(cx, name, 'Mul');
  const scalar = (x: string) => {
    const t = constant(cx, x);
    return t && t.kind === 'float' && t.data.length === 1 && t.dims.length <= 1 ? t.data[0] : undefined;
  };
  const outer = (x: string) => {
    const r = op(cx, x, 'ReduceSum');
    return isReduce(cx, r, 2, 1, true) ? r : undefined;
  };
  const found = m && pair(m, outer, scalar);
  if (!found) return undefined;
  const [r, c] = found;
  const sub = op(cx, r.inputs[0], 'Sub');
  if (!sub) return undefined;
  // Sub is not commutative: squared sum first, sum of squares second.
  const sq = op(cx, sub.inputs[0], 'Mul');
  if (!sq || sq.inputs[0] !== sq.inputs[1]) return undefined;
  const s = op(cx, sq.inputs[0], 'ReduceSum');
  if (!isReduce(cx, s, 3, 1, false)) return undefined;
  const q = op(cx, sub.inputs[1], 'ReduceSum');
  if (!isReduce(cx, q, 3, 1, false)) return undefined;
  const qq = op(cx, q.inputs[0], 'Mul');
  if (!qq || qq.inputs[0] !== qq.inputs[1]) return undefined;
  const v1 = matchXv(cx, s.inputs[0]);
  const v2 = matchXv(cx, qq.inputs[0]);
  if (!v1 || v1 !== v2) return undefined;
  return { v: v1.data as Float32Array, k: v1.dims[1], c };
}

function outOfRange(i: number, d: number): never {
  throw new RangeError(`index ${i} out of range [0, ${d})`);
}

// Rounding mirrors onnxruntime's float32 operators (each Mul, ReduceSum and Add result is float32); sums are
// accumulated in float64, so the results agree with onnxruntime's to about 1e-7.
//
// An FM table is tens of MB and each slot reads one random entry of it: the kernel is bound by those memory
// accesses. Each block of rows first reads every entry it will need in one tight loop of independent loads, so
// that the cache misses overlap (and the arithmetic then finds the entries in cache), instead of each miss waiting
// behind the arithmetic of the slots before it: on random entries, 2-4x faster. Same operations in the same order:
// the same results. (LR's table, a few MB, mostly stays in cache: a first pass did not pay for itself there.)

/** Rows per block: its entries (a few hundred kB at most) stay in cache between the two passes. */
const BLOCK = 32;

/**
 * Reads the first and last value of the entry of every slot in [from, to) (entries of `stride` values; `span` is
 * the last one's offset, so that both cache lines of an entry straddling two are read). Returns their sum, which
 * the caller keeps so that the reads are not optimised away.
 */
function touch(table: Float32Array, stride: number, span: number, indices: Int32Array, from: number, to: number): number {
  const d = table.length / stride;
  let t = 0;
  for (let j = from; j < to; j++) {
    let i = indices[j];
    if (i < 0) i += d;
    if (i >= 0 && i < d) t += table[i * stride] + table[i * stride + span];
  }
  return t;
}

/**
 * Marks the `shared` positions of a row in `mask` (1: shared) and returns whether there are any. Rebuilt on every call
 * (a few dozen stores): the caller may reuse one array with other contents.
 */
function sharedMask(mask: Uint8Array, shared: Int32Array | undefined, rows: number): boolean {
  mask.fill(0);
  // One row: nothing to share.
  if (shared === undefined || shared.length === 0 || rows < 2) return false;
  for (let t = 0; t < shared.length; t++) {
    const j = shared[t];
    if (!(j >= 0 && j < mask.length)) throw new RangeError(`shared position ${j} out of range [0, ${mask.length})`);
    mask[j] = 1;
  }
  return true;
}

/**
 * Marks the `terms` positions of a row that are not shared with 2 in `mask` (after {@link sharedMask}) and returns
 * whether there are any.
 */
function termMask(mask: Uint8Array, positions: Int32Array): boolean {
  for (let t = 0; t < positions.length; t++) {
    const j = positions[t];
    if (!(j >= 0 && j < mask.length)) throw new RangeError(`term position ${j} out of range [0, ${mask.length})`);
    if (mask[j] === 0) mask[j] = 2;
  }
  return positions.length > 0;
}

// Shared positions (the user's and the context's fields, about 10 of 24 slots on the sponsored-ads spec): their
// products are computed once, from the first row, and each row adds them where it would have added its own, in the
// same order: the same sums, bit for bit, without each row's random read into the weight table.

/**
 * LR, position by position: for each position, every row's product is added to that row's sum. Each row still sums
 * its slots in position order (the same result bit for bit), but the weight reads of one position across rows are
 * independent of each other, where a row's reads all fed one chain of additions: more cache misses in flight at once
 * (-4% of a 100-candidate score() in an interleaved A/B; the table, 4 MB, does not stay in the CPU's L2 cache).
 *
 * Terms: at the `terms` positions, a slot's product fround(w[i] · x) is taken from `terms.values` when it is there
 * (a float32 number, exactly what the kernel would compute) and written there when it is NaN, for the caller to
 * remember: a cached ad's slots then cost no read of the weight table in later requests. Same sums, bit for bit.
 */
function lrKernel(w: Float32Array, b: number, width: number): Kernel {
  const d = w.length;
  const mask = new Uint8Array(width);
  /** Each row's running sum (grown when a call has more rows: no allocation per call once warm). */
  let z = new Float64Array(64);
  return (indices, values, rows, out, shared, terms) => {
    const some = sharedMask(mask, shared, rows);
    const known = terms !== undefined && termMask(mask, terms.positions) ? terms.values : undefined;
    if (z.length < rows) z = new Float64Array(Math.max(rows, 2 * z.length));
    z.fill(0, 0, rows);
    for (let p = 0; p < width; p++) {
      if (known !== undefined && mask[p] === 2) {
        for (let r = 0, j = p; r < rows; r++, j += width) {
          let t = known[j];
          if (t !== t) {
            let i = indices[j];
            if (i < 0) i += d;
            if (!(i >= 0 && i < d)) outOfRange(indices[j], d);
            known[j] = t = fround(w[i] * values[j]);
          }
          z[r] += t;
        }
        continue;
      }
      if (some && mask[p] === 1) {
        let i = indices[p];
        if (i < 0) i += d;
        if (!(i >= 0 && i < d)) outOfRange(indices[p], d);
        const t = fround(w[i] * values[p]);
        for (let r = 0; r < rows; r++) z[r] += t;
        continue;
      }
      for (let r = 0, j = p; r < rows; r++, j += width) {
        let i = indices[j];
        if (i < 0) i += d;
        if (!(i >= 0 && i < d)) outOfRange(indices[j], d);
        z[r] += fround(w[i] * values[j]);
      }
    }
    for (let r = 0; r < rows; r++) out[r] = 1 / (1 + Math.exp(-fround(fround(z[r]) + b)));
  };
}

function fmKernel(w: Float32Array, b: number, v: Float32Array, k: number, c: number, width: number): Kernel {
  const d = w.length;
  // w and v interleaved per index ([w_i, v_i0 … v_ik−1]): one random memory access per slot instead of two. With
  // tables of tens of MB, the kernel is bound by those accesses (TLB and cache misses), not by arithmetic.
  const stride = k + 1;
  const wv = new Float32Array(d * stride);
  for (let i = 0; i < d; i++) {
    wv[i * stride] = w[i];
    wv.set(v.subarray(i * k, (i + 1) * k), i * stride + 1);
  }
  if (k === 8) return fm8Kernel(wv, b, c, width);
  const s = new Float64Array(k);
  const q = new Float64Array(k);
  // A typed array: a number kept in a closure variable would be a heap allocation per call.
  const sink = new Float64Array(1);
  const mask = new Uint8Array(width);
  const terms = new Float64Array(width * (1 + 2 * k));
  return (indices, values, rows, out, shared) => {
    const some = sharedMask(mask, shared, rows) && fmSharedTerms(wv, k, mask, indices, values, terms);
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const r1 = Math.min(rows, r0 + BLOCK);
      sink[0] += touch(wv, stride, k, indices, r0 * width, r1 * width);
      for (let r = r0, base = r0 * width; r < r1; r++, base += width) {
        let lin = 0;
        s.fill(0);
        q.fill(0);
        for (let j = base, end = base + width; j < end; j++) {
          if (some && mask[j - base] === 1) {
            const o = (j - base) * (1 + 2 * k);
            lin += terms[o];
            for (let f = 0; f < k; f++) {
              s[f] += terms[o + 1 + f];
              q[f] += terms[o + 1 + k + f];
            }
            continue;
          }
          let i = indices[j];
          if (i < 0) i += d;
          if (!(i >= 0 && i < d)) outOfRange(indices[j], d);
          const x = values[j];
          const o = i * stride;
          lin += fround(wv[o] * x);
          for (let f = 0; f < k; f++) {
            const t = fround(wv[o + 1 + f] * x);
            s[f] += t;
            q[f] += fround(t * t);
          }
        }
        let pair = 0;
        for (let f = 0; f < k; f++) pair += pairTerm(s[f], q[f]);
        const logit = fround(fround(fround(lin) + b) + fround(fround(pair) * c));
        out[r] = 1 / (1 + Math.exp(-logit));
      }
    }
  };
}

/**
 * The FM terms of the first row's shared positions into `terms` (per position, 1 + 2k values: w·x, then each
 * factor's v·x, then its square, as float32 operations); returns true.
 */
function fmSharedTerms(wv: Float32Array, k: number, mask: Uint8Array, indices: Int32Array, values: Float32Array, terms: Float64Array): boolean {
  const stride = k + 1;
  const d = wv.length / stride;
  for (let p = 0; p < mask.length; p++) {
    if (mask[p] === 0) continue;
    let i = indices[p];
    if (i < 0) i += d;
    if (!(i >= 0 && i < d)) outOfRange(indices[p], d);
    const x = values[p];
    const o = p * (1 + 2 * k);
    terms[o] = fround(wv[i * stride] * x);
    for (let f = 0; f < k; f++) {
      const t = fround(wv[i * stride + 1 + f] * x);
      terms[o + 1 + f] = t;
      terms[o + 1 + k + f] = fround(t * t);
    }
  }
  return true;
}

/** One factor's term of the pairwise interaction: (Σ xv)² − Σ (xv)², as float32 operations. */
function pairTerm(s: number, q: number): number {
  const sf = fround(s);
  return fround(fround(sf * sf) - fround(q));
}

/**
 * The FM kernel for K = 8 (the trainer's default), its sums in local variables rather than arrays: no store and
 * reload per factor and slot. The same operations in the same order as the general kernel.
 */
function fm8Kernel(wv: Float32Array, b: number, c: number, width: number): Kernel {
  const d = wv.length / 9;
  const sink = new Float64Array(1);
  const mask = new Uint8Array(width);
  const terms = new Float64Array(width * 17);
  return (indices, values, rows, out, shared) => {
    const some = sharedMask(mask, shared, rows) && fmSharedTerms(wv, 8, mask, indices, values, terms);
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const r1 = Math.min(rows, r0 + BLOCK);
      sink[0] += touch(wv, 9, 8, indices, r0 * width, r1 * width);
      for (let r = r0, base = r0 * width; r < r1; r++, base += width) {
        let lin = 0;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        let q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
        for (let j = base, end = base + width; j < end; j++) {
          if (some && mask[j - base] === 1) {
            const o = (j - base) * 17;
            lin += terms[o];
            s0 += terms[o + 1];
            s1 += terms[o + 2];
            s2 += terms[o + 3];
            s3 += terms[o + 4];
            s4 += terms[o + 5];
            s5 += terms[o + 6];
            s6 += terms[o + 7];
            s7 += terms[o + 8];
            q0 += terms[o + 9];
            q1 += terms[o + 10];
            q2 += terms[o + 11];
            q3 += terms[o + 12];
            q4 += terms[o + 13];
            q5 += terms[o + 14];
            q6 += terms[o + 15];
            q7 += terms[o + 16];
            continue;
          }
          let i = indices[j];
          if (i < 0) i += d;
          if (!(i >= 0 && i < d)) outOfRange(indices[j], d);
          const x = values[j];
          const o = i * 9;
          lin += fround(wv[o] * x);
          let t = fround(wv[o + 1] * x);
          s0 += t;
          q0 += fround(t * t);
          t = fround(wv[o + 2] * x);
          s1 += t;
          q1 += fround(t * t);
          t = fround(wv[o + 3] * x);
          s2 += t;
          q2 += fround(t * t);
          t = fround(wv[o + 4] * x);
          s3 += t;
          q3 += fround(t * t);
          t = fround(wv[o + 5] * x);
          s4 += t;
          q4 += fround(t * t);
          t = fround(wv[o + 6] * x);
          s5 += t;
          q5 += fround(t * t);
          t = fround(wv[o + 7] * x);
          s6 += t;
          q6 += fround(t * t);
          t = fround(wv[o + 8] * x);
          s7 += t;
          q7 += fround(t * t);
        }
        // Summed in factor order, as the general kernel does.
        let pair = 0;
        pair += pairTerm(s0, q0);
        pair += pairTerm(s1, q1);
        pair += pairTerm(s2, q2);
        pair += pairTerm(s3, q3);
        pair += pairTerm(s4, q4);
        pair += pairTerm(s5, q5);
        pair += pairTerm(s6, q6);
        pair += pairTerm(s7, q7);
        const logit = fround(fround(fround(lin) + b) + fround(fround(pair) * c));
        out[r] = 1 / (1 + Math.exp(-logit));
      }
    }
  };
}
