/**
 * The logistic regression's training pass (predict, then FTRL-update, row after row) as a small WebAssembly
 * kernel over the FTRL state in place.
 *
 * Why WebAssembly: the pass is ~25 coordinate updates a row, each a handful of float64 operations. TurboFan's
 * code for the same loop re-checks every typed array's map, length and base on each coordinate (its checks are
 * not hoisted out of loops) and re-unboxes the options: several times the instructions the arithmetic needs.
 * Wasm memory accesses need none of that. Measured on the benchmark's rows: ~1.3× the rows per CPU second of the
 * JavaScript loop (which is kept: FtrlLinear.logit/update, the reference the tests compare against).
 *
 * Same results bit for bit: wasm float64 arithmetic is IEEE-754 without contraction (no fused multiply-add), the
 * kernel performs the JavaScript loop's operations in the same order, and exp is JavaScript's own Math.exp
 * (imported), so the states, biases and logits equal the JavaScript loop's exactly (ftrl-wasm.test.ts).
 *
 * The module is written out here with a minimal binary encoder (no build step, no WAT compiler dependency).
 */
import type { FtrlLinear } from './ftrl.ts';
import { MAX_LOGIT } from './online-model.ts';

// ---- minimal WebAssembly binary encoding ----

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return void out.push(b);
    out.push(b | 0x80);
  }
}

function vector(items: number[][]): number[] {
  const out: number[] = [];
  uleb(items.length, out);
  for (const item of items) out.push(...item);
  return out;
}

function section(id: number, body: number[]): number[] {
  const out = [id];
  uleb(body.length, out);
  return out.concat(body);
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  const out: number[] = [];
  uleb(bytes.length, out);
  return out.concat(bytes);
}

const I32 = 0x7f;
const F64 = 0x7c;
const VOID = 0x40;

/** Opcodes used by the kernel (WebAssembly core specification, binary format of instructions). */
const Op = {
  Unreachable: 0x00, Block: 0x02, Loop: 0x03, If: 0x04, Else: 0x05, End: 0x0b, Call: 0x10,
  I32Eqz: 0x45, I32GeU: 0x4f, F64Eq: 0x61, F64Lt: 0x63, F64Gt: 0x64,
  I32Add: 0x6a, I32Shl: 0x74, F64Neg: 0x9a, F64Sqrt: 0x9f, F64Add: 0xa0, F64Sub: 0xa1, F64Mul: 0xa2,
  F64Div: 0xa3, F64Min: 0xa4, F64Max: 0xa5, F64PromoteF32: 0xbb,
  I64Sub: 0x7d, I64And: 0x83, I64Or: 0x84, I64ExtendI32U: 0xad, I64ReinterpretF64: 0xbd, F64ReinterpretI64: 0xbf,
} as const;

/** A function body under construction: one method per instruction form. */
class Body {
  readonly bytes: number[] = [];
  op(...ops: number[]): this {
    this.bytes.push(...ops);
    return this;
  }
  block(type = VOID): this {
    return this.op(Op.Block, type);
  }
  loop(): this {
    return this.op(Op.Loop, VOID);
  }
  if(type = VOID): this {
    return this.op(Op.If, type);
  }
  /** An instruction with one unsigned LEB128 immediate (a local, a branch depth). */
  private immediate(opcode: number, n: number): this {
    this.bytes.push(opcode);
    uleb(n, this.bytes);
    return this;
  }
  get(local: number): this {
    return this.immediate(0x20, local);
  }
  set(local: number): this {
    return this.immediate(0x21, local);
  }
  tee(local: number): this {
    return this.immediate(0x22, local);
  }
  br(depth: number): this {
    return this.immediate(0x0c, depth);
  }
  brIf(depth: number): this {
    return this.immediate(0x0d, depth);
  }
  i64(n: number): this {
    this.bytes.push(0x42);
    sleb(n, this.bytes);
    return this;
  }
  i32(n: number): this {
    this.bytes.push(0x41);
    sleb(n, this.bytes);
    return this;
  }
  f64(n: number): this {
    this.bytes.push(0x44, ...new Uint8Array(new Float64Array([n]).buffer));
    return this;
  }
  private memory(opcode: number, align: number, offset: number): this {
    this.bytes.push(opcode);
    uleb(align, this.bytes);
    uleb(offset, this.bytes);
    return this;
  }
  i32Load(offset = 0): this {
    return this.memory(0x28, 2, offset);
  }
  f32Load(offset = 0): this {
    return this.memory(0x2a, 2, offset);
  }
  f64Load(offset = 0): this {
    return this.memory(0x2b, 3, offset);
  }
  u8Load(offset = 0): this {
    return this.memory(0x2d, 0, offset);
  }
  f64Store(offset = 0): this {
    return this.memory(0x39, 3, offset);
  }
}

