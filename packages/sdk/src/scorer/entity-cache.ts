/**
 * An in-process cache of stored feature rows with a staleness bound. Slow-changing entities (ads, advertisers)
 * are read by nearly every request; caching them removes most keys from the store round trip.
 *
 * What is cached is the stored row (event time and values), not the resolved features: the view's TTL and the
 * defaults are still applied at each request's own time, so a cached row expires exactly as a fresh read would.
 * The staleness bound limits how long a newer snapshot can go unseen. Absent rows are cached too (new ads appear
 * at most `maxStalenessMs` late), unless `cacheMisses` is off.
 *
 * One partition per view (keyed by the join-key value itself for single-key views: no string building on the hot path), each bounded by `maxEntries`
 * with CLOCK (second-chance) eviction: a hit only sets a flag, where a strict LRU would reorder a map on every hit.
 */
import type { FeatureRow, KeyPart } from '../online-format.ts';
import type { ResolvedFeatures } from '../store/resolve-features.ts';

export interface EntityCacheOptions {
  /**
   * The longest a cached row is used after it was read (ms): the bound on serving an older snapshot.
   * @default 60000
   */
  maxStalenessMs?: number;
  /**
   * Rows kept per view; beyond it, rows not used since the eviction hand last passed go first.
   * @default 100000
   */
  maxEntries?: number;
  /** Also remember that an entity has no row. @default true */
  cacheMisses?: boolean;
}

/**
 * One cached row. Besides the row it carries what the scorer derives from it while it is fresh (its resolution and
 * its entity-level input slots), and per-request bookkeeping, so that a hit costs one map lookup in all.
 */
export interface CacheEntry {
  row: FeatureRow | undefined;
  readAt: number;
  used: boolean;
  /** The row's resolution while fresh (set by the scorer; reset when the row changes). */
  resolved: ResolvedFeatures | undefined;
  /** The entity-level input slots computed from `resolved` (set by the scorer; reset when the row changes). */
  slots: Float64Array | undefined;
  /** The field group `slots` were computed for (models reading the view differently do not share them). */
  slotsFor: object | undefined;
  /** The last request that met this entity, and its position among that request's entities. */
  mark: number;
  slot: number;
}

/** The cache of one view (one project, view name and schema hash). */
export class CachePartition {
  readonly #entries = new Map<KeyPart, CacheEntry>();
  readonly #owner: EntityCache;
  readonly #maxStalenessMs: number;

  constructor(owner: EntityCache) {
    this.#owner = owner;
    this.#maxStalenessMs = owner.maxStalenessMs;
  }

  /** The entry for `key` if it was read no more than the staleness bound before `now`; undefined on a miss. */
  lookup(key: KeyPart, now: number): CacheEntry | undefined {
    const e = this.#entries.get(key);
    if (e === undefined || now - e.readAt > this.#maxStalenessMs) {
      this.#owner.misses++;
      return undefined;
    }
    e.used = true;
    this.#owner.hits++;
    return e;
  }

  /** The cached row for `key` (see {@link lookup}); `null` on a miss. */
  get(key: KeyPart, now: number): FeatureRow | undefined | null {
    const e = this.lookup(key, now);
    return e === undefined ? null : e.row;
  }

  set(key: KeyPart, row: FeatureRow | undefined, now: number): void {
    if (row === undefined && !this.#owner.cacheMisses) return;
    const e = this.#entries.get(key);
    if (e) {
      if (e.row !== row) {
        e.row = row;
        e.resolved = undefined;
        e.slots = undefined;
        e.slotsFor = undefined;
      }
      e.readAt = now;
      return;
    }
    this.#entries.set(key, { row, readAt: now, used: false, resolved: undefined, slots: undefined, slotsFor: undefined, mark: 0, slot: 0 });
    if (this.#entries.size > this.#owner.maxEntries) this.#evict();
  }

  /** CLOCK: walk from the oldest insertion; a used entry gets a second chance (moved to the end, flag cleared). */
  #evict(): void {
    for (const [key, e] of this.#entries) {
      this.#entries.delete(key);
      if (!e.used) return;
      e.used = false;
      this.#entries.set(key, e);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}

export class EntityCache {
  readonly maxStalenessMs: number;
  readonly maxEntries: number;
  readonly cacheMisses: boolean;
  readonly #partitions = new Map<string, CachePartition>();
  /** Lookups answered from the cache. */
  hits = 0;
  /** Lookups that went to the store (absent or stale). */
  misses = 0;

  constructor(options: EntityCacheOptions = {}) {
    this.maxStalenessMs = options.maxStalenessMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.cacheMisses = options.cacheMisses ?? true;
  }

  /** The partition of one view, created on first use. */
  partition(id: string): CachePartition {
    let p = this.#partitions.get(id);
    if (!p) this.#partitions.set(id, (p = new CachePartition(this)));
    return p;
  }

  /** Rows held, over all views. */
  get size(): number {
    let n = 0;
    for (const p of this.#partitions.values()) n += p.size;
    return n;
  }

  /** Forget everything (e.g. right after a materialization run, to see the new snapshot at once). */
  clear(): void {
    for (const p of this.#partitions.values()) p.clear();
  }
}
