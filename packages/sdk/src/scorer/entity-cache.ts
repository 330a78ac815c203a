/**
 * An in-process cache of stored feature rows with a staleness bound. Slow-changing entities (ads, advertisers)
 * are read by nearly every request; caching them removes most keys from the store round trip.
 *
 * What is cached is the stored row (event time and values), not the resolved features: the view's TTL and the
 * defaults are still applied at each request's own time, so a cached row expires exactly as a fresh read would.
 * The staleness bound limits how long a newer snapshot can go unseen. Absent rows are cached too (new ads appear
 * at most `maxStalenessMs` late), unless `cacheMisses` is off.
 *
 * One partition per view (keyed by the join-key value itself for single-key views: no string building on the hot path;
 * integer ids are also indexed by arrays), each bounded by `maxEntries`
 * with CLOCK (second-chance) eviction: a hit only sets a flag, where a strict LRU would reorder a map on every hit.
 */
import type { FeatureRow, KeyPart } from '../online-format.ts';
import type { ResolvedFeatures } from '../store/resolve-features.ts';
import { isFresh } from '../spec/feature-view.ts';

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
 * its entity-level input slots), and per-request bookkeeping, so that a hit costs one lookup in all.
 */
export interface CacheEntry {
  row: FeatureRow | undefined;
  /** The row's event time (NaN without a row): read for the TTL check without touching the row. */
  eventTimeMs: number;
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

const CHUNK_BITS = 12;
const CHUNK_SIZE = 1 << CHUNK_BITS;
/** Non-negative integer keys below this bound may be indexed by arrays (see {@link DenseIndex}). */
const DENSE_KEYS = 1 << 24;

function isDense(key: KeyPart): key is number {
  return typeof key === 'number' && key >= 0 && key < DENSE_KEYS && Math.floor(key) === key;
}

/** A range of 4,096 consecutive integer keys: their entries, and their memoised slots (see {@link DenseIndex}). */
interface Chunk {
  entries: Array<CacheEntry | undefined>;
  /** Per key, at (key mod 4096) × stride: [state, readAt, eventTimeMs, g slots]; created on first use. */
  hot: Float64Array | undefined;
  /**
   * Views of `hot`'s memory: a record's slot j is the 8 bytes of `hot[o + 3 + j]`, its index in `hotIndices` at
   * 2 (o + 3 + j) and its (float32) value in `hotValues` at 2 (o + 3 + j) + 1: half the bytes of two doubles, so
   * that a record spans fewer cache lines.
   */
  hotIndices: Int32Array | undefined;
  hotValues: Float32Array | undefined;
}

/** `state` bits of a hot record. */
const HOT_VALID = 1;
const HOT_USED = 2;
/** The record also holds the engine's terms of its slots (see {@link CachePartition.rememberTerms}). */
const HOT_TERMS = 4;

/** What {@link CachePartition.writeSlots} did. */
export const NOT_WRITTEN = 0;
/** Slots written, and their engine terms (or no terms asked for). */
export const WRITTEN_WITH_TERMS = 1;
/** Slots written, terms unknown (NaN written): the engine's terms may be remembered after the run. */
export const WRITTEN_WITHOUT_TERMS = 2;

/**
 * Entries of non-negative integer keys (ad and advertiser ids usually are) in arrays of 4,096 consecutive keys:
 * two array reads instead of a hash lookup, and compact arrays that stay in the CPU cache across requests where a
 * large hash table does not. Arrays are created on first use, at most enough for twice `maxEntries` keys (sparse
 * ids would otherwise cost memory for nothing): the keys of a range without an array stay in the map only. A range
 * has an array from its first entry on or never (until `clear`), so an array is authoritative for its range.
 *
 * Next to the entries, a range keeps for each key a "hot record": the entry's read time, its row's event time,
 * its memoised input slots and the engine's terms of those slots, side by side in one typed array. The records belong
 * to one field group, that is one loaded model (and so one engine): another model's group drops them all. A request that needs nothing else from an entity (see
 * {@link CachePartition.writeSlots}) reads one record, where going through the entry touches the entry, its boxed
 * numbers and its slots array: several cache misses instead of one, per candidate and view.
 */
class DenseIndex {
  readonly #chunks = new Array<Chunk | undefined>(DENSE_KEYS / CHUNK_SIZE).fill(undefined);
  readonly #maxChunks: number;
  #count = 0;
  /** The field group whose slots the hot records hold (one at a time: models reading the view differently swap). */
  group: object | undefined;
  /** Doubles per hot record: 3 + the group's width g (+ g/2 for g float32 terms, rounded up, when `terms`). */
  stride = 0;
  /** Whether the records have room for engine terms. */
  terms = false;

  constructor(maxEntries: number) {
    this.#maxChunks = Math.ceil((2 * maxEntries) / CHUNK_SIZE);
  }

  /** The range holding `key`, if there is one. */
  chunk(key: number): Chunk | undefined {
    return this.#chunks[key >>> CHUNK_BITS];
  }

