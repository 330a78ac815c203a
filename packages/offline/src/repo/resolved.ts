/**
 * The validated, normalised form of a repo that the engine and the serving-spec derivation work from: durations in
 * milliseconds, defaults filled in, one entry per feature (aggregation × window).
 */
import type { FeatureDtype } from '@lockstep/sdk';
import type { AggregationEvents, ColumnType, ModelDefinition, RepoDefinition, RequestFieldDefinition } from './types.ts';

export type AggregationFn = 'count' | 'sum' | 'mean' | 'ctr' | 'last_seen';

export interface ResolvedFeature {
  /** Feature name inside its view: `<aggregation name>_<window>`. */
  name: string;
  fn: AggregationFn;
  /** The events read (ctr reads both: `source` for impressions, `label` for clicks). */
  events: AggregationEvents;
  /** sum/mean: the column aggregated. */
  column?: string;
  /** The window text as declared (`'7d'` or `'all'`). */
  window: string;
  /** Window length in ms; null for `'all'`. */
  windowMs: number | null;
  /** ctr only. */
  prior?: number;
  /** ctr only. */
  strength?: number;
  dtype: FeatureDtype;
  default: number | null;
}

export interface ResolvedSource {
  name: string;
  path: string;
  format: 'parquet' | 'csv';
  timestampField?: string;
  columns?: Record<string, ColumnType>;
}

export interface ResolvedView {
  name: string;
  entity: string;
  source: string;
  /** The entity's join keys: the key column names of the view table. */
  joinKeys: string[];
  /** The source columns holding those keys, in the same order. */
  keyColumns: string[];
  intervalMs: number;
  ttlMs: number;
  lagMs: number;
  features: ResolvedFeature[];
  /** Whether any feature reads label events (then label events also create rows). */
  usesLabels: boolean;
}

export interface ResolvedLabels {
  /** The labelled source (the spine of training sets). */
  source: string;
  key: string;
  events: string;
  windowMs: number;
  /** Label column name. */
  name: string;
}

export interface ResolvedRepoModel {
  name: string;
  definition: ModelDefinition;
  /** The views the input reads, in first-use order. */
  views: string[];
  /** Per view read, the row fields holding its join keys. */
  entityKeys: Record<string, string[]>;
  requestFields: RequestFieldDefinition[];
}

export interface ResolvedRepo {
  project: string;
  entities: Record<string, { joinKeys: string[] }>;
  sources: Record<string, ResolvedSource>;
  labels: ResolvedLabels;
  views: ResolvedView[];
  models: Record<string, ResolvedRepoModel>;
  /** The definition it was resolved from. */
  definition: RepoDefinition;
}

/** Looks a view up by name. */
export function findView(repo: ResolvedRepo, name: string): ResolvedView | undefined {
  return repo.views.find((v) => v.name === name);
}