// ---- the kernel ----

/**
 * fit(rows, width, indices, values, labels, mask, logits, bias, dimension, l1, l2, beta, invAlpha): byte
 * addresses into the memory, the state at address 0 ([z, √n, w, pad] per coordinate, 32 bytes), the bias's
 * [z, √n, w] at `bias`, mask 0 for none. Traps (unreachable) on an index ≥ dimension.
 */
function kernelBody(): number[] {
  // Parameters.
  const [rows, width, idxAt, valAt, labAt, maskAt, logitAt, biasAt, dim, l1, l2, beta, invAlpha] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  // i32 locals.
  const [r, ip, vp, end, p, q, o] = [13, 14, 15, 16, 17, 18, 19];
  // f64 locals.
  const [dot, g, x, gi, sq, sqNew, z, bz, bsq, bw] = [20, 21, 22, 23, 24, 25, 26, 27, 28, 29];
  const b = new Body();
  /** Pushes (beta + sqNew) * invAlpha + l2, the denominator of the soft-thresholded weight. */
  const denominator = () => b.get(beta).get(sqNew).op(Op.F64Add).get(invAlpha).op(Op.F64Mul).get(l2).op(Op.F64Add);
  /**
   * o = the byte address of the coordinate at index address `at`. The dot product checks the index (a trap when
   * out of range); the update that follows reads the same, checked, indices.
   */
  const coordinate = (at: number, check: boolean) => {
    b.get(at).i32Load();
    if (check) b.tee(o).get(dim).op(Op.I32GeU).if().op(Op.Unreachable).op(Op.End).get(o);
    b.i32(5).op(Op.I32Shl).set(o);
  };

  b.get(biasAt).f64Load(0).set(bz).get(biasAt).f64Load(8).set(bsq).get(biasAt).f64Load(16).set(bw);
  b.get(idxAt).set(ip).get(valAt).set(vp);
  b.block().loop(); // rows
  b.get(r).get(rows).op(Op.I32GeU).brIf(1);
  b.get(ip).get(width).i32(2).op(Op.I32Shl).op(Op.I32Add).set(end);
  b.block(); // the row's work; masked rows branch out of it with logit NaN
  b.get(maskAt).if().get(maskAt).get(r).op(Op.I32Add).u8Load().op(Op.I32Eqz).if();
  b.get(logitAt).get(r).i32(3).op(Op.I32Shl).op(Op.I32Add).f64(NaN).f64Store().br(2).op(Op.End).op(Op.End);

  // dot = bias w, then += w_i · x_i in slot order (FtrlLinear.logit).
  b.get(bw).set(dot).get(ip).set(p).get(vp).set(q);
  b.block().loop();
  b.get(p).get(end).op(Op.I32GeU).brIf(1);
  coordinate(p, true);
  b.get(dot).get(o).f64Load(16).get(q).f32Load().op(Op.F64PromoteF32).op(Op.F64Mul).op(Op.F64Add).set(dot);
  b.get(p).i32(4).op(Op.I32Add).set(p).get(q).i32(4).op(Op.I32Add).set(q).br(0).op(Op.End, Op.End);
  b.get(logitAt).get(r).i32(3).op(Op.I32Shl).op(Op.I32Add).get(dot).f64Store();

  // g = σ(clamp(dot)) − y (clampedSigmoid: min/max keep NaN and −0 as the comparisons do).
  b.f64(1).f64(1).get(dot).f64(-MAX_LOGIT).op(Op.F64Max).f64(MAX_LOGIT).op(Op.F64Min).op(Op.F64Neg).op(Op.Call, 0);
  b.op(Op.F64Add).op(Op.F64Div).get(labAt).get(r).i32(2).op(Op.I32Shl).op(Op.I32Add).f32Load().op(Op.F64PromoteF32).op(Op.F64Sub).set(g);

  // The FTRL step of every coordinate with x ≠ 0 (FtrlLinear.update).
  b.get(ip).set(p).get(vp).set(q);
  b.block().loop();
  b.get(p).get(end).op(Op.I32GeU).brIf(1);
  b.get(q).f32Load().op(Op.F64PromoteF32).tee(x).f64(0).op(Op.F64Eq).op(Op.I32Eqz).if();
  b.get(g).get(x).op(Op.F64Mul).set(gi);
  coordinate(p, false);
  b.get(o).f64Load(8).tee(sq).get(sq).op(Op.F64Mul).get(gi).get(gi).op(Op.F64Mul).op(Op.F64Add).op(Op.F64Sqrt).set(sqNew);
  b.get(o).f64Load(0).get(gi).op(Op.F64Add).get(sqNew).get(sq).op(Op.F64Sub).get(invAlpha).op(Op.F64Mul).get(o).f64Load(16).op(Op.F64Mul).op(Op.F64Sub).set(z);
  b.get(o).get(z).f64Store(0).get(o).get(sqNew).f64Store(8);
  b.get(o);
  // w = (z > l1 ? l1 − z : z < −l1 ? −l1 − z : +0) / denominator, the numerator chosen with bit masks rather than
  // branches: a mispredicted branch here resolves only after the square root, then flushes the coordinates behind
  // it (measured 1.05-1.2× faster). The extra division of w = 0 is exact: +0 / d = +0, as the branch gave.
  b.i64(0).get(z).get(l1).op(Op.F64Gt).op(Op.I64ExtendI32U).op(Op.I64Sub);
  b.get(l1).get(z).op(Op.F64Sub).op(Op.I64ReinterpretF64).op(Op.I64And);
  b.i64(0).get(z).get(l1).op(Op.F64Neg).op(Op.F64Lt).op(Op.I64ExtendI32U).op(Op.I64Sub);
  b.get(l1).op(Op.F64Neg).get(z).op(Op.F64Sub).op(Op.I64ReinterpretF64).op(Op.I64And);
  b.op(Op.I64Or).op(Op.F64ReinterpretI64);
  denominator().op(Op.F64Div);
  b.f64Store(16);
  b.op(Op.End);
  b.get(p).i32(4).op(Op.I32Add).set(p).get(q).i32(4).op(Op.I32Add).set(q).br(0).op(Op.End, Op.End);

  // The bias: the same step without L1 or L2.
  b.get(bsq).get(bsq).op(Op.F64Mul).get(g).get(g).op(Op.F64Mul).op(Op.F64Add).op(Op.F64Sqrt).set(sqNew);
  b.get(bz).get(g).get(sqNew).get(bsq).op(Op.F64Sub).get(invAlpha).op(Op.F64Mul).get(bw).op(Op.F64Mul).op(Op.F64Sub).op(Op.F64Add).set(bz);
  b.get(sqNew).set(bsq);
  b.get(bz).op(Op.F64Neg).get(beta).get(sqNew).op(Op.F64Add).get(invAlpha).op(Op.F64Mul).op(Op.F64Div).set(bw);
  b.op(Op.End); // the row's work

  b.get(r).i32(1).op(Op.I32Add).set(r).get(end).set(ip).get(vp).get(width).i32(2).op(Op.I32Shl).op(Op.I32Add).set(vp).br(0);
  b.op(Op.End, Op.End);
  b.get(biasAt).get(bz).f64Store(0).get(biasAt).get(bsq).f64Store(8).get(biasAt).get(bw).f64Store(16);
  b.op(Op.End);

  const locals = vector([[7, I32], [10, F64]]);
  return [...locals, ...b.bytes];
}

