/**
 * The entities of one request: per feature view, the distinct entities the user, the context and the candidates
 * name (the user, each ad, its advertiser, user × category, …), with cache hits resolved on the way. What is not
 * in the entity cache is what the request asks the store for, in one round trip.
 */
import type { FeatureRow, KeyPart } from '../online-format.ts';
import { encodeEntityKey } from '../online-format.ts';
import type { CacheEntry } from './entity-cache.ts';
import type { LoadedModel, Scope, ViewPlan } from './loaded-model.ts';
import type { DefaultedReason, Fields } from './types.ts';
import { invalidKey, isKeyPart } from './validate-request.ts';

/** One view's entities in one request. */
export interface ViewEntities {
  /** True when one entity serves every candidate (keys from user/context only). */
  shared: boolean;
  /** Number of distinct entities. */
  count: number;
  /**
   * Per entity: its key in the view's entity-cache partition (the join-key value itself for one-key views; for
   * uncached views of several keys, unset).
   */
  cacheKeys: KeyPart[];
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
}

/**
 * The entities of one view in a request: one shared entity, or one per distinct candidate key. Cache hits are
 * deduplicated through their entry (marked with the request), misses through a map; only misses go to the store.
 */
export function collectEntities(m: LoadedModel, view: ViewPlan, mark: number, now: number, user: Fields, ctx: Fields, cands: readonly Fields[]): ViewEntities {
  const n = cands.length;
  const keyNames = view.keyNames;
  const cache = view.cache;
  // Declared request fields are read from their scope; undeclared ones with the row's precedence (candidate first).
  const declared = keyNames.map((k) => m.scopeOf.get(k));
  const scopeOf = (i: number, cand: Fields | undefined): Scope => {
    const k = keyNames[i];
    return declared[i] ?? (cand ? (k in cand ? 'candidate' : k in ctx ? 'context' : k in user ? 'user' : 'candidate') : k in ctx ? 'context' : 'user');
  };
  const keyValue = (i: number, cand: Fields | undefined, r: number): KeyPart => {
    const s = scopeOf(i, cand);
    const k = keyNames[i];
    const v = s === 'candidate' ? cand?.[k] : (s === 'user' ? user : ctx)[k];
    return isKeyPart(v) ? v : invalidKey(v, s === 'candidate' ? `candidates[${r}].${k}` : `${s}.${k}`);
  };

  const single = keyNames.length === 1;
  const shared = keyNames.every((_, i) => scopeOf(i, n > 0 ? cands[0] : undefined) !== 'candidate');
  // Sized for the worst case (every candidate a distinct entity) and trimmed at the end: no growth on the way.
  const cap = shared ? 1 : n;
  const e: ViewEntities = {
    shared,
    count: 0,
    cacheKeys: new Array(cap),
    parts: single ? undefined : new Array(cap),
    slotOf: EMPTY_SLOTS,
    rows: new Array(cap),
    entries: cache ? new Array(cap) : [],
    misses: [],
    failed: undefined,
  };
  const add = (key: KeyPart | undefined, parts: KeyPart[] | undefined, entry: CacheEntry | undefined): number => {
    const k = e.count++;
    if (key !== undefined) e.cacheKeys[k] = key;
    if (parts) e.parts![k] = parts.slice();
    e.rows[k] = entry?.row;
    if (cache) e.entries[k] = entry;
    return k;
  };
  let seen: Map<KeyPart, number> | undefined;
  /** The slot of a keyed entity: through its cache entry (marked with this request) on a hit, a map otherwise. */
  const slotFor = (key: KeyPart, parts: KeyPart[] | undefined): number => {
    const entry = cache?.lookup(key, now);
    if (entry) {
      if (entry.mark !== mark) {
        entry.mark = mark;
        entry.slot = add(key, parts, entry);
      }
      return entry.slot;
    }
    let slot = (seen ??= new Map()).get(key);
    if (slot === undefined) {
      seen.set(key, (slot = add(key, parts, undefined)));
      e.misses.push(slot);
    }
    return slot;
  };

  if (shared) {
    const parts = keyNames.map((_, i) => keyValue(i, undefined, 0));
    slotFor(single ? parts[0] : encodeEntityKey(parts), single ? undefined : parts);
  } else if (single) {
    // One join key (ads, advertisers): keyed by the value itself, no key string or array to build.
    e.slotOf = new Int32Array(n);
    for (let r = 0; r < n; r++) e.slotOf[r] = slotFor(keyValue(0, cands[r], r), undefined);
  } else {
    e.slotOf = new Int32Array(n);
    const scratch = new Array<KeyPart>(keyNames.length);
    const last = keyNames.length - 1;
    // Uncached views of several keys (user × category) deduplicate through nested maps: no key strings at all.
    const root = new Map<KeyPart, unknown>();
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < keyNames.length; i++) scratch[i] = keyValue(i, cands[r], r);
      if (cache) {
        e.slotOf[r] = slotFor(encodeEntityKey(scratch), scratch);
        continue;
      }
      let node = root;
      for (let i = 0; i < last; i++) {
        let next = node.get(scratch[i]) as Map<KeyPart, unknown> | undefined;
        if (!next) node.set(scratch[i], (next = new Map()));
        node = next;
      }
      let slot = node.get(scratch[last]) as number | undefined;
      if (slot === undefined) {
        node.set(scratch[last], (slot = add(undefined, scratch, undefined)));
        e.misses.push(slot);
      }
      e.slotOf[r] = slot;
    }
  }
  e.cacheKeys.length = e.parts ? (e.parts.length = e.count) : e.count;
  e.rows.length = e.count;
  if (cache) e.entries.length = e.count;
  return e;
}

/** An entity's join-key values. */
export function entityOf(e: ViewEntities, k: number): KeyPart[] {
  return e.parts ? e.parts[k] : [e.cacheKeys[k]];
}

const EMPTY_SLOTS = new Int32Array(0);
