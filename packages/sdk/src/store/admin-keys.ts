/**
 * The project's bookkeeping keys beside the feature keys of `online-format.ts` (spec: docs/online-format.md).
 * Their names start with `_` after the project; they never collide with a feature key, which always ends in
 * `:<8 hex>:v<n>:<entity>`.
 *
 * @module
 */
import type { FeatureViewSpec } from '../spec/feature-view.ts';

/** The watermark of one view schema: JSON {@link Watermark}. */
export function watermarkKey(project: string, view: Pick<FeatureViewSpec, 'name' | 'schemaHash'>): string {
  return `ls:${project}:_watermark:${view.name}:${view.schemaHash}`;
}

/** The project's materialization lock: holds the owner id, expires unless extended. */
export function lockKey(project: string): string {
  return `ls:${project}:_lock`;
}

/** The project's version counter (INCR): every full materialization writes under a fresh number. */
export function versionCounterKey(project: string): string {
  return `ls:${project}:_version`;
}

/** Escape Redis glob metacharacters so a literal prefix can be used in `SCAN MATCH`. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
