/**
 * From a stored row to the values a model gets: TTL and defaults applied, with the reason for every default.
 * The online twin of the offline point-in-time join's rules (same {@link isFresh}, same defaults).
 *
 * @module
 */
import type { FeatureRow } from '../online-format.ts';
import { isFresh, type FeatureViewSpec } from '../spec/feature-view.ts';

/** Why a feature got its default: no row, a row older than the view's TTL, or a null value in a fresh row. */
export type DefaultReason = 'missing' | 'expired' | 'null';

/** One entity's features for one view, ready for the vectoriser. */
export interface ResolvedFeatures {
  /** The view's features in spec order: the stored value, or the feature's default. */
  values: Array<number | null>;
  /** Per feature: why its default was used, or undefined where the stored value was used. */
  reasons: Array<DefaultReason | undefined>;
  /** How many features got their default. */
  defaulted: number;
}

/**
 * Apply the view's TTL (a row that is not {@link isFresh} at `requestTimeMs` counts as missing, reason
 * `'expired'`) and its defaults (`'missing'` for no row, `'null'` for a null value in a fresh row).
 */
export function resolveFeatures(
  view: Pick<FeatureViewSpec, 'features' | 'ttlSeconds'>,
  row: FeatureRow | undefined,
  requestTimeMs: number,
): ResolvedFeatures {
  const features = view.features;
  const n = features.length;
  const values = new Array<number | null>(n);
  const reasons = new Array<DefaultReason | undefined>(n);
  const whole: DefaultReason | undefined =
    row === undefined ? 'missing' : isFresh(row.eventTimeMs, requestTimeMs, view.ttlSeconds) ? undefined : 'expired';
  if (whole !== undefined) {
    for (let i = 0; i < n; i++) {
      values[i] = features[i].default;
      reasons[i] = whole;
    }
    return { values, reasons, defaulted: n };
  }
  let defaulted = 0;
  const stored = row!.values;
  for (let i = 0; i < n; i++) {
    const v = stored[i];
    if (v === null || v === undefined) {
      values[i] = features[i].default;
      reasons[i] = 'null';
      defaulted++;
    } else {
      values[i] = v;
      reasons[i] = undefined;
    }
  }
  return { values, reasons, defaulted };
}
