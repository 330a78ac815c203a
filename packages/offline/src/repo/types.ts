/**
 * The feature repo: a declarative, serialisable description of entities, data sources, labels, feature views and
 * models. A repo is plain data (JSON-compatible), written in a `lockstep.config.ts` with {@link defineRepo} and
 * checked by {@link validateRepo}; the engine turns it into SQL and the bundle builder into serving specs.
 */
import type { ModelInputSpec } from '@lockstep/sdk';
import type { Duration, Window } from './duration.ts';

/** Column types a source can declare (checked against the file when a store opens). */
export type ColumnType = 'integer' | 'bigint' | 'double' | 'string' | 'timestamp' | 'boolean';

export interface EntityDefinition {
  /**
   * The entity's join keys, in order: the key columns of its views' tables and the parts of its online keys,
   * e.g. `['user_id']` or `['user_id', 'category']`.
   */
  joinKeys: string[];
  /** What the entity is, for humans. */
  description?: string;
}

export interface SourceDefinition {
  /**
   * The file, relative to the data directory (an absolute path is used as it is). A glob such as
   * `impressions/*.parquet` reads every matching file as one table.
   */
  path: string;
  /** File format. @default inferred from the extension: `.csv` → 'csv', anything else → 'parquet' */
  format?: 'parquet' | 'csv';
  /** The column holding each row's event time. Omit it for dimension tables, which have none. */
  timestampField?: string;
  /**
   * The columns the repo relies on, with their types. Optional, but when given the definitions are checked against
   * it when loaded, and the file against it when a store opens.
   */
  columns?: Record<string, ColumnType>;
  /** What the source holds, for humans. */
  description?: string;
}

/**
 * How training labels are made: a row of `source` (an impression) is positive when an event of `events` (a click)
 * with the same `key` follows it within `window`: 0 ≤ event time − row time ≤ window.
 *
 * Each positive row also yields one *label event* at the time of its first attributed click. Aggregations with
 * `events: 'label'` (and `ctr`) count those, at click time: the only clicks that ever become labels.
 */
export interface LabelDefinition {
  /** The labelled source (one row per impression); also the spine of training sets. Needs a timestampField. */
  source: string;
  /** The column that identifies a row in both `source` and `events`, e.g. `impression_id`. */
  key: string;
  /** The source of positive events (the click log). Needs a timestampField. */
  events: string;
  /** The attribution window, e.g. `'1h'`. */
  window: Duration;
  /** Name of the label column in training sets. @default 'label' */
  name?: string;
}

interface AggregationBase {
  /** Feature name prefix: the view gets one feature per window, named `<name>_<window>` (e.g. `ctr_7d`). */
  name: string;
  /** Windows, each a multiple of the view's interval, or `'all'` for all history. */
  windows: Window[];
  /**
   * The value used when the entity has no fresh row or the value is null. `null` leaves the value missing (the
   * model input spec decides how to encode it).
   * @default 0 for count and sum, the prior for ctr, null for mean and last_seen
   */
  default?: number | null;
  /** What the feature means, for humans. */
  description?: string;
}

/** Which events an aggregation reads: rows of the view's source, or label events (attributed clicks, at click time). */
export type AggregationEvents = 'source' | 'label';

export interface CountAggregation extends AggregationBase {
  fn: 'count';
  /** @default 'source' */
  events?: AggregationEvents;
}

export interface SumAggregation extends AggregationBase {
  fn: 'sum' | 'mean';
  /** The numeric column to sum or average (a column of the view's source; label events carry the same columns). */
  column: string;
  /** @default 'source' */
  events?: AggregationEvents;
}

/**
 * Smoothed click-through rate: (label events + prior × strength) / (source events + strength) over the window,
 * i.e. a Beta(prior × strength, (1 − prior) × strength) prior. With no events at all it equals `prior`.
 */
export interface CtrAggregation extends AggregationBase {
  fn: 'ctr';
  /** The prior CTR, in [0, 1]. */
  prior: number;
  /** The prior's weight in pseudo-impressions (≥ 0). */
  strength: number;
}

/** The latest event time in the window, in epoch milliseconds. */
export interface LastSeenAggregation extends AggregationBase {
  fn: 'last_seen';
  /** @default 'source' */
  events?: AggregationEvents;
}

export type AggregationDefinition = CountAggregation | SumAggregation | CtrAggregation | LastSeenAggregation;

/**
 * A feature view: windowed aggregations of one source per entity, computed by a batch job every `interval`.
 * See docs/feature-store.md for the exact semantics.
 */
export interface FeatureViewDefinition {
  /** Unique view name, e.g. `user_stats`. */
  name: string;
  /** The entity the view is keyed by. */
  entity: string;
  /** The source whose events are aggregated; it needs a timestampField. */
  source: string;
  /**
   * The source columns holding the entity's join keys, in the entity's joinKeys order (e.g. `['user_id',
   * 'ad_category']` for a user × category entity keyed `['user_id', 'category']`).
   * @default the entity's joinKeys
   */
  keys?: string[];
  /** The batch job's cadence; rows are computed at epoch-aligned multiples of it. */
  interval: Duration;
  /** A row older than this at request time is not used (the feature's default is). */
  ttl: Duration;
  /** Materialization lag: a row computed at T is usable from T + lag on. */
  lag: Duration;
  /** The aggregations; each yields one feature per window. */
  aggregations: AggregationDefinition[];
  /** What the view holds, for humans. */
  description?: string;
}

/** A request-time field a model reads (mirrors the bundle manifest's `requestFields`). */
export interface RequestFieldDefinition {
  /** A column of the labelled source (training) and a field of score requests (serving). */
  name: string;
  type: 'string' | 'number' | 'timestamp';
  /** Who provides it at serving time: the user, the request context or each candidate. */
  scope: 'user' | 'context' | 'candidate';
}

export interface ModelDefinition {
  /** How row values become the model's input vector (SDK spec). Features are read as `<view>__<feature>`. */
  input: ModelInputSpec;
  /**
   * For each view the input reads, the row fields holding its join keys in the view's joinKeys order, e.g.
   * `{ user_category_stats: ['user_id', 'ad_category'] }`.
   * @default for each view, its join keys' own names
   */
  entityKeys?: Record<string, string[]>;
  /** The request-time fields the input reads, plus any the serving side must send for entity keys. */
  requestFields: RequestFieldDefinition[];
  /** What the model predicts, for humans. */
  description?: string;
}

export interface RepoDefinition {
  /** Project name: the first part of every online key. Letters, digits, `_` and `-`. */
  project: string;
  entities: Record<string, EntityDefinition>;
  sources: Record<string, SourceDefinition>;
  labels: LabelDefinition;
  views: FeatureViewDefinition[];
  models?: Record<string, ModelDefinition>;
}
