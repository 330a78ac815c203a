/**
 * Training/serving consistency, proven by replay: the impressions of an evaluation window go through the real
 * online path and are compared, one by one, with their training-set rows.
 *
 * 1. Build the model's point-in-time set for the window (`FeatureStore.buildTrainingSet`), exactly as training does,
 *    and vectorise it with the bundle's input spec (the trainer's own reader).
 * 2. Replay in time order, as production runs: before each impression, every view is materialized into the online
 *    store as of its latest tick T ≤ ts − lag (a full run for the first, then incremental runs on the view's
 *    cadence), so the store holds what it would have held at that moment.
 * 3. Group impressions into requests (one user, one context, the page's ads) and score them with `score()`
 *    through the store, with the request built from the logged fields only.
 * 4. Compare, per impression, the served input vector with the training row's (bit for bit) and the served score
 *    with the offline model's score of the training row (onnxruntime-web; within a tolerance). Every mismatch is
 *    explained: which field, both values, and why (a defaulted feature and its reason, a differing value, …).
 *
 * The replay writes into the target store (full and incremental materializations as of past times): point it at a
 * scratch Redis/Valkey, not at production.
 *
 * @module
 */
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import {
  InputError,
  builtinBackend,
  createEngine,
  type BundleManifest,
  type FeatureViewSpec,
  type ModelEngine,
  type OnlineStoreCore,
  type ScoreResult,
  type Scorer,
} from '@lockstep/sdk';
import { createScorer, loadNodeBundle } from '@lockstep/sdk/node';
import { onnxruntimeWebBackend } from '@lockstep/sdk/onnxruntime-web';
import { FeatureStore } from '../engine/index.ts';
import { materialize, viewTableSource, type MaterializationSource } from '../materialize/index.ts';
import type { RepoDefinition, ResolvedRepo } from '../repo/index.ts';
import { duckdbSource, quoteIdent, quoteString } from '../train/duckdb-source.ts';

export interface VerifyConsistencyOptions {
  /** The feature repo (config path, definition or resolved repo). */
  repo: string | RepoDefinition | ResolvedRepo;
  /** Directory the repo's sources resolve against (the logs). */
  dataDir: string;
  /** Where view tables and the replayed set go. @default `<dataDir>/.lockstep` */
  workDir?: string;
  /** Bundle folders to check (models of the repo; they must read the same views). */
  bundles: string[];
  /** The online store to materialize into and score through (a scratch instance: the replay overwrites it). */
  store: OnlineStoreCore;
  /** The replayed window [start, end), ISO-8601. */
  start: string;
  end: string;
  /** Replay at most this many impressions (the first ones of the window). @default all */
  limit?: number;
  /** Largest accepted |served score − offline score|. @default 1e-6 */
  tolerance?: number;
  /** Keep at most this many explained mismatches per model. @default 20 */
  maxExamples?: number;
  /**
   * Materialize on this cadence (ms, epoch-aligned) instead of each view's own interval: replays a production
   * schedule that lags the one training assumes (e.g. a daily batch) and measures the skew it causes.
   * @default each view's intervalSeconds (no skew)
   */
  cadenceMs?: number;
  /** Publish the first snapshot even if the store holds a later one (it rolls the store back). @default false */
  force?: boolean;
  /** Progress: impressions replayed so far, and materialization runs. */
  onProgress?: (event: { phase: 'prepare' | 'replay' | 'done'; impressions: number; total: number; materializations: number; message?: string }) => void;
}

/** One slot that differs, explained. */
export interface SlotMismatch {
  /** The model input field (spec name) of the slot. */
  field: string;
  slot: number;
  training: { index: number; value: number };
  served: { index: number; value: number };
  /** The row values the field reads, as the training set and the served request had them. */
  inputs: Array<{ name: string; training: unknown; served: unknown }>;
  /** Why they differ, in words. */
  reason: string;
}

