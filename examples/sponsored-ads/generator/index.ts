/**
 * @module
 * The sponsored-ads example's data generator. The implementation lives in @lockstep/offline
 * (packages/offline/src/generator/) so that the published `lockstep generate` command can run it;
 * this module re-exports it for the example's scripts and tests.
 *
 *     import { generate } from './generator/index.ts';
 *     const { manifest } = await generate({ out: '.lockstep/data', impressions: 1_000_000 });
 *
 * Options and their defaults (see GenerateOptions): impressions 10_000_000, users 200_000, ads 5_000,
 * advertisers 500, days 30, start '2026-01-01', seed 42. docs/data.md describes the files and the
 * probability model.
 */
export * from '../../../packages/offline/src/generator/index.ts';
