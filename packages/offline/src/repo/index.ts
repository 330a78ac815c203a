/**
 * @module
 * The feature repo: definition types, `defineRepo()` helpers, duration parsing, loading, validation and the
 * derivation of serving specs.
 */
export * from './types.ts';
export * from './duration.ts';
export * from './define.ts';
export * from './resolved.ts';
export * from './validate.ts';
export * from './load.ts';
export * from './serving-spec.ts';
