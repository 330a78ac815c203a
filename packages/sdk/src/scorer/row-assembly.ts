/**
 * From resolved features to input vectors: entity-level field slots (memoised on cache entries), the reusable
 * vector buffers, each candidate's row assembled from the request, its entities and the per-candidate fields, and
 * the debug rows.
 */
import type { CacheEntry } from './entity-cache.ts';
import type { Buffers, FieldGroup, LoadedModel, ViewPlan } from './loaded-model.ts';
import { type ViewEntities, WRITTEN, viewEntities } from './request-entities.ts';
import type { Fields } from './types.ts';

type Values = ReadonlyArray<ReadonlyArray<ReadonlyArray<number | null>>>;

/** The whole row of candidate `r`, as the training set has it (debug output only). */
function debugRow(m: LoadedModel, shared: Fields, perCandidate: Fields, entities: ViewEntities[], resolved: Values, r: number, a: Assembly): Record<string, unknown> {
  const out: Record<string, unknown> = { ...shared, ...perCandidate };
  // Every request value the model reads, the candidate's included (entity-level fields read some that no
  // per-candidate field does): the training row's precedence, {...user, ...context, ...candidate}.
  const cand = a.cands[r];
  for (const name of m.requestInputs) if (!(name in out)) out[name] = name in cand ? cand[name] : name in a.ctx ? a.ctx[name] : a.user[name];
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
    terms: m.termSlots ? { positions: m.termSlots, values: new Float32Array(capacity * width) } : undefined,
    rows: buf?.rows ?? {
      shared: rowOf([...m.requestInputs, m.timestampField, ...m.views.flatMap((v) => v.columns)]),
      candidate: rowOf([...m.candidateInputs.map((i) => i.name), m.timestampField, ...m.views.flatMap((v) => Array.from(v.candidateRead, (f) => v.columns[f]))]),
    },
    // Each column starts with a non-number so that it holds values as they are (numbers stay the boxes read).
    columns: buf?.columns ?? m.checks.map(() => [undefined]),
    entities: buf?.entities ?? m.views.map(viewEntities),
    resolved: buf?.resolved ?? m.views.map(() => []),
    stable: buf?.stable ?? m.views.map(() => []),
    slots: buf?.slots ?? m.views.map(() => EMPTY),
  };
}

/**
 * A row object holding every name it will be given, each `undefined`. A property created with a number would store
 * it in a box of its own, a fresh copy of which every read by a computed name allocates; one created `undefined`
 * and given numbers afterwards stores the number as it was read (already boxed when it is not an integer), and
 * reads return it as it is.
 */
export function rowOf(names: readonly string[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const name of names) row[name] = undefined;
  return row;
}

/** Copies entry `k` of a field group's slots into row `base` of the full vectors. */
function scatter(slots: Int32Array, fromIndices: Int32Array, fromValues: Float32Array, indices: Int32Array, values: Float32Array, base: number): void {
  for (let j = 0; j < slots.length; j++) {
    indices[base + slots[j]] = fromIndices[j];
    values[base + slots[j]] = fromValues[j];
  }
}

const EMPTY = new Float64Array(0);

/**
 * The slots of a view's entity-level fields for every entity, into the buffers' flat array for the view (entity k
 * at k × 2g: g indices, then g values; exact for int32 indices and float32 values). Fresh cached rows without
 * defaults keep theirs on the cache entry, tagged with the field group (another model may read the view
 * differently), and are copied from there.
 */
function entityVectors(
  view: ViewPlan,
  group: FieldGroup,
  entities: ViewEntities,
  resolved: ReadonlyArray<ReadonlyArray<number | null>>,
  stable: ReadonlyArray<CacheEntry | undefined>,
  buf: Buffers,
  v: number,
  shared: Fields,
): Float64Array {
  const g = group.slots.length;
  const stride = 2 * g;
  let out = buf.slots[v];
  if (out.length < entities.count * stride) out = buf.slots[v] = new Float64Array(Math.max(entities.count, 64) * stride * 2);
  const { row, indices, values } = group.scratch;
  // The request-level values the group reads (uncached views only: such slots are never memoised).
  for (let j = 0; j < group.sharedInputs.length; j++) row[group.sharedInputs[j]] = shared[group.sharedInputs[j]];
  for (let k = 0, at = 0; k < entities.count; k++, at += stride) {
    const entry = stable[k];
    const memo = entry?.slotsFor === group ? entry.slots : undefined;
    if (memo) {
      for (let j = 0; j < stride; j++) out[at + j] = memo[j];
      continue;
    }
    const features = resolved[k];
    for (let j = 0; j < view.read.length; j++) row[view.columns[view.read[j]]] = features[view.read[j]];
    // The entity's own join-key values, as the request carried them (fields may read the ad id, the category…).
    const key = entities.parts ? entities.parts[k] : undefined;
    for (let j = 0; j < view.keyNames.length; j++) row[view.keyNames[j]] = key ? key[j] : entities.cacheKeys[k];
    group.vectorizer.vectorize(row, indices, values, 0);
    for (let j = 0; j < g; j++) {
      out[at + j] = indices[j];
      out[at + g + j] = values[j];
    }
    // Memoised for rows without defaults only: then the slots are all a request needs from the entry (see
    // DirectRows); a row with defaults goes through the entity list, for its report, every time.
    if (entry && entry.resolved?.defaulted === 0) view.cache?.memoise(entities.cacheKeys[k]!, entry, group, out, at, g, view.termed);
  }
  return out;
}

