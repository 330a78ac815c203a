/**
 * @module
 * `@lockstep/sdk/browser`: the core, with fetched bundles cached in IndexedDB (idb-keyval) by manifest checksum:
 * a page that loads the same bundle again reads it from disk, verified as always, instead of the network.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { BundleCache } from './scorer/bundle-loader.ts';
import { createScorer as createCoreScorer, type CreateScorerOptions, type Scorer } from './scorer/scorer.ts';

export * from './index.ts';

export interface IdbBundleCacheOptions {
  /** IndexedDB database name. @default 'lockstep' */
  dbName?: string;
  /** Object store name. @default 'bundles' */
  storeName?: string;
}

/** A bundle cache in IndexedDB, keyed by the sha256 of the bundle's manifest.json. */
export function idbBundleCache(options: IdbBundleCacheOptions = {}): BundleCache {
  let store: UseStore | undefined;
  // Opened lazily: creating the scorer must not fail where IndexedDB is unavailable (private modes, workers).
  const db = () => (store ??= createStore(options.dbName ?? 'lockstep', options.storeName ?? 'bundles'));
  return {
    get: (id) => get<Map<string, Uint8Array>>(id, db()),
    set: (id, files) => set(id, files, db()),
    delete: (id) => del(id, db()),
  };
}

/** {@link createCoreScorer} with URL bundles cached in IndexedDB (pass `bundleCache` to override). */
export function createScorer(options: CreateScorerOptions): Promise<Scorer> {
  const hasIdb = typeof indexedDB !== 'undefined';
  return createCoreScorer({ ...options, bundleCache: options.bundleCache ?? (hasIdb ? idbBundleCache() : undefined) });
}
