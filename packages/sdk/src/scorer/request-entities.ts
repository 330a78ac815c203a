/**
 * The entities of one request: per feature view, the distinct entities the user, the context and the candidates
 * name (the user, each ad, its advertiser, user × category, …), with cache hits resolved on the way. What is not
 * in the entity cache is what the request asks the store for, in one round trip.
 */
import type { FeatureRow, KeyPart } from '../online-format.ts';
import { encodeEntityKey } from '../online-format.ts';
import { type CacheEntry, type CachePartition, NOT_WRITTEN, WRITTEN_WITHOUT_TERMS } from './entity-cache.ts';
import type { Scope, ViewPlan } from './loaded-model.ts';
import type { DefaultedReason, Fields } from './types.ts';
import { isFresh } from '../spec/feature-view.ts';
import { invalidKey, isKeyPart } from './validate-request.ts';

/**
 * One view's entities in one request. The object and its arrays are reused by later requests (they belong to a
 * computation's {@link Buffers}): arrays indexed by entity are meaningful below `count` only.
 */
export interface ViewEntities {
  /** True when one entity serves every candidate (keys from user/context only). */
  shared: boolean;
  /** Number of distinct entities. */
  count: number;
  /**
   * Per entity: its key in the view's entity-cache partition (the join-key value itself for one-key views; for
   * uncached views of several keys, unset).
   */
  cacheKeys: Array<KeyPart | undefined>;
  /** Per entity, its join-key values: only for views of several join keys (one-key views use `cacheKeys`). */
  parts: KeyPart[][] | undefined;
  /** Per candidate, its entity's position (unused when shared). */
  slotOf: Int32Array;
  /** Per entity: the stored row, or undefined; from the cache, then from the store. */
  rows: Array<FeatureRow | undefined>;
  /** Per entity: its entity-cache entry when it was a hit. */
  entries: Array<CacheEntry | undefined>;
  /** The entities the store must be asked for. */
  misses: number[];
  /** Per entity: why the row could not be read (deadline / store error), undefined when it was. */
  failed: Array<DefaultedReason | undefined> | undefined;
  /**
   * Candidates written from hot records without the engine's terms (see {@link ViewPlan.termed}): pairs of the
   * candidate's position and its key, for {@link rememberTerms} after the run.
   */
  due: number[];
  /** Keyed entities that were not cache hits, by key (created on the first). */
  seen: Map<KeyPart, number> | undefined;
  /**
   * For uncached views whose keys but the last are read from the user or the context (user × category): the last
   * key's values met, each with the last request that met it and its position there. Kept across requests (bounded
   * by {@link BY_LAST_KEY_LIMIT}), so that deduplicating a request's entities allocates nothing once warm.
   */
  byLastKey: Map<KeyPart, { mark: number; slot: number }> | undefined;
}

/** Values kept in {@link ViewEntities.byLastKey} before it starts over (between requests). */
const BY_LAST_KEY_LIMIT = 4096;

/** Empty entities for a view, to be filled by {@link collectEntities} request after request. */
export function viewEntities(view: ViewPlan): ViewEntities {
  return {
    shared: false,
    count: 0,
    cacheKeys: [],
    parts: view.keyNames.length === 1 ? undefined : [],
    slotOf: EMPTY_SLOTS,
    rows: [],
    entries: [],
    misses: [],
    due: [],
    failed: undefined,
    seen: undefined,
    byLastKey: undefined,
  };
}

/** Where join key `i` of a view is read from: its declared scope, else the training row's precedence. */
function scopeOf(view: ViewPlan, i: number, user: Fields, ctx: Fields, cand: Fields | undefined): Scope {
  const k = view.keyNames[i];
  const declared = view.keyScopes[i];
  if (declared) return declared;
  if (cand) return k in cand ? 'candidate' : k in ctx ? 'context' : k in user ? 'user' : 'candidate';
  return k in ctx ? 'context' : 'user';
}

/** Join key `i`'s value for candidate `r` (or for the request when `cand` is undefined); throws for a bad key. */
function keyValue(view: ViewPlan, i: number, user: Fields, ctx: Fields, cand: Fields | undefined, r: number): KeyPart {
  const s = scopeOf(view, i, user, ctx, cand);
  const k = view.keyNames[i];
  const v = s === 'candidate' ? cand?.[k] : (s === 'user' ? user : ctx)[k];
  return isKeyPart(v) ? v : invalidKey(v, s === 'candidate' ? `candidates[${r}].${k}` : `${s}.${k}`);
}

/**
 * Where a candidate's row is written, for entities that need nothing more than their memoised input slots: a
 * cache hit on a fresh row without defaults whose slots were computed for the view's field group (and no
 * per-candidate field reads the view's features). Their slots go straight into the candidate's row and they are
 * not listed as entities of the request at all (their slot is -1).
 */
export interface DirectRows {
  indices: Int32Array;
  values: Float32Array;
  width: number;
  /** The request time, for the TTL check. */
  ts: number;
  /** The engine terms of the rows (see {@link ViewPlan.termed}); undefined when the model has none. */
  terms: Float32Array | undefined;
}

