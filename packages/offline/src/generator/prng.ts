/**
 * Seeded pseudo-random numbers for the data generator.
 *
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128 bits of state, 32-bit integer
 * arithmetic only, passes PractRand, and runs at several hundred million draws a second in V8,
 * which `Math.random()` cannot be made to do reproducibly. Every independent part of the generator
 * (a table, a day, the clicks of a day) gets its own stream keyed by `(seed, ...keys)`, so changing
 * one part (e.g. the click model) leaves the others byte-identical.
 */

/** A 32-bit integer finaliser (splitmix/murmur style): spreads nearby keys over the whole range. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

const TWO_POW_32 = 4294967296;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  /** `seed` may be any safe integer; `keys` name the stream (table id, day, ...). */
  constructor(seed: number, ...keys: number[]) {
    let h = mix32(seed >>> 0) ^ mix32(Math.floor(seed / TWO_POW_32) + 0x51ed27);
    for (const k of keys) h = mix32(h ^ mix32(k >>> 0));
    this.a = mix32(h ^ 0x1);
    this.b = mix32(h ^ 0x2);
    this.c = mix32(h ^ 0x3);
    this.d = 1;
    // The first outputs of a freshly keyed sfc32 are still correlated with the key: discard them.
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform double in [0, 1) with 32 bits of resolution (plenty for simulation). */
  float(): number {
    return this.u32() / TWO_POW_32;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** A standard normal draw (Box-Muller, polar form; the second value is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.float() - 1;
      v = 2 * this.float() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    this.hasSpare = true;
    return u * m;
  }

  /** exp(N(mu, sigma²)). */
  logNormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }
}

/**
 * Walker's alias method: O(1) draws from a fixed discrete distribution. Used for users by activity,
 * ads by popularity, hours by traffic, etc., where a binary search per draw would dominate the run.
 */
export class AliasTable {
  readonly size: number;
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new RangeError('AliasTable needs at least one weight');
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i];
    if (!(total > 0)) throw new RangeError('AliasTable needs a positive total weight');
    this.size = n;
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i] * n) / total;
      if (scaled[i] < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns];
      const l = large[--nl];
      this.prob[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      if (scaled[l] < 1) small[ns++] = l;
      else large[nl++] = l;
    }
    // Leftovers are 1 up to rounding error.
    while (nl > 0) this.prob[large[--nl]] = 1;
    while (ns > 0) this.prob[small[--ns]] = 1;
  }

  /** One draw: an index in [0, size). */
  sample(rng: Rng): number {
    const i = rng.int(this.size);
    return rng.float() < this.prob[i] ? i : this.alias[i];
  }
}
