/**
 * Derivation of the SDK's serving-side FeatureViewSpec from a view definition: what bundles carry and what the
 * online store's readers need (join keys, features with types and defaults, TTL, lag, cadence, schema hash).
 */
import { featureViewSchemaHash, type FeatureViewSpec } from '@lockstep/sdk';
import type { ResolvedView } from './resolved.ts';

/** The serving spec of one resolved view. */
export function servingSpec(view: ResolvedView): FeatureViewSpec {
  const spec: Omit<FeatureViewSpec, 'schemaHash'> = {
    name: view.name,
    entity: view.entity,
    joinKeys: [...view.joinKeys],
    features: view.features.map((f) => ({ name: f.name, dtype: f.dtype, default: f.default })),
    ttlSeconds: view.ttlMs / 1000,
    lagSeconds: view.lagMs / 1000,
    intervalSeconds: view.intervalMs / 1000,
  };
  return { ...spec, schemaHash: featureViewSchemaHash(spec) };
}
