/**
 * From resolved features to input vectors: entity-level field slots (memoised on cache entries), the reusable
 * vector buffers, copying a field group's slots into full rows, and the debug rows.
 */
import type { CacheEntry } from './entity-cache.ts';
import type { Buffers, FieldGroup, LoadedModel, ViewPlan } from './loaded-model.ts';
import type { ViewEntities } from './request-entities.ts';

/** The whole row of candidate `r`, as the training set has it (debug output only). */
export function debugRow(
  m: LoadedModel,
  shared: Record<string, unknown>,
  perCandidate: Record<string, unknown>,
  entities: ViewEntities[],
  resolved: Array<Array<Array<number | null>>>,
  r: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...shared, ...perCandidate };
  for (let v = 0; v < m.views.length; v++) {
    const e = entities[v];
    const values = resolved[v][e.shared ? 0 : e.slotOf[r]];
    m.views[v].columns.forEach((c, f) => (out[c] = values[f]));
  }
  return out;
}

export function takeBuffers(m: LoadedModel, rows: number, width: number): Buffers {
  let buf = m.pool.pop();
  if (!buf || buf.capacity < rows) {
    const capacity = Math.max(rows, buf?.capacity ?? 0, 16);
    buf = {
      capacity,
      indices: new Int32Array(capacity * width),
      values: new Float32Array(capacity * width),
      out: new Float32Array(capacity),
      sharedIndices: new Int32Array(width),
      sharedValues: new Float32Array(width),
      rowIndices: new Int32Array(width),
      rowValues: new Float32Array(width),
    };
  }
  return buf;
}

/** Copies entry `k` of a field group's slots into row `base` of the full vectors. */
export function scatter(slots: Int32Array, fromIndices: Int32Array, fromValues: Float32Array, indices: Int32Array, values: Float32Array, base: number, k: number): void {
  const from = k * slots.length;
  for (let j = 0; j < slots.length; j++) {
    indices[base + slots[j]] = fromIndices[from + j];
    values[base + slots[j]] = fromValues[from + j];
  }
}

/**
 * The slots of a view's entity-level fields, per entity, each as one Float64Array [indices…, values…] (exact for
 * int32 indices and float32 values; one small object per entity keeps the per-candidate reads local). Fresh cached
 * rows keep theirs in the cache entry, tagged with the field group (another model may read the view differently).
 */
export function entityVectors(
  view: ViewPlan,
  group: FieldGroup,
  entities: ViewEntities,
  resolved: ReadonlyArray<ReadonlyArray<number | null>>,
  stable: ReadonlyArray<CacheEntry | undefined>,
): Float64Array[] {
  const g = group.slots.length;
  const out = new Array<Float64Array>(resolved.length);
  let row: Record<string, unknown> | undefined;
  let indices: Int32Array | undefined;
  let values: Float32Array | undefined;
  for (let k = 0; k < resolved.length; k++) {
    const entry = stable[k];
    if (entry?.slots && entry.slotsFor === group) {
      out[k] = entry.slots;
      continue;
    }
    row ??= {};
    indices ??= new Int32Array(g);
    values ??= new Float32Array(g);
    const features = resolved[k];
    for (let j = 0; j < view.read.length; j++) row[view.columns[view.read[j]]] = features[view.read[j]];
    // The entity's own join-key values, as the request carried them (fields may read the ad id, the category…).
    const key = entities.parts ? entities.parts[k] : undefined;
    for (let j = 0; j < view.keyNames.length; j++) row[view.keyNames[j]] = key ? key[j] : entities.cacheKeys[k];
    group.vectorizer.vectorize(row, indices, values, 0);
    const slots = new Float64Array(2 * g);
    for (let j = 0; j < g; j++) {
      slots[j] = indices[j];
      slots[g + j] = values[j];
    }
    if (entry) {
      entry.slots = slots;
      entry.slotsFor = group;
    }
    out[k] = slots;
  }
  return out;
}
