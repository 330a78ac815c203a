/**
 * TTLs and defaults for every entity of a request, by the store's {@link resolveFeatures} rules (the offline
 * join's), with the defaults that were used reported per view, entity and reason.
 *
 * Two shortcuts, both giving exactly what `resolveFeatures` gives: a fresh cached row resolves the same way at any
 * request time, so it is resolved once per row (memoised on its cache entry); and a fresh row without nulls
 * resolves to its stored values, which are used as they are rather than copied.
 */
import type { KeyPart } from '../online-format.ts';
import { isFresh } from '../spec/feature-view.ts';
import { resolveFeatures } from '../store/resolve-features.ts';
import type { Buffers, LoadedModel } from './loaded-model.ts';
import { entityOf } from './request-entities.ts';
import type { DefaultedFeatures, DefaultedReason } from './types.ts';

/** What resolution reports: the defaults used, and whether the deadline or a store failure forced some. */
export interface Resolution {
  defaulted: DefaultedFeatures[];
  degraded: boolean;
}

/** Resolves every entity of `buf.entities` into `buf.resolved`, and marks in `buf.stable` the memoisable ones. */
export function resolveEntities(m: LoadedModel, buf: Buffers, ts: number): Resolution {
  const out: Resolution = { defaulted: [], degraded: false };
  for (let v = 0; v < m.views.length; v++) {
    const spec = m.views[v].spec;
    const features = spec.features;
    const e = buf.entities[v];
    const values = buf.resolved[v];
    // The cache entry whose memoised input slots may be used: a fresh cached row, unchanged since this request met it.
    const stable = buf.stable[v];
    for (let k = 0; k < e.count; k++) {
      stable[k] = undefined;
      const failed = e.failed?.[k];
      if (failed) {
        out.degraded = true;
        out.defaulted.push({ view: spec.name, entity: entityOf(e, k), reason: failed, features: features.map((f) => f.name) });
        values[k] = features.map((f) => f.default);
        continue;
      }
      const row = e.rows[k];
      const entry = e.entries[k];
      // The entry's row may have been replaced by a concurrent request's read since this one met it: only an
      // unchanged entry's memoised results belong to this request's row.
      if (entry && row && entry.row === row && isFresh(entry.eventTimeMs, ts, spec.ttlSeconds)) {
        const r = (entry.resolved ??= resolveFeatures(spec, row, ts));
        if (r.defaulted) reportDefaults(out.defaulted, spec.name, entityOf(e, k), features, r.reasons);
        values[k] = r.values;
        stable[k] = entry;
      } else if (row && isFresh(row.eventTimeMs, ts, spec.ttlSeconds) && complete(row.values, features.length)) {
        values[k] = row.values;
      } else {
        const r = resolveFeatures(spec, row, ts);
        if (r.defaulted) reportDefaults(out.defaulted, spec.name, entityOf(e, k), features, r.reasons);
        values[k] = r.values;
      }
    }
  }
  return out;
}

/** Whether a stored row has a value for each of the view's `n` features (no default to apply). */
function complete(values: ReadonlyArray<number | null>, n: number): boolean {
  if (values.length !== n) return false;
  for (let i = 0; i < n; i++) if (values[i] === null || values[i] === undefined) return false;
  return true;
}

function reportDefaults(
  out: DefaultedFeatures[],
  view: string,
  entity: KeyPart[],
  features: ReadonlyArray<{ name: string }>,
  reasons: ReadonlyArray<DefaultedReason | undefined>,
): void {
  // Usually one reason for the whole entity (missing, expired); 'null' can concern a few features only.
  const byReason = new Map<DefaultedReason, string[]>();
  for (let i = 0; i < reasons.length; i++) {
    const r = reasons[i];
    if (!r) continue;
    let list = byReason.get(r);
    if (!list) byReason.set(r, (list = []));
    list.push(features[i].name);
  }
  for (const [reason, names] of byReason) out.push({ view, entity, reason, features: names });
}
