/**
 * Arrow record batches (a bundle's snapshot files, the engine's latestFeatures) to rows for the online store:
 * columns found by name: the view's join keys, `event_time` (Timestamp ms or epoch ms), then its features.
 *
 * @module
 */
import type { RecordBatch } from 'apache-arrow';
import { InputError, type FeatureViewSpec, type WriteRow } from '@lockstep/sdk';
import { eventTimeMs, featureValue, keyPart, type RowRange } from './source.ts';

/** The column holding each row's event time. */
export const EVENT_TIME_COLUMN = 'event_time';

/** The rows of one batch that fall in `range` (event time ≤ asOf, and > afterMs when given). */
export function recordBatchRows(batch: RecordBatch, view: Pick<FeatureViewSpec, 'name' | 'joinKeys' | 'features'>, range: RowRange): WriteRow[] {
  const column = (name: string) => {
    const vector = batch.getChild(name);
    if (!vector) {
      const have = batch.schema.fields.map((f) => f.name).join(', ');
      throw new InputError(`view ${view.name}: no column "${name}" in the feature data (columns: ${have})`, name);
    }
    return vector;
  };
  const keys = view.joinKeys.map(column);
  const times = column(EVENT_TIME_COLUMN);
  const features = view.features.map((f) => column(f.name));
  const rows: WriteRow[] = [];
  for (let r = 0; r < batch.numRows; r++) {
    const t = eventTimeMs(times.get(r), view.name);
    if (t > range.asOfMs || (range.afterMs !== undefined && t <= range.afterMs)) continue;
    const entity = keys.map((k, c) => keyPart(k.get(r), view.name, view.joinKeys[c]));
    const values = features.map((f) => featureValue(f.get(r)));
    rows.push({ entity, eventTimeMs: t, values });
  }
  return rows;
}