let compiled: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  if (compiled) return compiled;
  const body = kernelBody();
  const sized: number[] = [];
  uleb(body.length, sized);
  sized.push(...body);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    // Types: 0 = (f64) → f64 (exp), 1 = the kernel.
    ...section(1, vector([[0x60, 1, F64, 1, F64], [0x60, 13, ...Array<number>(9).fill(I32), F64, F64, F64, F64, 0]])),
    ...section(2, vector([[...name('env'), ...name('exp'), 0x00, 0], [...name('env'), ...name('memory'), 0x02, 0x00, 1]])),
    ...section(3, vector([[1]])),
    ...section(7, vector([[...name('fit'), 0x00, 1]])),
    ...section(10, vector([sized])),
  ];
  return (compiled = new WebAssembly.Module(new Uint8Array(bytes)));
}

/** Bytes of scratch the kernel needs after the state: the bias, then a chunk of rows copied in. */
export const KERNEL_SCRATCH_BYTES = 1 << 20;

type KernelFit = (...args: number[]) => void;

/** The LR training pass over a FtrlLinear's state, in place. */
export class FtrlLrKernel {
  private readonly linear: FtrlLinear;
  private readonly width: number;
  private readonly fitRows: KernelFit;
  /** Rows per chunk copied into the memory (0: a row does not fit; use the JavaScript loop). */
  readonly chunkRows: number;
  private readonly bias: Float64Array;
  private readonly indices: Int32Array;
  private readonly values: Float32Array;
  private readonly labels: Float32Array;
  private readonly mask: Uint8Array;
  private readonly logits: Float64Array;
  private readonly at: { bias: number; indices: number; values: number; labels: number; mask: number; logits: number };

