/**
 * @module
 * `@lockstep/sdk`: the runtime-agnostic core (Web-standard APIs only). Node-only pieces live in `@lockstep/sdk/node`.
 */
export * from './errors.ts';
