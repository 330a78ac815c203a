/**
 * @module
 * `@lockstep/sdk/node`: Node-only additions (RESP store via iovalkey, the Upstash REST store over node:http,
 * loading bundles from paths).
 */
export * from './index.ts';
export * from './node/bundle-reader.ts';
export * from './node/valkey-store.ts';
export { NodeHttpRequester, type NodeHttpRequesterOptions } from './node/http-requester.ts';
// Per-platform entries (as @upstash/redis has): these take precedence over the core's exports of the same name.
export { UpstashStore, type UpstashStoreOptions } from './node/upstash-store.ts';
// The Node scorer (folder paths, onnxruntime-web fallback) takes precedence over the core createScorer.
export { createScorer, loadNodeBundle, type NodeScorerBundle } from './node/scorer.ts';
