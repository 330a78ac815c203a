/**
 * @module
 * Model engines: the registry with fallback and the built-in evaluator. The onnxruntime-web backend is a separate
 * entry point (`@lockstep/sdk/onnxruntime-web`) so that it never enters a bundle that does not ask for it.
 */
export type * from './types.ts';
export { registerBackend, listBackends, createEngine, type CreateEngineOptions, type BackendFailure } from './registry.ts';
export { builtinBackend, loadBuiltin, type BuiltinOptions } from './builtin/builtin-backend.ts';
