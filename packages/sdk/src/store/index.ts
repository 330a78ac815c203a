/**
 * @module
 * The online stores (spec: docs/online-format.md): one core over a one-method transport, three transports.
 * `ValkeyStore` (RESP, Node only) is exported from `@lockstep/sdk/node`.
 */
export type * from './types.ts';
export { type StoreTransport, type MgetRowsReply, type RedisCommand, type RedisReply, type RedisArg, withAbort } from './transport.ts';
export { OnlineStoreCore, DEFAULT_EXPIRY_SLACK_MS, type VersionCounts } from './store-core.ts';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.ts';
export { UpstashStore, type UpstashStoreOptions } from './upstash-store.ts';
export { resolveFeatures, type ResolvedFeatures, type DefaultReason } from './resolve-features.ts';
export { watermarkKey, lockKey, versionCounterKey } from './admin-keys.ts';
