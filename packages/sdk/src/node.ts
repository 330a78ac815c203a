/**
 * @module
 * `@lockstep/sdk/node`: Node-only additions (RESP store via iovalkey, loading bundles from paths).
 */
export * from './index.ts';
export * from './node/bundle-reader.ts';
export * from './node/valkey-store.ts';
