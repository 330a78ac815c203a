/** @lockstep/offline: Node-only parts of lockstep. */
export * from './gateway/index.ts';
export * from './tracking/index.ts';
