/**
 * @module
 * Materialization: latest feature values from the offline tables or a bundle snapshot into the online store.
 */
export { materialize, type MaterializeOptions, type MaterializeProgress, type MaterializeResult, type MaterializedView } from './materialize.ts';
export { memorySource, type MaterializationSource, type RowRange } from './source.ts';
export { viewTableSource, viewTablePath, type ViewTableSourceOptions } from './view-table-source.ts';
export { openTarget, type OpenTargetOptions } from './target.ts';
export { recordBatchRows, EVENT_TIME_COLUMN } from './arrow-rows.ts';
export { snapshotSource, type SnapshotSource } from './snapshot-source.ts';
export { featureStoreSource } from './feature-store-source.ts';
