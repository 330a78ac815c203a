/**
 * The model bundle's manifest (spec: docs/bundle-format.md): everything needed to load the model, verify its
 * files and compute its inputs exactly as training did.
 *
 * A bundle is a folder (or the same files in memory):
 *   manifest.json      this document
 *   model.onnx         the model; inputs `indices` int64[N, F] and `values` float[N, F], output `probability` float[N, 1]
 *   features/<view>.arrow  feature snapshot, one Arrow IPC file per view (see {@link BundleSnapshot}): the latest
 *                      value of every online feature per entity as of the training cut-off
 *   report.html        the training report (optional), and any other files listed in `files`
 */
import type { FeatureViewSpec } from '../spec/feature-view.ts';
import type { ModelInputSpec } from '../spec/model-input.ts';

/** The bundle format this SDK reads and writes. Loading any other version is refused. */
export const BUNDLE_FORMAT_VERSION = 1;

export type ModelFamily = 'lr' | 'fm';

export interface BundleModel {
  /** Model family, for humans and for engines that can skip ONNX for known families. */
  family: ModelFamily;
  /** The ONNX file inside the bundle. @default 'model.onnx' */
  file: string;
  /** Name of the int64 index input. @default 'indices' */
  indicesInput: string;
  /** Name of the float value input. @default 'values' */
  valuesInput: string;
  /** Name of the probability output. @default 'probability' */
  output: string;
  /** Slots per row (the number of fields in the input spec). */
  width: number;
  /** Size of the hashed index space. */
  dimension: number;
  /** FM only: latent factors per index. */
  factors?: number;
  /** Negative down-sampling rate used in training (the correction is already folded into the model). @default 1 */
  negativeSampling?: number;
}

/**
 * The bundle's feature snapshot: per view the latest row of every entity with event time ≤ `asOf`, for bulk
 * loading the online store and for offline scoring. Each view is one Arrow IPC file (the random-access "file"
 * format) with columns: the view's join keys, `event_time` (Timestamp ms, UTC), then its features in spec order
 * under their own names (Float64, null = missing). Schema metadata: `lockstep.view`, `lockstep.schemaHash`,
 * `lockstep.asOf`. TTLs are not applied: a reader applies them at request time.
 */
export interface BundleSnapshot {
  /** ISO-8601: rows are the latest per entity with event time ≤ this. */
  asOf: string;
  /** Per view name: its file (listed in `files`) and row count. */
  views: Record<string, { file: string; rows: number }>;
}

export interface BundleManifest {
  /** Always 'lockstep-bundle'. */
  format: 'lockstep-bundle';
  /** The bundle format version; see {@link BUNDLE_FORMAT_VERSION}. */
  formatVersion: number;
  /** Model name, e.g. 'ads-ctr'. */
  name: string;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** The feature repo project: the first part of every online key. */
  project: string;
  model: BundleModel;
  /** How row values become model inputs. */
  input: ModelInputSpec;
  /**
   * How request values map onto the views' join keys: for each view, the row value names that hold its join keys,
   * in the order of the view's joinKeys (e.g. user_category → ['user_id', 'ad_category']).
   */
  entityKeys: Record<string, string[]>;
  /** The feature views the input reads, with schema hashes and TTLs. */
  featureViews: FeatureViewSpec[];
  /** Request-time fields the input reads that are not features (for request validation and typing). */
  requestFields: Array<{ name: string; type: 'string' | 'number' | 'timestamp'; scope: 'user' | 'context' | 'candidate' }>;
  /** Training data window and the feature snapshot's cut-off (ISO-8601). */
  training: { start: string; end: string; cutoff: string; rows: number };
  /** Evaluation metrics (auc, logloss, ne, calibration, …). */
  metrics: Record<string, number>;
  /** Lineage: what made this bundle. */
  lineage: { trainingSetDigest: string; codeVersion: string; runId?: string; [key: string]: unknown };
  /** The feature snapshot, when the bundle carries one. */
  snapshot?: BundleSnapshot;
  /** Every other file of the bundle with its sha256 (hex) and size. */
  files: Record<string, { sha256: string; bytes: number }>;
}
