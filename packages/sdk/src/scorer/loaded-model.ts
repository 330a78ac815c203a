/**
 * A bundle compiled for serving: its engine, its vectoriser, and the plan that turns a request into rows. Built
 * once per bundle (at `createScorer` and at every `swap`), shared by all requests that start while it is current.
 */
import { BundleError } from '../errors.ts';
import type { BundleManifest } from '../bundle/manifest.ts';
import { createEngine, type CreateEngineOptions } from '../engine/registry.ts';
import type { EngineTerms, ModelEngine } from '../engine/types.ts';
import { featureColumn, type FeatureViewSpec } from '../spec/feature-view.ts';
import { type FieldSpec, specInputs } from '../spec/model-input.ts';
import { compileVectorizer, type Vectorizer } from '../vectorizer.ts';
import type { LoadedBundle } from './bundle-loader.ts';
import type { CacheEntry, CachePartition } from './entity-cache.ts';
import type { ViewEntities } from './request-entities.ts';
import type { ModelInfo } from './types.ts';
import { rowOf } from './row-assembly.ts';

export type Scope = 'user' | 'context' | 'candidate';

/** One feature view as the scorer reads it. */
export interface ViewPlan {
  spec: FeatureViewSpec;
  /** Row value names holding the view's join keys, in join-key order. */
  keyNames: string[];
  /** The declared scope of each join key (undefined: not declared, looked up candidate → context → user). */
  keyScopes: Array<Scope | undefined>;
  /** Per join key declared on candidates: its column among the validated values (see {@link Buffers.columns}), else -1. */
  keyColumns: Int32Array;
  /** `<view>__<feature>` per feature, in spec order. */
  columns: string[];
  /** The features (positions) whose columns the model input reads. */
  read: Int32Array;
  /**
   * Fields that read only this view's features and join keys (an ad's CTR bucket, the ad id): vectorised once per
   * entity rather than per candidate, and for fresh cached rows once per row across requests.
   */
  fields: FieldGroup | undefined;
  /** The features (positions) whose columns per-candidate fields read: written into each candidate's row. */
  candidateRead: Int32Array;
  /** Whether the entity cache holds this view's rows. */
  cached: boolean;
  /**
   * Whether the engine's terms of this view's entity-level slots are remembered in the entity cache's hot records
   * (cached views of one join key whose slots are all a candidate needs from them): those positions are in
   * {@link LoadedModel.termSlots}, and every row's terms there are written before each run (known ones or NaN).
   */
  termed: boolean;
  /** Identity of this view's entity-cache partition (project, view, schema hash). */
  cacheId: string;
  /** The entity-cache partition, when the view is cached (set by the scorer that owns the cache). */
  cache?: CachePartition;
}

/**
 * A part of the input's fields with its own vectoriser. Each field's encoding depends only on the field and the
 * spec's hash seed and size, so vectorising a subset of the fields gives exactly the slots the full spec gives.
 */
export interface FieldGroup {
  vectorizer: Vectorizer;
  /** The slot of each of the group's fields in the full row. */
  slots: Int32Array;
  /** A row and vectors to vectorise one entity at a time in (entity vectors are computed synchronously). */
  scratch: { row: Record<string, unknown>; indices: Int32Array; values: Float32Array };
  /**
   * Request-level values (user/context fields, user-level features) the group's fields also read: copied into the
   * scratch row once per request. Only groups of views whose entities are not cached have any (see loadModel).
   */
  sharedInputs: string[];
}

/** A request field the scorer checks: where it lives and its type. */
export interface FieldCheck {
  name: string;
  type: 'string' | 'number' | 'timestamp';
  scope: Scope;
}