/** The position of candidates whose entity's slots were written directly (see {@link DirectRows}). */
export const WRITTEN = -1;

/**
 * The entities of one view in a request, into `e`: one shared entity, or one per distinct candidate key. Cache
 * hits are deduplicated through their entry (marked with the request), misses through a map; only misses go to
 * the store. With `direct`, hits that need no more than their memoised slots are written into the rows at once.
 */
export function collectEntities(
  view: ViewPlan,
  mark: number,
  now: number,
  user: Fields,
  ctx: Fields,
  cands: readonly Fields[],
  e: ViewEntities,
  direct: DirectRows | undefined,
  columns: readonly unknown[][],
): void {
  const n = cands.length;
  const keyNames = view.keyNames;
  const cache = view.cache;
  const single = keyNames.length === 1;
  let shared = true;
  for (let i = 0; i < keyNames.length; i++) if (scopeOf(view, i, user, ctx, n > 0 ? cands[0] : undefined) === 'candidate') shared = false;
  e.shared = shared;
  e.count = 0;
  e.misses.length = 0;
  e.due.length = 0;
  e.failed = undefined;
  e.seen = undefined;

  if (shared) {
    const parts = keyNames.map((_, i) => keyValue(view, i, user, ctx, undefined, 0));
    const key = single ? parts[0] : encodeEntityKey(parts);
    const entry = cache?.lookup(key, now);
    // One entity: nothing to deduplicate.
    const k = add(e, cache, key, single ? undefined : parts, entry);
    if (!entry) e.misses.push(k);
    return;
  }
  if (e.slotOf.length < n) e.slotOf = new Int32Array(Math.max(n, 2 * e.slotOf.length));
  const slotOf = e.slotOf;
  if (single) {
    // One join key (ads, advertisers): keyed by the value itself, no key string or array to build. A key declared
    // on candidates (the usual case) is read directly.
    const name = keyNames[0];
    const declared = view.keyScopes[0] === 'candidate';
    // The key's values as validation read them (a key declared on candidates is a checked field).
    const column = view.keyColumns[0] >= 0 ? columns[view.keyColumns[0]] : undefined;
    const group = direct && cache && view.candidateRead.length === 0 ? view.fields : undefined;
    const ttl = view.spec.ttlSeconds;
    const terms = view.termed ? direct?.terms : undefined;
    if (group && declared) {
      // A first pass that only loads each candidate's hot record: the records of a request's ads are scattered over
      // the cache's arrays and usually not in the CPU cache; loaded by a tight loop of independent reads, their
      // misses overlap, where the pass below would wait for each in turn behind its own work.
      let t = 0;
      for (let r = 0; r < n; r++) {
        const value = column ? column[r] : cands[r][name];
        if (typeof value === 'number') t += cache!.peek(value);
      }
      SINK[0] += t;
    }
    for (let r = 0; r < n; r++) {
      const value = column ? column[r] : declared ? cands[r][name] : undefined;
      const key = isKeyPart(value) ? value : keyValue(view, 0, user, ctx, cands[r], r);
      // Integer keys first through the hot records (one read per entity); then the entry itself.
      const written = group ? cache!.writeSlots(key, now, direct!.ts, ttl, group, group.slots, direct!.indices, direct!.values, r * direct!.width, terms) : NOT_WRITTEN;
      if (written !== NOT_WRITTEN) {
        if (written === WRITTEN_WITHOUT_TERMS) e.due.push(r, key as number);
        slotOf[r] = WRITTEN;
        continue;
      }
      const entry = cache?.lookup(key, now);
      const slots = group && entry?.slotsFor === group ? entry.slots : undefined;
      // Slots are memoised only for rows without defaults (see entityVectors).
      if (slots && entry!.row && isFresh(entry!.eventTimeMs, direct!.ts, ttl)) {
        const at = group!.slots;
        const g = at.length;
        const base = r * direct!.width;
        for (let j = 0; j < g; j++) {
          direct!.indices[base + at[j]] = slots[j];
          direct!.values[base + at[j]] = slots[g + j];
        }
        if (terms) for (let j = 0; j < g; j++) terms[base + at[j]] = NaN;
        slotOf[r] = WRITTEN;
      } else slotOf[r] = positionOf(e, cache, mark, key, undefined, entry);
    }
    return;
  }
  const scratch = new Array<KeyPart>(keyNames.length);
  const last = keyNames.length - 1;
  if (!cache && n > 0 && leadingKeysPerRequest(view)) {
    // The leading keys (the user) are the same for every candidate: read (and checked) once, in key order as below;
    // the entities then differ by their last key alone.
    for (let i = 0; i < last; i++) scratch[i] = keyValue(view, i, user, ctx, cands[0], 0);
    let byLast = e.byLastKey;
    if (byLast === undefined || byLast.size > BY_LAST_KEY_LIMIT) byLast = e.byLastKey = new Map();
    const name = keyNames[last];
    const declared = view.keyScopes[last] === 'candidate';
    const column = view.keyColumns[last] >= 0 ? columns[view.keyColumns[last]] : undefined;
    for (let r = 0; r < n; r++) {
      const value = column ? column[r] : declared ? cands[r][name] : undefined;
      const key = isKeyPart(value) ? value : keyValue(view, last, user, ctx, cands[r], r);
      let met = byLast.get(key);
      if (met === undefined) byLast.set(key, (met = { mark: 0, slot: 0 }));
      if (met.mark !== mark) {
        met.mark = mark;
        scratch[last] = key;
        met.slot = add(e, cache, undefined, scratch, undefined);
        e.misses.push(met.slot);
      }
      slotOf[r] = met.slot;
    }
    return;
  }
  // Uncached views of several keys (user × category) deduplicate through nested maps: no key strings at all.
  const root = new Map<KeyPart, unknown>();
  // The first key's last value and its node: usually the user, the same for every candidate.
  let firstKey: KeyPart | undefined;
  let firstNode: Map<KeyPart, unknown> | undefined;
  for (let r = 0; r < n; r++) {
    // Keys declared on the user or the context are read (and checked) once, for the first candidate.
    for (let i = 0; i < keyNames.length; i++) {
      if (r === 0 || !view.keyScopes[i] || view.keyScopes[i] === 'candidate') scratch[i] = keyValue(view, i, user, ctx, cands[r], r);
    }
    if (cache) {
      slotOf[r] = slotFor(e, cache, mark, now, encodeEntityKey(scratch), scratch);
      continue;
    }
    let node = root;
    for (let i = 0; i < last; i++) {
      if (i === 0 && firstNode && scratch[0] === firstKey) {
        node = firstNode;
        continue;
      }
      let next = node.get(scratch[i]) as Map<KeyPart, unknown> | undefined;
      if (!next) node.set(scratch[i], (next = new Map()));
      node = next;
      if (i === 0) {
        firstKey = scratch[0];
        firstNode = next;
      }
    }
    let slot = node.get(scratch[last]) as number | undefined;
    if (slot === undefined) {
      node.set(scratch[last], (slot = add(e, cache, undefined, scratch, undefined)));
      e.misses.push(slot);
    }
    slotOf[r] = slot;
  }
}

