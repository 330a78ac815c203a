/**
 * @module
 * `@lockstep/sdk`: the runtime-agnostic core (Web-standard APIs only). Node-only pieces live in `@lockstep/sdk/node`.
 */
export * from './errors.ts';
export * from './hash.ts';
export * from './spec/feature-view.ts';
export * from './spec/model-input.ts';
export * from './vectorizer.ts';
export * from './online-format.ts';
export * from './bundle/manifest.ts';
export * from './bundle/verify.ts';
export * from './store/index.ts';
export * from './engine/index.ts';
export * from './scorer/index.ts';