export interface ImpressionMismatch {
  /** The impression's key (the label source's key, e.g. impression_id). */
  key: unknown;
  ts: number;
  /** Empty when only the score differs. */
  slots: SlotMismatch[];
  trainingScore: number;
  servedScore: number;
}

export interface ModelConsistency {
  bundle: string;
  name: string;
  family: string;
  engine: string;
  impressions: number;
  /** Impressions whose input vector differs from the training row's. */
  vectorMismatches: number;
  /** Impressions whose score differs from the offline score by more than the tolerance. */
  scoreMismatches: number;
  /** Impressions with any mismatch, over impressions. */
  mismatchRate: number;
  maxScoreDiff: number;
  /** The engine that computed the offline scores. */
  reference: string;
  /** Mismatching fields and how often. */
  byField: Record<string, number>;
  examples: ImpressionMismatch[];
}

export interface ConsistencyReport {
  window: { start: string; end: string };
  impressions: number;
  requests: number;
  materializations: number;
  tolerance: number;
  models: ModelConsistency[];
  seconds: number;
}

interface Loaded {
  dir: string;
  manifest: BundleManifest;
  scorer: Scorer;
  reference: ModelEngine;
}

/** Replays the window through the online path and compares it with the training set. */
export async function verifyConsistency(options: VerifyConsistencyOptions): Promise<ConsistencyReport> {
  const started = performance.now();
  if (!options.bundles.length) throw new InputError('give at least one bundle to verify', 'bundle');
  const tolerance = options.tolerance ?? 1e-6;
  const maxExamples = options.maxExamples ?? 20;
  const progress = options.onProgress ?? (() => {});
  const fs = await FeatureStore.open(options.repo, { dataDir: options.dataDir, workDir: options.workDir });
  const scratch = await mkdtemp(join(tmpdir(), 'lockstep-consistency-'));
  const loaded: Loaded[] = [];
  let source: (MaterializationSource & { close?: () => void }) | undefined;
  try {
    // The bundles, each with a scorer over the store and an independent engine for the offline scores.
    for (const dir of options.bundles) {
      const { manifest, files } = await loadNodeBundle(dir);
      // Another project's bundle would be served from that project's keys while the replay writes this one's: every
      // feature would be stale or defaulted, and the mismatches would blame the features.
      if (manifest.project !== fs.repo.project) throw new InputError(`bundle ${dir} is of project "${manifest.project}", the repo is "${fs.repo.project}"`, 'bundle');
      const model = fs.repo.models[manifest.name];
      if (!model) throw new InputError(`bundle ${dir} is model "${manifest.name}", which the repo does not define`, 'bundle');
      const scorer = await createScorer({ bundle: dir, store: options.store, deadlineMs: Infinity, strict: true });
      const bytes = files.get(manifest.model.file)!;
      const reference = await createEngine(
        { bytes, width: manifest.model.width, indicesInput: manifest.model.indicesInput, valuesInput: manifest.model.valuesInput, output: manifest.model.output },
        { backends: [onnxruntimeWebBackend(), builtinBackend({ fused: false })] },
      );
      loaded.push({ dir, manifest, scorer, reference });
    }
    const first = loaded[0].manifest;
    const views = viewsOf(loaded, fs);

    progress({ phase: 'prepare', impressions: 0, total: 0, materializations: 0, message: 'building view tables and the replay set' });
    await fs.buildFeatures({ views: views.map((v) => v.name) });
    const set = await fs.buildTrainingSet({ model: first.name, start: options.start, end: options.end, out: join(scratch, 'replay.parquet') });
    const key = fs.repo.labels.key;
    const tsField = first.input.timestampField ?? 'ts';
    if (!set.columns.includes(tsField)) throw new InputError(`the training set has no "${tsField}" column (the model's timestamp field)`, 'timestampField');
    const rows = await readSet(set.path, loaded, key, tsField, set.label, options.limit);
    if (rows.count === 0) throw new InputError(`no impressions in ${options.start} → ${options.end}`, 'start');

    // Requests: consecutive impressions (sorted by time, key) of one user and one context form one page.
    const scopes = new Map<string, 'user' | 'context' | 'candidate'>();
    for (const m of loaded) for (const f of m.manifest.requestFields) scopes.set(f.name, f.scope);
    const userFields = [...scopes].filter(([, s]) => s === 'user').map(([n]) => n);
    const contextFields = [...scopes].filter(([, s]) => s === 'context').map(([n]) => n).filter((n) => n !== tsField);
    const candidateFields = [...scopes].filter(([, s]) => s === 'candidate').map(([n]) => n);
    const pageKey = (r: number) => JSON.stringify([rows.raw[tsField][r], ...userFields.map((f) => rows.raw[f][r]), ...contextFields.map((f) => rows.raw[f][r])]);

    const results = loaded.map((m) => emptyResult(m));
    const tickOf = (view: FeatureViewSpec, t: number) => {
      const i = options.cadenceMs ?? view.intervalSeconds * 1000;
      return Math.floor((t - view.lagSeconds * 1000) / i) * i;
    };
    const materialized = new Map<string, number>();
    source = await viewTableSource(fs.workDir);
    let materializations = 0;
    let requests = 0;

    for (let start = 0; start < rows.count; ) {
      let end = start + 1;
      const pk = pageKey(start);
      while (end < rows.count && pageKey(end) === pk) end++;
      const ts = rows.raw[tsField][start] as number;

      // The store as production would hold it at ts: each view as of its latest tick T ≤ ts − lag. A view's first
      // run is a full one (a new version, published); later runs are incremental, on the view's cadence.
      const runs = new Map<string, { tick: number; incremental: boolean; views: FeatureViewSpec[] }>();
      for (const v of views) {
        const tick = tickOf(v, ts);
        if (materialized.get(v.name) === tick) continue;
        const incremental = materialized.has(v.name);
        const id = `${tick}|${incremental}`;
        if (!runs.has(id)) runs.set(id, { tick, incremental, views: [] });
        runs.get(id)!.views.push(v);
      }
      for (const run of runs.values()) {
        await materialize({
          store: options.store,
          project: fs.repo.project,
          views: run.views,
          source,
          asOfMs: run.tick,
          incremental: run.incremental,
          force: options.force,
          keyExpiry: false,
        });
        materializations++;
        for (const v of run.views) materialized.set(v.name, run.tick);
      }
      // The entity cache would hide the new snapshot for up to its staleness bound: start each tick afresh.
      if (runs.size) for (const m of loaded) m.scorer.cache?.clear();

      const request = {
        user: pick(rows.raw, userFields, start),
        context: { ...pick(rows.raw, contextFields, start), [tsField]: ts },
        candidates: Array.from({ length: end - start }, (_, j) => pick(rows.raw, candidateFields, start + j)),
      };
      for (let i = 0; i < loaded.length; i++) {
        const served = await loaded[i].scorer.score(request, { debug: true });
        compare(loaded[i], results[i], rows.vectors[i], rows, start, end, served, tolerance, maxExamples, key, tsField);
      }
      requests++;
      start = end;
      progress({ phase: 'replay', impressions: start, total: rows.count, materializations });
    }
    for (const r of results) r.mismatchRate = r.impressions ? r.byImpression.size / r.impressions : 0;
    progress({ phase: 'done', impressions: rows.count, total: rows.count, materializations });
    return {
      window: { start: set.start, end: set.end },
      impressions: rows.count,
      requests,
      materializations,
      tolerance,
      models: results.map(({ byImpression: _, ...r }) => r),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    source?.close?.();
    for (const m of loaded) {
      await m.scorer.close();
      await m.reference.dispose();
    }
    fs.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The views the bundles read, checked against the repo's current definitions (same schema hash). */
function viewsOf(loaded: Loaded[], fs: FeatureStore): FeatureViewSpec[] {
  const byName = new Map<string, FeatureViewSpec>();
  for (const m of loaded) {
    for (const v of m.manifest.featureViews) {
      const current = fs.servingSpec(v.name);
      if (current.schemaHash !== v.schemaHash) {
        throw new InputError(`bundle ${m.dir} reads view ${v.name} with schema ${v.schemaHash}, the repo now defines ${current.schemaHash}: retrain or check out the repo it was trained with`, 'bundle');
      }
      const seen = byName.get(v.name);
      if (seen && JSON.stringify(seen) !== JSON.stringify(v)) throw new InputError(`bundles disagree on view ${v.name}`, 'bundle');
      byName.set(v.name, v);
    }
  }
  return [...byName.values()];
}

interface SetRows {
  count: number;
  /** Raw column values (as the trainer's reader hands them to the vectoriser). */
  raw: Record<string, unknown[]>;
  /** Per bundle: the training vectors and the offline scores. */
  vectors: Array<{ indices: Int32Array; values: Float32Array; scores: Float32Array; width: number }>;
}

/** Reads the replay set: raw columns and, per bundle, the training vectors (the trainer's reader) and offline scores. */
async function readSet(path: string, loaded: Loaded[], key: string, tsField: string, label: string, limit = Infinity): Promise<SetRows> {
  const relation = `read_parquet(${quoteString(path)})`;
  const orderBy = `${quoteIdent(tsField)}, ${quoteIdent(key)}`;
  const raw: Record<string, unknown[]> = {};
  const vectors: SetRows['vectors'] = [];
  let count = 0;
  for (const [b, m] of loaded.entries()) {
    const columns = b === 0 ? [...new Set([key, tsField, ...m.manifest.requestFields.map((f) => f.name), ...Object.values(m.manifest.entityKeys).flat(), ...inputsOf(loaded)])] : [];
    const src = await duckdbSource({ relation, spec: m.manifest.input, label, orderBy, columns });
    const width = src.width;
    const parts: Array<{ indices: Int32Array; values: Float32Array }> = [];
    let n = 0;
    try {
      for await (const batch of src.batches()) {
        const take = Math.min(batch.rows, limit - n);
        if (take <= 0) break;
        parts.push({ indices: batch.indices.slice(0, take * width), values: batch.values.slice(0, take * width) });
        if (b === 0) {
          for (const c of columns) {
            const to = (raw[c] ??= []);
            const from = batch.columns[c];
            for (let i = 0; i < take; i++) to.push(from[i]);
          }
        }
        n += take;
        if (n >= limit) break;
      }
    } finally {
      src.close();
    }
    const indices = new Int32Array(n * width);
    const values = new Float32Array(n * width);
    let at = 0;
    for (const p of parts) {
      indices.set(p.indices, at);
      values.set(p.values, at);
      at += p.indices.length;
    }
    const scores = new Float32Array(n);
    for (let r = 0; r < n; r += 1000) {
      const k = Math.min(1000, n - r);
      const out = new Float32Array(k);
      await m.reference.run(indices.subarray(r * width, (r + k) * width), values.subarray(r * width, (r + k) * width), k, out);
      scores.set(out, r);
    }
    vectors.push({ indices, values, scores, width });
    count = n;
  }
  return { count, raw, vectors };
}

/** Every row value any bundle's input reads. */
function inputsOf(loaded: Loaded[]): string[] {
  return [...new Set(loaded.flatMap((m) => m.manifest.input.fields.flatMap((f) => f.inputs)))];
}

function pick(raw: Record<string, unknown[]>, fields: string[], r: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f] = raw[f][r];
  return out;
}

type Result = ModelConsistency & { byImpression: Set<number> };

function emptyResult(m: Loaded): Result {
  return {
    bundle: m.dir,
    name: m.manifest.name,
    family: m.manifest.model.family,
    engine: `${m.scorer.model.backend}/${m.scorer.model.mode}`,
    impressions: 0,
    vectorMismatches: 0,
    scoreMismatches: 0,
    mismatchRate: 0,
    maxScoreDiff: 0,
    reference: `${m.reference.info.backend}/${m.reference.info.mode}`,
    byField: {},
    examples: [],
    byImpression: new Set(),
  };
}

function compare(
  m: Loaded,
  out: Result,
  vec: SetRows['vectors'][number],
  rows: SetRows,
  start: number,
  end: number,
  served: ScoreResult,
  tolerance: number,
  maxExamples: number,
  key: string,
  tsField: string,
): void {
  const width = vec.width;
  const debug = served.debug!;
  for (let r = start; r < end; r++) {
    const j = r - start;
    out.impressions++;
    const slots: SlotMismatch[] = [];
    for (let s = 0; s < width; s++) {
      const ti = vec.indices[r * width + s];
      const tv = vec.values[r * width + s];
      const si = debug.indices[j * width + s];
      const sv = debug.values[j * width + s];
      // Bit-identical: equal indices and equal float32 values (Object.is also tells 0 from -0).
      if (ti !== si || !Object.is(tv, sv)) slots.push(explain(m, s, rows, r, debug.rows[j], served, { ti, tv, si, sv }));
    }
    const trainingScore = vec.scores[r];
    const servedScore = served.scores[j];
    const diff = Math.abs(trainingScore - servedScore);
    out.maxScoreDiff = Math.max(out.maxScoreDiff, Number.isNaN(diff) ? Infinity : diff);
    const scoreBad = !(diff <= tolerance);
    if (slots.length) out.vectorMismatches++;
    if (scoreBad) out.scoreMismatches++;
    if (slots.length || scoreBad) {
      out.byImpression.add(r);
      for (const s of slots) out.byField[s.field] = (out.byField[s.field] ?? 0) + 1;
      if (out.examples.length < maxExamples) {
        out.examples.push({ key: rows.raw[key][r], ts: rows.raw[tsField][r] as number, slots, trainingScore, servedScore });
      }
    }
  }
}

function explain(
  m: Loaded,
  slot: number,
  rows: SetRows,
  r: number,
  servedRow: Record<string, unknown>,
  served: ScoreResult,
  v: { ti: number; tv: number; si: number; sv: number },
): SlotMismatch {
  const field = m.manifest.input.fields[slot];
  const inputs = field.inputs.map((name) => ({ name, training: rows.raw[name]?.[r], served: servedRow[name] }));
  const differing = inputs.filter((i) => !Object.is(i.training ?? null, i.served ?? null));
  let reason: string;
  if (!differing.length) {
    reason = field.derive === 'age_seconds' ? 'same inputs; the request time differs' : 'same inputs, different encoding (vectoriser)';
  } else {
    reason = differing
      .map((d) => {
        const sep = d.name.indexOf('__');
        if (sep < 0) return `request value ${d.name} differs`;
        const view = d.name.slice(0, sep);
        const feature = d.name.slice(sep + 2);
        const defaulted = served.defaulted.find((x) => x.view === view && x.features.includes(feature));
        if (defaulted) return `${d.name}: served the default (${defaulted.reason}) for entity [${defaulted.entity.join(', ')}], training had ${String(d.training)}`;
        if (d.training === null || d.training === undefined) return `${d.name}: training had no value (no row in the point-in-time join, or outside the TTL), the store served ${String(d.served)}`;
        return `${d.name}: the store served ${String(d.served)}, training had ${String(d.training)} (a different snapshot row)`;
      })
      .join('; ');
  }
  return { field: field.name, slot, training: { index: v.ti, value: v.tv }, served: { index: v.si, value: v.sv }, inputs, reason };
}

