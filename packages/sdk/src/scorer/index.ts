/**
 * @module
 * The scorer: `createScorer`, `score`, `rank`, hot swap, bundle loading and the entity cache.
 */
export type * from './types.ts';
export { createScorer, type BundleWatch, type CreateScorerOptions, type EntityCacheConfig, type Scorer, type WatchOptions } from './scorer.ts';
export { loadBundle, scoringFiles, type BundleCache, type LoadBundleOptions, type LoadedBundle, type ScorerBundle } from './bundle-loader.ts';
export { EntityCache, type EntityCacheOptions } from './entity-cache.ts';
export { rankCandidates, type RankInput } from './rank.ts';
export { requestTypesSource, type FieldValue, type RequestOf } from './request-types.ts';
