/**
 * @module
 * `@lockstep/sdk/node`: Node-only additions (RESP store via iovalkey, loading bundles from paths).
 */
export * from './index.ts';
export * from './node/bundle-reader.ts';
export * from './node/valkey-store.ts';
// The Node scorer (folder paths, onnxruntime-web fallback) takes precedence over the core createScorer.
export { createScorer, loadNodeBundle, type NodeScorerBundle } from './node/scorer.ts';