/**
 * Writes each candidate's entity slots for one view (`slots` from {@link entityVectors}, positions `at`) into its row
 * of `indices` and `values` (row r at r × width), with NaN terms (when `terms`: remembered only for rows written
 * from hot records, unknown here). Candidates written while collecting the entities are left as they are.
 */
function entityRows(e: ViewEntities, at: Int32Array, slots: Float64Array, indices: Int32Array, values: Float32Array, terms: Float32Array | undefined, rows: number, width: number): void {
  const g = at.length;
  for (let r = 0, base = 0; r < rows; r++, base += width) {
    const k = e.shared ? 0 : e.slotOf[r];
    if (k === WRITTEN) continue;
    for (let j = 0, from = 2 * g * k; j < g; j++) {
      indices[base + at[j]] = slots[from + j];
      values[base + at[j]] = slots[from + g + j];
    }
    if (terms) for (let j = 0; j < g; j++) terms[base + at[j]] = NaN;
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
  const terms = buf.terms?.values;

  // The request-level row: user and context values, the request time, the features of user-level views.
  // Reused across requests (debug output keeps its rows: fresh ones then). Every request writes the same names in
  // the same order, so the objects keep one shape; a name that only some requests write (the columns of a view
  // whose keys are not declared, shared or not by request) is never read by the shared fields (see loadModel).
  const row: Record<string, unknown> = debugRows ? {} : buf.rows.shared;
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

  // Fields that read one view's features (and, for uncached views, request-level values): vectorised once per
  // entity (and per fresh cached row, once).
  for (let v = 0; v < views.length; v++) {
    const fields = views[v].fields;
    if (fields) entityVectors(views[v], fields, entities[v], resolved[v], buf.stable[v], buf, v, row);
  }
  // Fields that are the same for every candidate are vectorised once, and written slot by slot into every row (into
  // the first only when the engine reads them from there alone, unless the vectors are asked for).
  const shared = m.sharedFields;
  const perCandidate = m.candidateFields;
  if (shared) {
    shared.vectorizer.vectorize(row, buf.sharedIndices, buf.sharedValues, 0);
    const end = (m.sharedOnce && !debugRows ? Math.min(1, cands.length) : cands.length) * width;
    for (let j = 0; j < shared.slots.length; j++) {
      const index = buf.sharedIndices[j];
      const value = buf.sharedValues[j];
      for (let at = shared.slots[j]; at < end; at += width) {
        indices[at] = index;
        values[at] = value;
      }
    }
  }

  // The per-candidate row: only what per-candidate fields read; its request-level values are written once.
  const crow: Record<string, unknown> = debugRows ? {} : buf.rows.candidate;
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

  // The slots of entity-level fields, view by view (an entity's slots into each of its candidates' rows).
  for (let v = 0; v < views.length; v++) {
    const fields = views[v].fields;
    if (fields) entityRows(entities[v], fields.slots, entitySlots[v], indices, values, views[v].termed ? terms : undefined, cands.length, width);
  }
  // The views whose features per-candidate fields read, entity by entity (not the shared ones: in `crow` already).
  const readViews: number[] = [];
  for (let v = 0; v < views.length; v++) if (!entities[v].shared && views[v].candidateRead.length > 0) readViews.push(v);

  const candidateNames = m.candidateNames;
  const candidateColumns = m.candidateColumns;
  const columns = buf.columns;
  const undeclaredNames = m.undeclaredNames;
  // The first three candidate values are written by store sites of their own, each of which sees one name (a store
  // at a known offset); one site for every name would be megamorphic (see COLUMN_READERS in validate-request.ts).
  const nc = candidateNames.length;
  const [n0, n1, n2] = candidateNames;
  const c0 = nc > 0 ? candidateColumns[0] : -1;
  const c1 = nc > 1 ? candidateColumns[1] : -1;
  const c2 = nc > 2 ? candidateColumns[2] : -1;
  for (let r = 0; r < cands.length; r++) {
    const cand = cands[r];
    const base = r * width;
    if (nc > 0) {
      crow[n0] = c0 >= 0 ? columns[c0][r] : cand[n0];
      if (nc > 1) {
        crow[n1] = c1 >= 0 ? columns[c1][r] : cand[n1];
        if (nc > 2) crow[n2] = c2 >= 0 ? columns[c2][r] : cand[n2];
      }
    }
    for (let i = 3; i < nc; i++) {
      const c = candidateColumns[i];
      crow[candidateNames[i]] = c >= 0 ? columns[c][r] : cand[candidateNames[i]];
    }
    for (let i = 0; i < undeclaredNames.length; i++) {
      const name = undeclaredNames[i];
      // Undeclared: the training row's precedence, {...user, ...context, ...candidate}.
      crow[name] = name in cand ? cand[name] : name in ctx ? ctx[name] : user[name];
    }
    for (let i = 0; i < readViews.length; i++) {
      const v = readViews[i];
      // Never WRITTEN: only entities of views no per-candidate field reads are written while collecting.
      const { columns, candidateRead } = views[v];
      const features = resolved[v][entities[v].slotOf[r]];
      for (let j = 0; j < candidateRead.length; j++) crow[columns[candidateRead[j]]] = features[candidateRead[j]];
    }
    if (perCandidate) {
      perCandidate.vectorizer.vectorize(crow, buf.rowIndices, buf.rowValues, 0);
      scatter(perCandidate.slots, buf.rowIndices, buf.rowValues, indices, values, base);
    }
    if (debugRows) debugRows.push(debugRow(m, row, crow, entities, resolved, r, a));
  }
}
