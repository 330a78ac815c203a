/**
 * Materialization through the engine's `FeatureStore.latestFeatures` (it builds or refreshes a view's table
 * first when the sources changed), streamed as Arrow record batches.
 *
 * @module
 */
import type { FeatureStore } from '../engine/index.ts';
import { recordBatchRows } from './arrow-rows.ts';
import type { MaterializationSource } from './source.ts';

/** A source over an open FeatureStore (the caller closes it). */
export function featureStoreSource(store: Pick<FeatureStore, 'latestFeatures' | 'workDir'>, options: { batchRows?: number } = {}): MaterializationSource {
  return {
    description: `feature store in ${store.workDir}`,
    async *rows(view, range) {
      for await (const batch of store.latestFeatures(view.name, range.asOfMs).batches(options.batchRows ?? 10_000)) {
        const rows = recordBatchRows(batch, view, range);
        if (rows.length) yield rows;
      }
    },
  };
}
