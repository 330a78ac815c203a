/**
 * From resolved features to input vectors: entity-level field slots (memoised on cache entries), the reusable
 * vector buffers, each candidate's row assembled from the request, its entities and the per-candidate fields, and
 * the debug rows.
 */
import type { CacheEntry } from './entity-cache.ts';
import type { Buffers, FieldGroup, LoadedModel, ViewPlan } from './loaded-model.ts';
import { type ViewEntities, viewEntities } from './request-entities.ts';
import type { Fields } from './types.ts';

type Values = ReadonlyArray<ReadonlyArray<ReadonlyArray<number | null>>>;

/** The whole row of candidate `r`, as the training set has it (debug output only). */
function debugRow(m: LoadedModel, shared: Fields, perCandidate: Fields, entities: ViewEntities[], resolved: Values, r: number): Record<string, unknown> {
  const out: Record<string, unknown> = { ...shared, ...perCandidate };
  for (let v = 0; v < m.views.length; v++) {
    const e = entities[v];
    const values = resolved[v][e.shared ? 0 : e.slotOf[r]];
    m.views[v].columns.forEach((c, f) => (out[c] = values[f]));
  }
  return out;
}

/** A computation's buffers: from the model's pool, grown to `rows` rows if needed, or new. Give them back after. */
export function takeBuffers(m: LoadedModel, rows: number, width: number): Buffers {
  const buf = m.pool.pop();
  if (buf && buf.capacity >= rows) return buf;
  const capacity = Math.max(rows, buf?.capacity ?? 0, 16);
  return {
    capacity,
    indices: new Int32Array(capacity * width),
    values: new Float32Array(capacity * width),
    out: new Float32Array(capacity),
    sharedIndices: new Int32Array(width),
    sharedValues: new Float32Array(width),
    rowIndices: new Int32Array(width),
    rowValues: new Float32Array(width),
    entities: buf?.entities ?? m.views.map(viewEntities),
    resolved: buf?.resolved ?? m.views.map(() => []),
    stable: buf?.stable ?? m.views.map(() => []),
    slots: buf?.slots ?? m.views.map(() => []),
    spare: buf?.spare ?? m.views.map(() => []),
  };
}

/** Copies entry `k` of a field group's slots into row `base` of the full vectors. */
function scatter(slots: Int32Array, fromIndices: Int32Array, fromValues: Float32Array, indices: Int32Array, values: Float32Array, base: number): void {
  for (let j = 0; j < slots.length; j++) {
    indices[base + slots[j]] = fromIndices[j];
    values[base + slots[j]] = fromValues[j];
  }
}

/**
 * The slots of a view's entity-level fields, per entity, each as one Float64Array [indices…, values…] (exact for
 * int32 indices and float32 values; one small object per entity keeps the per-candidate reads local), into `out`.
 * Fresh cached rows keep theirs in the cache entry, tagged with the field group (another model may read the view
 * differently); the others use the buffers' spare arrays.
 */
