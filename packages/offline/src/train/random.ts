/**
 * The trainer's seeded randomness (mulberry32): initial FM factors and negative down-sampling draws. A fixed seed
 * and the same row order give the same model bit for bit.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Spread small seeds (0, 1, 2…) so their streams do not start alike.
    this.state = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  }

  /** A uniform double in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