export interface LoadedModel {
  manifest: BundleManifest;
  info: ModelInfo;
  engine: ModelEngine;
  vectorizer: Vectorizer;
  /** Fields that read only user/context values and user-level features: vectorised once per request. */
  sharedFields: FieldGroup | undefined;
  /** Fields that read candidate values (alone or with anything else): vectorised per candidate. */
  candidateFields: FieldGroup | undefined;
  /** The slots of the views whose engine terms the entity cache remembers (see {@link ViewPlan.termed}). */
  termSlots: Int32Array | undefined;
  /**
   * Whether the engine reads the shared fields' slots from the first row only (the built-in fused kernels; not the
   * interpreter, not onnxruntime): the other rows' are then not written.
   */
  sharedOnce: boolean;
  /**
   * The request values the per-candidate fields read, with their declared scope. Their row holds only these (and
   * the few feature columns they read): a small object, which V8 keeps in fast mode, unlike a row of every column.
   */
  candidateInputs: Array<{ name: string; scope: Scope | undefined }>;
  /** The names of `candidateInputs` declared on the candidates, and of those not declared (read per candidate). */
  candidateNames: string[];
  /** The column (see {@link Buffers.columns}) of each of `candidateNames`. */
  candidateColumns: Int32Array;
  undeclaredNames: string[];
  /** Whether per-candidate fields read the request time. */
  candidateReadsTs: boolean;
  views: ViewPlan[];
  /** Request values (not features, not the timestamp) the vectoriser reads. */
  requestInputs: string[];
  /** The declared scope of each request input (undefined: not declared, looked up candidate → context → user). */
  requestInputScopes: Array<Scope | undefined>;
  /** Where each known request field lives, for the row assembly. */
  scopeOf: Map<string, Scope>;
  checks: FieldCheck[];
  timestampField: string;
  /** The first candidate-scoped join key: the default candidate id for tie-breaking. */
  candidateIdField: string | undefined;
  /** Reusable input/output buffers (one set per concurrent computation; one in total for synchronous engines). */
  pool: Buffers[];
  /** Requests in flight on this model; a swapped-out model is disposed when it reaches zero. */
  inflight: number;
  retired: boolean;
}

/**
 * One computation's working memory, reused by the requests that follow it: vectors and outputs for up to `capacity`
 * rows, the slots of one row's field groups, and per view the request's entities, their resolved values and input
 * slots. Arrays indexed by entity are only meaningful below the request's entity count (they keep their length).
 */
export interface Buffers {
  capacity: number;
  indices: Int32Array;
  values: Float32Array;
  out: Float32Array;
  sharedIndices: Int32Array;
  sharedValues: Float32Array;
  rowIndices: Int32Array;
  rowValues: Float32Array;
  /** The engine terms of {@link LoadedModel.termSlots} (rows × width, like `values`), when the model has any. */
  terms: EngineTerms | undefined;
  /** The request-level row and the per-candidate row the vectorisers read (see assembleVectors). */
  rows: { shared: Record<string, unknown>; candidate: Record<string, unknown> };
  /**
   * Per check of {@link LoadedModel.checks}: the candidates' values of a candidate-scoped field as validation read
   * them (candidate i's at i; empty for other scopes). Each value is read from its candidate once per request.
   */
  columns: unknown[][];
  /** Per view: the request's entities. */
  entities: ViewEntities[];
  /** Per view, per entity: the feature values (read only: they may be a stored row's own). */
  resolved: Array<Array<ReadonlyArray<number | null>>>;
  /** Per view, per entity: the cache entry whose memoised input slots may be used, else undefined. */
  stable: Array<Array<CacheEntry | undefined>>;
  /**
   * Per view: the entity-level input slots of every entity, entity k's at k × 2g: [g indices…, g values…] (g: the
   * view's entity-level fields). Copied into one array per request so that the per-candidate loop reads memory it
   * just wrote, rather than each entity's memoised array wherever the cache keeps it.
   */
  slots: Float64Array[];
}

/** Which views the entity cache covers. */
export type CachePolicy = (view: FeatureViewSpec, keyScopes: Array<Scope | undefined>) => boolean;

/** The default: views keyed only by candidate fields (ads, advertisers): shared by many users' requests. */
export const cacheCandidateViews: CachePolicy = (_view, scopes) => scopes.length > 0 && scopes.every((s) => s === 'candidate');