  /** Indexes a new entry (when its range has or may get an array). */
  add(key: number, e: CacheEntry): void {
    let chunk = this.#chunks[key >>> CHUNK_BITS];
    if (chunk === undefined) {
      if (this.#count >= this.#maxChunks) return;
      this.#count++;
      this.#chunks[key >>> CHUNK_BITS] = chunk = {
        entries: new Array<CacheEntry | undefined>(CHUNK_SIZE).fill(undefined),
        hot: undefined,
        hotIndices: undefined,
        hotValues: undefined,
      };
    }
    chunk.entries[key & (CHUNK_SIZE - 1)] = e;
  }

  delete(key: number): void {
    const chunk = this.#chunks[key >>> CHUNK_BITS];
    if (chunk === undefined) return;
    chunk.entries[key & (CHUNK_SIZE - 1)] = undefined;
    if (chunk.hot) chunk.hot[(key & (CHUNK_SIZE - 1)) * this.stride] = 0;
  }

  /**
   * The hot record of `key` (its offset in `chunk.hot`), created for `group` (and with room for `width` terms if
   * `terms`: the same for every call of one group) if needed; -1 without a range.
   */
  record(key: number, group: object, width: number, terms: boolean): number {
    const chunk = this.#chunks[key >>> CHUNK_BITS];
    if (chunk === undefined) return -1;
    if (this.group !== group) {
      // Another field group: the records of the previous one are dropped.
      for (const c of this.#chunks) if (c) c.hot = c.hotIndices = c.hotValues = undefined;
      this.group = group;
      this.stride = 3 + width + (terms ? (width + 1) >> 1 : 0);
      this.terms = terms;
    }
    if (chunk.hot === undefined) {
      chunk.hot = new Float64Array(CHUNK_SIZE * this.stride);
      chunk.hotIndices = new Int32Array(chunk.hot.buffer);
      chunk.hotValues = new Float32Array(chunk.hot.buffer);
    }
    return (key & (CHUNK_SIZE - 1)) * this.stride;
  }

  clear(): void {
    this.#chunks.fill(undefined);
    this.#count = 0;
  }
}

/** The cache of one view (one project, view name and schema hash). */
export class CachePartition {
  readonly #entries = new Map<KeyPart, CacheEntry>();
  readonly #dense: DenseIndex;
  readonly #owner: EntityCache;
  readonly #maxStalenessMs: number;

  constructor(owner: EntityCache) {
    this.#owner = owner;
    this.#dense = new DenseIndex(owner.maxEntries);
    this.#maxStalenessMs = owner.maxStalenessMs;
  }

  /** The entry for `key` if it was read no more than the staleness bound before `now`; undefined on a miss. */
  lookup(key: KeyPart, now: number): CacheEntry | undefined {
    const chunk = isDense(key) ? this.#dense.chunk(key) : undefined;
    const e = chunk !== undefined ? chunk.entries[(key as number) & (CHUNK_SIZE - 1)] : this.#entries.get(key);
    if (e === undefined || now - e.readAt > this.#maxStalenessMs) {
      this.#owner.misses++;
      return undefined;
    }
    e.used = true;
    this.#owner.hits++;
    return e;
  }

