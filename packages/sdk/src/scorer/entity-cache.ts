/**
 * An in-process LRU cache of stored feature rows with a staleness bound. Slow-changing entities (ads,
 * advertisers) are read by nearly every request; caching them removes most keys from the store round trip.
 *
 * What is cached is the stored row (event time and values), not the resolved features: the view's TTL and the
 * defaults are still applied at each request's own time, so a cached row expires exactly as a fresh read would.
 * The staleness bound limits how long a newer snapshot can go unseen. Absent rows are cached too (new ads appear
 * at most `maxStalenessMs` late), unless `cacheMisses` is off.
 */
import type { FeatureRow } from '../online-format.ts';

export interface EntityCacheOptions {
  /**
   * The longest a cached row is used after it was read (ms): the bound on serving an older snapshot.
   * @default 60000
   */
  maxStalenessMs?: number;
  /**
   * Rows kept; the least recently used go first.
   * @default 100000
   */
  maxEntries?: number;
  /** Also remember that an entity has no row. @default true */
  cacheMisses?: boolean;
}

interface Entry {
  row: FeatureRow | undefined;
  readAt: number;
}

export class EntityCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxStalenessMs: number;
  readonly #maxEntries: number;
  readonly #cacheMisses: boolean;
  hits = 0;
  misses = 0;

  constructor(options: EntityCacheOptions = {}) {
    this.#maxStalenessMs = options.maxStalenessMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#cacheMisses = options.cacheMisses ?? true;
  }

  /** The cached row for `key` read no more than the staleness bound before `now`; `null` on a miss. */
  get(key: string, now: number): FeatureRow | undefined | null {
    const e = this.#entries.get(key);
    if (!e || now - e.readAt > this.#maxStalenessMs) {
      if (e) this.#entries.delete(key);
      this.misses++;
      return null;
    }
    // Re-insert: Map iteration order is insertion order, so the first key is always the least recently used.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    this.hits++;
    return e.row;
  }

  set(key: string, row: FeatureRow | undefined, now: number): void {
    if (row === undefined && !this.#cacheMisses) return;
    this.#entries.delete(key);
    this.#entries.set(key, { row, readAt: now });
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Forget everything (e.g. right after a materialization run, to see the new snapshot at once). */
  clear(): void {
    this.#entries.clear();
  }
}
