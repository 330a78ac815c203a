/**
 * The serving-side description of a feature view: what the online store holds for it and how a reader must
 * interpret it. The offline package derives this from the feature repo's full definition (sources and
 * aggregations) and writes it into every model bundle; the SDK only ever needs this part.
 */
import { murmur3 } from '../hash.ts';

/** Value types a feature can have. `timestamp` values are epoch milliseconds. */
export type FeatureDtype = 'float64' | 'int64' | 'timestamp';

export interface FeatureSpec {
  /** Column name of the feature inside its view, e.g. `ctr_7d`. */
  name: string;
  /** Value type. */
  dtype: FeatureDtype;
  /**
   * The value used when the entity has no row, the row is older than the view's TTL, or the value is null.
   * `null` means "missing": the model input spec decides how a missing value is encoded.
   */
  default: number | null;
}

export interface FeatureViewSpec {
  /** Unique view name, e.g. `user_stats`. Also part of every online key. */
  name: string;
  /** The entity this view is keyed by, e.g. `user` or `user_category`. */
  entity: string;
  /** The entity's join-key columns in the view, in order, e.g. `['user_id']` or `['user_id', 'category']`. */
  joinKeys: string[];
  /** The features, in the order they are stored online. */
  features: FeatureSpec[];
  /** A row older than this (request time minus the row's event time) is treated as missing. */
  ttlSeconds: number;
  /**
   * Materialization lag: a row computed at time T becomes usable at T + lag. Point-in-time joins only use rows with
   * event time ≤ spine time − lag.
   */
  lagSeconds: number;
  /**
   * How often the view's batch job computes rows (its cadence). Row event times are multiples of this interval
   * (epoch-aligned), and each row aggregates the source events strictly before its event time.
   */
  intervalSeconds: number;
  /** Hash of everything that changes how values are read (see {@link featureViewSchemaHash}). */
  schemaHash: string;
}

/**
 * The schema hash of a view: 8 hex characters over its name, entity, join keys and features (name, type, order).
 * It is part of the online key, so a reader built for one schema never reads values written under another.
 */
export function featureViewSchemaHash(view: Omit<FeatureViewSpec, 'schemaHash'>): string {
  const canonical = JSON.stringify([
    view.name,
    view.entity,
    view.joinKeys,
    view.features.map((f) => [f.name, f.dtype]),
  ]);
  return murmur3(canonical, 0x6c6f636b).toString(16).padStart(8, '0');
}

/** The column name of a feature in training sets and model rows: `<view>__<feature>`. */
export function featureColumn(view: string, feature: string): string {
  return `${view}__${feature}`;
}

/**
 * The freshness rule, shared by the offline point-in-time join and the online reader: a row with event time
 * `eventTimeMs` may be used at `requestTimeMs` only if it is strictly younger than the TTL.
 */
export function isFresh(eventTimeMs: number, requestTimeMs: number, ttlSeconds: number): boolean {
  return requestTimeMs - eventTimeMs < ttlSeconds * 1000;
}