/** Whether every join key of `view` but the last is declared on the user or the context. */
function leadingKeysPerRequest(view: ViewPlan): boolean {
  for (let i = 0; i < view.keyScopes.length - 1; i++) if (view.keyScopes[i] !== 'user' && view.keyScopes[i] !== 'context') return false;
  return true;
}

/** Appends an entity; returns its position. */
function add(e: ViewEntities, cache: CachePartition | undefined, key: KeyPart | undefined, parts: KeyPart[] | undefined, entry: CacheEntry | undefined): number {
  const k = e.count++;
  e.cacheKeys[k] = key;
  // A fresh array: entities escape into store requests and defaulted reports.
  if (parts) e.parts![k] = parts.slice();
  e.rows[k] = entry?.row;
  if (cache) e.entries[k] = entry;
  return k;
}

/** The position of a keyed entity: through its cache entry (marked with this request) on a hit, `e.seen` otherwise. */
function slotFor(e: ViewEntities, cache: CachePartition | undefined, mark: number, now: number, key: KeyPart, parts: KeyPart[] | undefined): number {
  return positionOf(e, cache, mark, key, parts, cache?.lookup(key, now));
}

/** {@link slotFor} once the cache has been asked: `entry` is the hit, or undefined. */
function positionOf(e: ViewEntities, cache: CachePartition | undefined, mark: number, key: KeyPart, parts: KeyPart[] | undefined, entry: CacheEntry | undefined): number {
  if (entry) {
    if (entry.mark !== mark) {
      entry.mark = mark;
      entry.slot = add(e, cache, key, parts, entry);
    }
    return entry.slot;
  }
  const misses = (e.seen ??= new Map<KeyPart, number>());
  let slot = misses.get(key);
  if (slot === undefined) {
    misses.set(key, (slot = add(e, cache, key, parts, undefined)));
    e.misses.push(slot);
  }
  return slot;
}

/**
 * After the engine ran over rows written from hot records without terms (see {@link ViewEntities.due}): the terms the
 * engine wrote into `terms` are remembered in those records, for the next requests to skip the weights.
 */
export function rememberTerms(view: ViewPlan, e: ViewEntities, indices: Int32Array, values: Float32Array, terms: Float32Array, width: number): void {
  const due = e.due;
  if (due.length === 0 || !view.cache || !view.fields) return;
  for (let t = 0; t < due.length; t += 2) view.cache.rememberTerms(due[t + 1], view.fields, view.fields.slots, indices, values, terms, due[t] * width);
}

/** An entity's join-key values. */
export function entityOf(e: ViewEntities, k: number): KeyPart[] {
  return e.parts ? e.parts[k] : [e.cacheKeys[k]!];
}

const EMPTY_SLOTS = new Int32Array(0);
/** Where first passes leave what they read, so that the reads are not optimised away (a typed array: no allocation). */
const SINK = new Float64Array(1);