function entityVectors(
  view: ViewPlan,
  group: FieldGroup,
  entities: ViewEntities,
  resolved: ReadonlyArray<ReadonlyArray<number | null>>,
  stable: ReadonlyArray<CacheEntry | undefined>,
  out: Float64Array[],
  spare: Float64Array[],
): void {
  const g = group.slots.length;
  const { row, indices, values } = group.scratch;
  for (let k = 0; k < entities.count; k++) {
    const entry = stable[k];
    if (entry?.slots && entry.slotsFor === group) {
      out[k] = entry.slots;
      continue;
    }
    const features = resolved[k];
    for (let j = 0; j < view.read.length; j++) row[view.columns[view.read[j]]] = features[view.read[j]];
    // The entity's own join-key values, as the request carried them (fields may read the ad id, the category…).
    const key = entities.parts ? entities.parts[k] : undefined;
    for (let j = 0; j < view.keyNames.length; j++) row[view.keyNames[j]] = key ? key[j] : entities.cacheKeys[k];
    group.vectorizer.vectorize(row, indices, values, 0);
    // Kept on the entry: its own array; otherwise a spare one, rewritten by the next request.
    const slots = entry ? new Float64Array(2 * g) : (spare[k] ??= new Float64Array(2 * g));
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
}

export interface Assembly {
  user: Fields;
  ctx: Fields;
  cands: readonly Fields[];
  ts: number;
  /** Collects each candidate's whole row (debug output). */
  debugRows: Array<Record<string, unknown>> | undefined;
}

/**
 * Writes every candidate's input vector into `buf` (row r at r × width): fields that are the same for every
 * candidate once, fields of one entity once per entity, the rest per candidate from a row holding only what they
 * read.
 */
export function assembleVectors(m: LoadedModel, a: Assembly, buf: Buffers): void {
  const { user, ctx, cands, ts, debugRows } = a;
  const { entities, resolved, slots: entitySlots } = buf;
  const views = m.views;
  const width = m.vectorizer.width;
  const indices = buf.indices;
  const values = buf.values;

  // Fields that read one view's features only: vectorised once per entity (and per fresh cached row, once).
  for (let v = 0; v < views.length; v++) {
    const fields = views[v].fields;
    if (fields) entityVectors(views[v], fields, entities[v], resolved[v], buf.stable[v], entitySlots[v], buf.spare[v]);
  }

  // The request-level row: user and context values, the request time, the features of user-level views.
  const row: Record<string, unknown> = {};
  for (let i = 0; i < m.requestInputs.length; i++) {
    const name = m.requestInputs[i];
    const scope = m.requestInputScopes[i];
    if (scope === 'user') row[name] = user[name];
    else if (scope === 'context') row[name] = ctx[name];
  }
  row[m.timestampField] = ts;
  for (let v = 0; v < views.length; v++) {
    if (!entities[v].shared) continue;
    const features = resolved[v][0];
    const columns = views[v].columns;
    for (let f = 0; f < columns.length; f++) row[columns[f]] = features[f];
  }
  // Fields that are the same for every candidate are vectorised once.
  const shared = m.sharedFields;
  const perCandidate = m.candidateFields;
  if (shared) shared.vectorizer.vectorize(row, buf.sharedIndices, buf.sharedValues, 0);

  // The per-candidate row: only what per-candidate fields read; its request-level values are written once.
  const crow: Record<string, unknown> = {};
  const inputs = m.candidateInputs;
  for (let i = 0; i < inputs.length; i++) {
    const { name, scope } = inputs[i];
    if (scope === 'user') crow[name] = user[name];
    else if (scope === 'context') crow[name] = ctx[name];
  }
  if (m.candidateReadsTs) crow[m.timestampField] = ts;
  for (let v = 0; v < views.length; v++) {
    if (!entities[v].shared) continue;
    const features = resolved[v][0];
    const { columns, candidateRead } = views[v];
    for (let j = 0; j < candidateRead.length; j++) crow[columns[candidateRead[j]]] = features[candidateRead[j]];
  }

  for (let r = 0; r < cands.length; r++) {
    const cand = cands[r];
    const base = r * width;
    for (let i = 0; i < inputs.length; i++) {
      const { name, scope } = inputs[i];
      if (scope === 'candidate') crow[name] = cand[name];
      // Undeclared: the training row's precedence, {...user, ...context, ...candidate}.
      else if (scope === undefined) crow[name] = name in cand ? cand[name] : name in ctx ? ctx[name] : user[name];
    }
    for (let v = 0; v < views.length; v++) {
      const e = entities[v];
      const k = e.shared ? 0 : e.slotOf[r];
      const fields = views[v].fields;
      if (fields) {
        const slots = entitySlots[v][k];
        const at = fields.slots;
        const g = at.length;
        for (let j = 0; j < g; j++) {
          indices[base + at[j]] = slots[j];
          values[base + at[j]] = slots[g + j];
        }
      }
      if (e.shared) continue;
      const { columns, candidateRead } = views[v];
      if (candidateRead.length === 0) continue;
      const features = resolved[v][k];
      for (let j = 0; j < candidateRead.length; j++) crow[columns[candidateRead[j]]] = features[candidateRead[j]];
    }
    if (shared) scatter(shared.slots, buf.sharedIndices, buf.sharedValues, indices, values, base);
    if (perCandidate) {
      perCandidate.vectorizer.vectorize(crow, buf.rowIndices, buf.rowValues, 0);
      scatter(perCandidate.slots, buf.rowIndices, buf.rowValues, indices, values, base);
    }
    if (debugRows) debugRows.push(debugRow(m, row, crow, entities, resolved, r));
  }
}
