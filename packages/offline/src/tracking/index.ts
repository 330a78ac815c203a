/**
 * @module
 * Experiment tracking and a model registry, MLflow-compatible: `openTracker()` gives a {@link Tracker} on the local
 * folder store (default) or an MLflow server (`LOCKSTEP_TRACKING_URI=http://host:5000`).
 *
 * ```ts
 * const tracker = await openTracker();
 * await tracker.withRun({ experiment: 'ads-ctr', name: 'lr-0.05' }, async (run) => {
 *   await run.logParams({ lr: 0.05, epochs: 3 });
 *   for (let epoch = 0; epoch < 3; epoch++) await run.logMetrics({ loss: 0.5 / (epoch + 1) }, { step: epoch });
 *   await run.logInput({ name: 'train', digest: trainingSetSha256, source: 'data/train.parquet' });
 *   await run.logArtifact('out/bundle', 'model');
 *   await tracker.registerModel('ads-ctr', { runId: run.id, aliases: ['champion'] });
 * });
 * const { path, version } = await tracker.resolveModel('ads-ctr@champion');
 * ```
 */
export * from './types.ts';
export { openTracker, parseTrackingUri, sourceTags, Tracker, DEFAULT_TRACKING_DIR } from './tracker.ts';
export type { OpenTrackerOptions, StartRunOptions, RegisterModelOptions, ResolvedModel, ModelWithVersions } from './tracker.ts';
export { Run } from './run.ts';
export type { RunInput } from './run.ts';
export { LocalStore, LOCAL_STORE_FORMAT_VERSION } from './local-store.ts';
export { MlflowClient } from './mlflow-client.ts';
export type { MlflowClientOptions } from './mlflow-client.ts';
export { splitLogBatch, MLFLOW_BATCH_LIMITS } from './mlflow-batch.ts';
export type { BatchLimits, WireLogBatch } from './mlflow-batch.ts';
export { parseModelRef, parseRunsUri } from './model-uri.ts';
export type { ModelRef } from './model-uri.ts';
export { syncToMlflow } from './sync.ts';
export type { SyncOptions, SyncReport } from './sync.ts';