  /**
   * For a hit whose memoised input slots (for `group`) are all a request needs: writes them at `base + at[j]` into
   * `indices` and `values` and says so. With `terms`: a record that has the engine's terms of its slots writes only
   * those (the engine reads nothing else there: 2 writes of 3 fewer per slot, -4 us of 100 candidates' collection
   * in an A/B); one without writes NaN there besides its slots. That is: an entry read within the staleness bound, holding a row that is fresh at `ts` (the view's TTL) and
   * resolved without defaults, with slots memoised for `group`. Otherwise returns {@link NOT_WRITTEN} and counts
   * nothing: the caller asks {@link lookup}.
   */
  writeSlots(key: KeyPart, now: number, ts: number, ttlSeconds: number, group: object, at: Int32Array, indices: Int32Array, values: Float32Array, base: number, terms: Float32Array | undefined): number {
    if (!isDense(key) || this.#dense.group !== group) return NOT_WRITTEN;
    const chunk = this.#dense.chunk(key);
    const hot = chunk?.hot;
    if (hot === undefined) return NOT_WRITTEN;
    const o = (key & (CHUNK_SIZE - 1)) * this.#dense.stride;
    const state = hot[o];
    if (!(state & HOT_VALID) || now - hot[o + 1] > this.#maxStalenessMs || !isFresh(hot[o + 2], ts, ttlSeconds)) return NOT_WRITTEN;
    hot[o] = state | HOT_USED;
    this.#owner.hits++;
    const hotIndices = chunk!.hotIndices!;
    const hotValues = chunk!.hotValues!;
    if (terms !== undefined && state & HOT_TERMS) {
      for (let j = 0, s = 2 * (o + 3 + at.length); j < at.length; j++, s++) terms[base + at[j]] = hotValues[s];
      return WRITTEN_WITH_TERMS;
    }
    for (let j = 0, s = 2 * (o + 3); j < at.length; j++, s += 2) {
      indices[base + at[j]] = hotIndices[s];
      values[base + at[j]] = hotValues[s + 1];
    }
    if (terms === undefined) return WRITTEN_WITH_TERMS;
    for (let j = 0; j < at.length; j++) terms[base + at[j]] = NaN;
    return WRITTEN_WITHOUT_TERMS;
  }

  /**
   * Remembers the engine's terms of `key`'s slots, from a run over a row where {@link writeSlots} wrote them without
   * terms (row `base` of `indices`, `values` and `terms`, slots at `base + at[j]`). Only into a record that still
   * holds exactly those slots for `group` (another request may have replaced the row meanwhile), and only when the
   * engine wrote every term (one that ignores terms leaves NaN).
   */
  rememberTerms(key: number, group: object, at: Int32Array, indices: Int32Array, values: Float32Array, terms: Float32Array, base: number): void {
    const g = at.length;
    for (let j = 0; j < g; j++) if (Number.isNaN(terms[base + at[j]])) return;
    if (!isDense(key) || this.#dense.group !== group || !this.#dense.terms) return;
    const chunk = this.#dense.chunk(key);
    const hot = chunk?.hot;
    if (hot === undefined) return;
    const o = (key & (CHUNK_SIZE - 1)) * this.#dense.stride;
    if (!(hot[o] & HOT_VALID) || hot[o] & HOT_TERMS) return;
    const hotIndices = chunk!.hotIndices!;
    const hotValues = chunk!.hotValues!;
    for (let j = 0, s = 2 * (o + 3); j < g; j++, s += 2) {
      if (hotIndices[s] !== indices[base + at[j]] || hotValues[s + 1] !== values[base + at[j]]) return;
    }
    for (let j = 0, s = 2 * (o + 3 + g); j < g; j++, s++) hotValues[s] = terms[base + at[j]];
    hot[o] |= HOT_TERMS;
  }

  /**
   * Reads the first and the last double of `key`'s hot record, if it has one, and returns their sum (0 otherwise):
   * for a first pass over a request's keys that only loads their records (both cache lines of one that straddles
   * two), see {@link collectEntities}.
   */
  peek(key: KeyPart): number {
    if (!isDense(key)) return 0;
    const hot = this.#dense.chunk(key)?.hot;
    if (hot === undefined) return 0;
    const o = (key & (CHUNK_SIZE - 1)) * this.#dense.stride;
    return hot[o] + hot[o + this.#dense.stride - 1];
  }

  /**
   * Memoises an entry's input slots for `group` (slots[from …], g indices then g values), computed from its row
   * resolved without defaults: on the entry, and in its hot record for {@link writeSlots}.
   */
  memoise(key: KeyPart, e: CacheEntry, group: object, slots: Float64Array, from: number, g: number, terms = false): void {
    e.slots = slots.slice(from, from + 2 * g);
    e.slotsFor = group;
    if (!isDense(key) || !e.row) return;
    const o = this.#dense.record(key, group, g, terms);
    const chunk = o < 0 ? undefined : this.#dense.chunk(key)!;
    if (!chunk) return;
    const hot = chunk.hot!;
    hot[o] = HOT_VALID;
    hot[o + 1] = e.readAt;
    hot[o + 2] = e.eventTimeMs;
    // Exact: indices are int32, values float32 (what the vectors hold).
    for (let j = 0, s = 2 * (o + 3); j < g; j++, s += 2) {
      chunk.hotIndices![s] = e.slots[j];
      chunk.hotValues![s + 1] = e.slots[g + j];
    }
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
      const hot = isDense(key) ? this.#dense.chunk(key)?.hot : undefined;
      const o = hot ? ((key as number) & (CHUNK_SIZE - 1)) * this.#dense.stride : 0;
      if (e.row !== row) {
        e.row = row;
        e.eventTimeMs = row ? row.eventTimeMs : NaN;
        e.resolved = undefined;
        e.slots = undefined;
        e.slotsFor = undefined;
        if (hot) hot[o] = 0;
      }
      e.readAt = now;
      if (hot) hot[o + 1] = now;
      return;
    }
    const entry: CacheEntry = {
      row,
      eventTimeMs: row ? row.eventTimeMs : NaN,
      readAt: now,
      used: false,
      resolved: undefined,
      slots: undefined,
      slotsFor: undefined,
      mark: 0,
      slot: 0,
    };
    this.#entries.set(key, entry);
    if (isDense(key)) this.#dense.add(key, entry);
    if (this.#entries.size > this.#owner.maxEntries) this.#evict();
  }

  /**
   * CLOCK: walk from the oldest insertion; a used entry (through {@link lookup} or its hot record) gets a second
   * chance (moved to the end, flags cleared).
   */
  #evict(): void {
    for (const [key, e] of this.#entries) {
      this.#entries.delete(key);
      const hot = isDense(key) ? this.#dense.chunk(key)?.hot : undefined;
      const o = hot ? ((key as number) & (CHUNK_SIZE - 1)) * this.#dense.stride : 0;
      if (!e.used && !(hot && hot[o] & HOT_USED)) {
        if (isDense(key)) this.#dense.delete(key);
        return;
      }
      e.used = false;
      if (hot) hot[o] &= ~HOT_USED;
      this.#entries.set(key, e);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
    this.#dense.clear();
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
