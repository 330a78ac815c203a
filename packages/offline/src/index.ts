/** @lockstep/offline: Node-only parts of lockstep. */
export * from './gateway/index.ts';
export * from './tracking/index.ts';
export * from './repo/index.ts';
export * from './engine/index.ts';
export * from './generator/index.ts';
export * from './materialize/index.ts';
export * from './train/index.ts';
export * from './consistency/verify-consistency.ts';