  constructor(linear: FtrlLinear, width: number) {
    this.linear = linear;
    this.width = width;
    const instance = new WebAssembly.Instance(kernelModule(), { env: { exp: Math.exp, memory: linear.memory } });
    this.fitRows = instance.exports.fit as KernelFit;
    const base = linear.state.byteLength;
    // Per row: indices and values (4 bytes a slot), label (4), logit (8), mask (1); the bias first (32).
    const rowBytes = 8 * width + 13;
    const n = (this.chunkRows = Math.max(0, Math.floor((KERNEL_SCRATCH_BYTES - 64) / rowBytes)));
    const at = { bias: base, logits: base + 32, indices: 0, values: 0, labels: 0, mask: 0 };
    at.indices = at.logits + 8 * n;
    at.values = at.indices + 4 * n * width;
    at.labels = at.values + 4 * n * width;
    at.mask = at.labels + 4 * n;
    this.at = at;
    const buffer = linear.memory.buffer;
    this.bias = new Float64Array(buffer, at.bias, 3);
    this.logits = new Float64Array(buffer, at.logits, n);
    this.indices = new Int32Array(buffer, at.indices, n * width);
    this.values = new Float32Array(buffer, at.values, n * width);
    this.labels = new Float32Array(buffer, at.labels, n);
    this.mask = new Uint8Array(buffer, at.mask, n);
  }

  /** OnlineModel.fit for the logistic regression (see there). */
  fit(indices: Int32Array, values: Float32Array, labels: Float32Array, rows: number, mask?: Uint8Array | null, logits?: Float64Array | null): void {
    const { width, linear, at } = this;
    if (indices.length < rows * width || values.length < rows * width || labels.length < rows) {
      throw new RangeError(`fit: ${rows} rows of ${width} slots need ${rows * width} indices and values and ${rows} labels`);
    }
    const { l1, l2, beta, alpha } = linear.options;
    this.bias[0] = linear.biasZ;
    this.bias[1] = linear.biasSqrtN;
    this.bias[2] = linear.biasW;
    try {
      for (let from = 0; from < rows; from += this.chunkRows) {
        const n = Math.min(this.chunkRows, rows - from);
        this.indices.set(indices.subarray(from * width, (from + n) * width));
        this.values.set(values.subarray(from * width, (from + n) * width));
        this.labels.set(labels.subarray(from, from + n));
        if (mask) this.mask.set(mask.subarray(from, from + n));
        this.fitRows(n, width, at.indices, at.values, at.labels, mask ? at.mask : 0, at.logits, at.bias, linear.dimension, l1, l2, beta, 1 / alpha);
        if (logits) logits.set(this.logits.subarray(0, n), from);
      }
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) throw new RangeError(`fit: an index is outside [0, ${linear.dimension})`, { cause: e });
      throw e;
    } finally {
      linear.biasZ = this.bias[0];
      linear.biasSqrtN = this.bias[1];
      linear.biasW = this.bias[2];
    }
  }
}