export async function loadModel(bundle: LoadedBundle, engines: CreateEngineOptions, cachePolicy: CachePolicy): Promise<LoadedModel> {
  const { manifest } = bundle;
  const vectorizer = compileVectorizer(manifest.input);
  const scopeOf = new Map<string, Scope>();
  // The manifest is not under its own checksums (its hash is the model's id): a field of an unknown type or
  // scope would check requests against nothing ("must be a string, got string") instead of failing here.
  for (const [i, f] of (manifest.requestFields ?? []).entries()) {
    if (typeof f?.name !== 'string' || !['string', 'number', 'timestamp'].includes(f.type) || !['user', 'context', 'candidate'].includes(f.scope)) {
      throw new BundleError('BUNDLE_INVALID', `manifest.json: requestFields[${i}] must be { name, type: string|number|timestamp, scope: user|context|candidate }, got ${JSON.stringify(f)}`);
    }
    scopeOf.set(f.name, f.scope);
  }

  const timestampField = manifest.input.timestampField ?? 'ts';
  const checks: FieldCheck[] = (manifest.requestFields ?? [])
    .filter((f) => f.name !== timestampField)
    .map((f) => ({ name: f.name, type: f.type, scope: f.scope }));
  /** The position of a candidate-scoped field among the checks (its column), -1 when it is not checked. */
  const columnOf = (name: string) => checks.findIndex((c) => c.name === name && c.scope === 'candidate');

  const inputs = new Set(specInputs(manifest.input));
  const views = manifest.featureViews.map((spec): ViewPlan => {
    const keyNames = manifest.entityKeys[spec.name];
    if (!Array.isArray(keyNames) || keyNames.length !== spec.joinKeys.length) {
      throw new BundleError('BUNDLE_INVALID', `manifest.json: entityKeys["${spec.name}"] must name ${spec.joinKeys.length} row values (the view's join keys ${spec.joinKeys.join(', ')})`);
    }
    const columns = spec.features.map((f) => featureColumn(spec.name, f.name));
    return {
      spec,
      keyNames,
      keyScopes: keyNames.map((k) => scopeOf.get(k)),
      keyColumns: Int32Array.from(keyNames, (k) => (scopeOf.get(k) === 'candidate' ? columnOf(k) : -1)),
      columns,
      read: Int32Array.from(columns.flatMap((c, i) => (inputs.has(c) ? [i] : []))),
      fields: undefined,
      candidateRead: new Int32Array(0),
      cached: cachePolicy(spec, keyNames.map((k) => scopeOf.get(k))),
      termed: false,
      cacheId: `${manifest.project}\u0000${spec.name}\u0000${spec.schemaHash}`,
    };
  });

  const featureColumns = new Set(views.flatMap((v) => v.columns));
  const requestInputs = [...inputs].filter((n) => !featureColumns.has(n) && n !== timestampField);

  const file = bundle.files.get(manifest.model.file);
  if (!file) throw new BundleError('BUNDLE_INVALID', `bundle has no model file "${manifest.model.file}"`);
  const engine = await createEngine(
    {
      bytes: file,
      width: manifest.model.width,
      indicesInput: manifest.model.indicesInput,
      valuesInput: manifest.model.valuesInput,
      output: manifest.model.output,
    },
    engines,
  );

  // Values that are the same for every candidate of a request: declared user/context fields, the request time,
  // and the features of views keyed by those only.
  const sharedValues = new Set<string>([timestampField]);
  for (const [name, scope] of scopeOf) if (scope !== 'candidate') sharedValues.add(name);
  for (const v of views) if (v.keyNames.every((k) => scopeOf.has(k) && scopeOf.get(k) !== 'candidate')) v.columns.forEach((c) => sharedValues.add(c));
  const isShared = (f: FieldSpec) => f.inputs.every((i) => sharedValues.has(i)) && (f.derive !== 'age_seconds' || sharedValues.has(timestampField));
  const group = (keep: (f: FieldSpec) => boolean, rowNames: readonly string[] = [], sharedInputs: string[] = []): FieldGroup | undefined => {
    const slots = manifest.input.fields.flatMap((f, j) => (keep(f) ? [j] : []));
    if (!slots.length) return undefined;
    return {
      vectorizer: compileVectorizer({ ...manifest.input, fields: slots.map((j) => manifest.input.fields[j]) }),
      slots: Int32Array.from(slots),
      scratch: { row: rowOf([...rowNames, ...sharedInputs]), indices: new Int32Array(slots.length), values: new Float32Array(slots.length) },
      sharedInputs,
    };
  };
  // A field reading only one view's features and join keys (the ad's CTR bucket, the ad id itself; no other
  // request value, no request time) depends on that entity alone. For views whose entities are not cached (whose
  // entity slots are computed per request anyway), also a field reading request-level values besides (the query's
  // category crossed with the ad's category: once per user × category entity rather than once per candidate).
  const entityInputs = new Map(views.map((v) => [v, new Set([...v.columns, ...v.keyNames])]));
  const reads = (v: ViewPlan, f: FieldSpec) => f.inputs.some((i) => entityInputs.get(v)!.has(i));
  const entityView = (f: FieldSpec): ViewPlan | undefined => {
    if (isShared(f) || f.derive === 'age_seconds') return undefined;
    return (
      views.find((v) => f.inputs.every((i) => entityInputs.get(v)!.has(i))) ??
      views.find((v) => !v.cached && reads(v, f) && f.inputs.every((i) => entityInputs.get(v)!.has(i) || sharedValues.has(i)))
    );
  };
  const isCandidate = (f: FieldSpec) => !isShared(f) && !entityView(f);
  const candidateReads = new Set(manifest.input.fields.filter(isCandidate).flatMap((f) => f.inputs));
  for (const v of views) {
    const own = manifest.input.fields.filter((f) => entityView(f) === v);
    const sharedInputs = [...new Set(own.flatMap((f) => f.inputs.filter((i) => !entityInputs.get(v)!.has(i))))];
    v.fields = group((f) => entityView(f) === v, [...v.columns, ...v.keyNames], sharedInputs);
    v.candidateRead = Int32Array.from(v.columns.flatMap((c, i) => (candidateReads.has(c) ? [i] : [])));
    v.termed = v.cached && v.fields !== undefined && v.candidateRead.length === 0 && v.keyNames.length === 1;
  }
  const termSlots = Int32Array.from(views.flatMap((v) => (v.termed ? [...v.fields!.slots] : [])));
  // Only for an engine that uses terms (the built-in LR kernel; not FM, not onnxruntime): rows whose terms are known
  // do not get those slots written (see CachePartition.writeSlots), which an engine ignoring terms would read.
  if (termSlots.length && !(await takesTerms(engine, manifest.model.width, termSlots))) for (const v of views) v.termed = false;

  const candidateNames = requestInputs.filter((n) => candidateReads.has(n) && scopeOf.get(n) === 'candidate');
  const sharedFields = group(isShared);
  const sharedSlots = sharedFields?.slots;

  return {
    manifest,
    info: {
      name: manifest.name,
      id: bundle.id,
      family: manifest.model.family,
      backend: engine.info.backend,
      mode: engine.info.mode,
      project: manifest.project,
      createdAt: manifest.createdAt,
    },
    engine,
    vectorizer,
    sharedFields,
    termSlots: views.some((v) => v.termed) ? termSlots : undefined,
    sharedOnce: sharedSlots !== undefined && (await readsFirstRowOnly(engine, manifest.model.width, sharedSlots)),
    candidateFields: group(isCandidate),
    candidateInputs: requestInputs.filter((n) => candidateReads.has(n)).map((name) => ({ name, scope: scopeOf.get(name) })),
    candidateNames,
    candidateColumns: Int32Array.from(candidateNames, columnOf),
    undeclaredNames: requestInputs.filter((n) => candidateReads.has(n) && !scopeOf.has(n)),
    candidateReadsTs: manifest.input.fields.some((f) => isCandidate(f) && (f.inputs.includes(timestampField) || f.derive === 'age_seconds')),
    views,
    requestInputs,
    requestInputScopes: requestInputs.map((n) => scopeOf.get(n)),
    scopeOf,
    checks,
    timestampField,
    candidateIdField: views.flatMap((v) => v.keyNames).find((k) => scopeOf.get(k) === 'candidate'),
    pool: [],
    inflight: 0,
    retired: false,
  };
}

/** Whether `engine` writes terms where it is given NaN (see EngineTerms), tried on one row of index-0 slots. */
async function takesTerms(engine: ModelEngine, width: number, positions: Int32Array): Promise<boolean> {
  const values = new Float32Array(width).fill(NaN);
  try {
    await engine.run(new Int32Array(width), new Float32Array(width), 1, new Float32Array(1), undefined, { positions, values });
  } catch {
    // Whatever the reason, the scorer's requests will say it: here, only no terms.
    return false;
  }
  return !Number.isNaN(values[positions[0]]);
}

/**
 * Whether `engine` reads `shared` positions from the first row only: tried on two rows whose second holds NaN values
 * there (an engine reading them would answer NaN for it).
 */
async function readsFirstRowOnly(engine: ModelEngine, width: number, shared: Int32Array): Promise<boolean> {
  const values = new Float32Array(2 * width);
  for (let t = 0; t < shared.length; t++) values[width + shared[t]] = NaN;
  const out = new Float32Array(2);
  try {
    await engine.run(new Int32Array(2 * width), values, 2, out, shared);
  } catch {
    return false;
  }
  return Number.isFinite(out[1]);
}
