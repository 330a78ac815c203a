/**
 * `createScorer`: load a bundle, read online features, compute the model input exactly as training did, score.
 *
 * Per request: validate against the bundle's request fields; collect every entity of every view (the user, each
 * candidate ad, its advertiser, user × category, …), deduplicated; serve what the entity cache holds; read the rest
 * in ONE store round trip, bounded by the request's deadline; apply TTLs and defaults (training's rules); assemble
 * each candidate's row and vectorise it; run the engine on all candidates at once.
 *
 * A store outage or a missed deadline never throws (unless `strict`): the affected features take their training
 * defaults and the result lists them with the reason. Bad requests throw an InputError naming the field.
 */
import { BundleError, EngineError, InputError, LockstepError, StoreError } from '../errors.ts';
import { MANIFEST_FILE, sha256Hex } from '../bundle/verify.ts';
import type { EngineBackend } from '../engine/types.ts';
import type { FeatureRow } from '../online-format.ts';
import { withAbort } from '../store/transport.ts';
import type { OnlineStore, ReadRequest } from '../store/types.ts';
import { type BundleCache, type LoadedBundle, type ScorerBundle, loadBundle } from './bundle-loader.ts';
import { EntityCache, type EntityCacheOptions } from './entity-cache.ts';
import { type CachePolicy, type LoadedModel, cacheCandidateViews, loadModel } from './loaded-model.ts';
import { type ViewEntities, collectEntities, entityOf, rememberTerms } from './request-entities.ts';
import { assembleVectors, takeBuffers } from './row-assembly.ts';
import { resolveEntities } from './resolve-entities.ts';
import { checkRankInput, rankChecked } from './rank.ts';
import type {
  DefaultedReason,
  Fields,
  ModelInfo,
  RankOptions,
  RankResult,
  ScoreOptions,
  RecordRequest,
  ScoreRequest,
  ScoreResult,
} from './types.ts';
import { validateFields, validateShape } from './validate-request.ts';

export interface EntityCacheConfig extends EntityCacheOptions {
  /**
   * The views to cache, by name.
   * @default the views keyed only by candidate fields (ads, advertisers): shared across users, slow-changing
   */
  views?: readonly string[];
}

export interface CreateScorerOptions {
  /** The model bundle: files in memory, a reader, a verified bundle, or a URL (a folder path in `@lockstep/sdk/node`). */
  bundle: ScorerBundle;
  /** The online store to read features from (MemoryStore, ValkeyStore, UpstashStore, …). */
  store: OnlineStore;
  /**
   * Per-request deadline on the store read (ms from the call's start). What has not arrived by then takes its
   * training default (reason `'deadline'`). `Infinity`: no deadline.
   * @default 5
   */
  deadlineMs?: number;
  /**
   * Throw a StoreError from `score()` on a store failure or a missed deadline, instead of degrading to defaults.
   * @default false
   */
  strict?: boolean;
  /**
   * The in-process cache of stored rows; `false` turns it off.
   * @default { maxStalenessMs: 60000, maxEntries: 100000 } for views keyed only by candidate fields
   */
  entityCache?: EntityCacheConfig | false;
  /**
   * Model engines to try, in order (registered names or backends).
   * @default the registry: the built-in evaluator, then whatever is registered (onnxruntime-web in Node)
   */
  engines?: ReadonlyArray<string | EngineBackend>;
  /**
   * Requests with more candidates are refused (InputError): a bound on one request's latency and memory.
   * @default 1000
   */
  maxCandidates?: number;
  /** The clock (epoch ms): request time when the context has none, and the entity cache's staleness. @default Date.now */
  now?: () => number;
  /** fetch for URL bundles. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** A cache of fetched bundles keyed by manifest checksum (the browser entry passes IndexedDB). */
  bundleCache?: BundleCache;
  /** How bundles are loaded (platform entries extend it, e.g. with folder paths). @default {@link loadBundle} */
  loadBundle?: (bundle: ScorerBundle) => Promise<LoadedBundle>;
}

export interface WatchOptions {
  /**
   * Where the serving bundle is published: a URL (each check fetches only manifest.json and compares its
   * checksum with the current model's), or a function returning the bundle to serve (undefined: no change), e.g.
   * one that resolves a registry alias to a bundle folder.
   */
  source: string | URL | (() => Promise<ScorerBundle | undefined>);
  /** How often to check (ms). @default 30000 */
  intervalMs?: number;
  /** Called after each swap. */
  onSwap?: (info: ModelInfo) => void;
  /** Called when a check fails or a new bundle is refused (the current model keeps serving). */
  onError?: (error: unknown) => void;
}

/** A running watch. */
export interface BundleWatch {
  /** Checks now; resolves to the new model's info after a swap, undefined otherwise. */
  check(): Promise<ModelInfo | undefined>;
  stop(): void;
}

/** A loaded scorer. Safe to share across concurrent requests. */
export interface Scorer {
  /** The model currently answering. */
  readonly model: ModelInfo;
  /** Click probability per candidate. Throws InputError for a request that does not fit the bundle. */
  score<U extends object, C extends object, A extends object>(request: ScoreRequest<U, C, A>, options?: ScoreOptions): Promise<ScoreResult>;
  /** Candidates by expected value (pCTR × bid) above the reserve, with second prices. */
  rank<U extends object, C extends object, A extends object>(request: ScoreRequest<U, C, A>, options?: RankOptions): Promise<RankResult<A>>;
  /**
   * Replaces the model atomically between requests. The new bundle is verified and compiled first: if that fails
   * this rejects and the current model keeps serving. Requests already running finish on the model they started with.
   */
  swap(bundle: ScorerBundle): Promise<ModelInfo>;
  /** The entity cache (undefined when off): size, hit and miss counts, and `clear()`. */
  readonly cache: EntityCache | undefined;
  /**
   * Follows a bundle source and swaps whenever it changes (e.g. when a registry alias such as `champion` moves).
   * A bundle that fails to load or verify is refused (reported to `onError`) and the current model keeps serving.
   */
  watch(options: WatchOptions): BundleWatch;
  /** Opens the store connection and loads its publication pointer, so the first request does not pay for it. */
  warmup(): Promise<void>;
  /** Frees the engine. The store is the caller's to close. */
  close(): Promise<void>;
}

/** Loads and verifies the bundle, compiles it, and returns a scorer. */
export async function createScorer(options: CreateScorerOptions): Promise<Scorer> {
  const load = options.loadBundle ?? ((b: ScorerBundle) => loadBundle(b, { fetch: options.fetch, cache: options.bundleCache }));
  const cacheConfig = options.entityCache === undefined ? {} : options.entityCache;
  const policy: CachePolicy = !cacheConfig
    ? () => false
    : cacheConfig.views
      ? (view) => cacheConfig.views!.includes(view.name)
      : cacheCandidateViews;
  const cache = cacheConfig ? new EntityCache(cacheConfig) : undefined;
  const build = async (bundle: LoadedBundle) => {
    const model = await loadModel(bundle, { backends: options.engines }, policy);
    for (const v of model.views) if (v.cached && cache) v.cache = cache.partition(v.cacheId);
    return model;
  };
  const model = await build(await load(options.bundle));
  return new ScorerImpl(options, model, load, build, cache);
}

const NO_CONTEXT: Fields = Object.freeze({});

/**
 * The options a scorer and each call share. A deadline that is not a number (NaN, '5') used to mean no deadline
 * at all, and a strict flag that was not a boolean counted as true.
 */
function checkCallOptions(options: { deadlineMs?: unknown; strict?: unknown }): void {
  const { deadlineMs, strict } = options;
  if (deadlineMs !== undefined && !(typeof deadlineMs === 'number' && deadlineMs >= 0)) {
    throw new InputError(`deadlineMs must be a number of milliseconds ≥ 0 (Infinity: no deadline), got ${String(deadlineMs)}`, 'deadlineMs');
  }
  if (strict !== undefined && typeof strict !== 'boolean') throw new InputError(`strict must be true or false, got ${String(strict)}`, 'strict');
}

class ScorerImpl implements Scorer {
  readonly cache: EntityCache | undefined;
  readonly #store: OnlineStore;
  readonly #deadlineMs: number;
  readonly #strict: boolean;
  readonly #maxCandidates: number;
  readonly #now: () => number;
  readonly #load: (b: ScorerBundle) => Promise<LoadedBundle>;
  readonly #build: (b: LoadedBundle) => Promise<LoadedModel>;
  readonly #fetch: typeof fetch | undefined;
  #current: LoadedModel;
  #swaps: Promise<unknown> = Promise.resolve();
  /** Requests started: marks entity-cache entries met by the current request. */
  #requests = 0;
  #closed = false;

  constructor(
    options: CreateScorerOptions,
    model: LoadedModel,
    load: (b: ScorerBundle) => Promise<LoadedBundle>,
    build: (b: LoadedBundle) => Promise<LoadedModel>,
    cache: EntityCache | undefined,
  ) {
    this.#store = options.store;
    checkCallOptions(options);
    if (options.maxCandidates !== undefined && !(Number.isInteger(options.maxCandidates) && options.maxCandidates >= 1)) {
      throw new InputError(`maxCandidates must be an integer ≥ 1, got ${String(options.maxCandidates)}`, 'maxCandidates');
    }
    this.#deadlineMs = options.deadlineMs ?? 5;
    this.#strict = options.strict ?? false;
    this.#maxCandidates = options.maxCandidates ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#load = load;
    this.#build = build;
    this.#fetch = options.fetch;
    this.#current = model;
    this.cache = cache;
  }

  get model(): ModelInfo {
    return this.#current.info;
  }

  async score<U extends object, C extends object, A extends object>(request: ScoreRequest<U, C, A>, options: ScoreOptions = {}): Promise<ScoreResult> {
    if (options.deadlineMs !== undefined || options.strict !== undefined) checkCallOptions(options);
    if (this.#closed) throw new EngineError('the scorer is closed');
    const m = this.#current;
    m.inflight++;
    try {
      return await this.#score(m, request as unknown as RecordRequest, options);
    } finally {
      if (--m.inflight === 0 && m.retired) void m.engine.dispose();
    }
  }

  async #score(m: LoadedModel, req: RecordRequest, options: ScoreOptions): Promise<ScoreResult> {
    const t0 = performance.now();
    // The request's shape first (the buffers are sized by its candidates), then its fields into the buffers.
    validateShape(req, this.#maxCandidates);
    const width = m.vectorizer.width;
    const buf = takeBuffers(m, req.candidates.length, width);
    try {
      validateFields(m, req, buf.columns);
      const user = req.user;
      const ctx = req.context ?? NO_CONTEXT;
      const cands = req.candidates;
      const n = cands.length;
      const now = this.#now();
      const tsRaw = ctx[m.timestampField];
      const ts = tsRaw === undefined ? now : tsRaw instanceof Date ? tsRaw.getTime() : (tsRaw as number);

      // 1. Every entity of every view, deduplicated, served from the cache where possible.
      const mark = ++this.#requests;
      const entities = buf.entities;
      // Debug output lists every entity of every candidate: no shortcut then.
      const direct = options.debug ? undefined : { indices: buf.indices, values: buf.values, width, ts, terms: buf.terms?.values };
      const requests: ReadRequest[] = [];
      const pending: Array<{ view: number; slots: number[] }> = [];
      for (let v = 0; v < m.views.length; v++) {
        const e = entities[v];
        collectEntities(m.views[v], mark, now, user, ctx, cands, e, direct, buf.columns);
        if (!e.misses.length) continue;
        requests.push({ view: m.views[v].spec, entities: e.misses.map((k) => entityOf(e, k)) });
        pending.push({ view: v, slots: e.misses });
      }

      // 2. One store round trip for everything else, bounded by the deadline.
      let storeMs = 0;
      if (requests.length) {
        const t1 = performance.now();
        const failure = await this.#read(m, requests, pending, entities, options, t0, now);
        storeMs = performance.now() - t1;
        if (failure) {
          for (const p of pending) for (const k of p.slots) (entities[p.view].failed ??= [])[k] = failure;
        }
      }

      // 3. TTLs and defaults, then rows, vectors and scores.
      const resolved = resolveEntities(m, buf, ts);
      const debugRows: Array<Record<string, unknown>> | undefined = options.debug ? [] : undefined;
      assembleVectors(m, { user, ctx, cands, ts, debugRows }, buf);
      if (n > 0) {
        // The shared fields' slots are the same in every row: the engine may read them once.
        // And the cached ads' terms are known from earlier requests (their records hold them): no weight reads there.
        const pending = m.engine.run(buf.indices, buf.values, n, buf.out, m.sharedFields?.slots, buf.terms);
        if (pending) await pending;
        if (buf.terms) for (let v = 0; v < m.views.length; v++) rememberTerms(m.views[v], entities[v], buf.indices, buf.values, buf.terms.values, width);
      }
      const scores = new Array<number>(n);
      for (let r = 0; r < n; r++) scores[r] = buf.out[r];
      const result: ScoreResult = {
        scores,
        defaulted: resolved.defaulted,
        degraded: resolved.degraded,
        model: m.info,
        ts,
        timing: { store: storeMs, total: performance.now() - t0 },
      };
      if (debugRows) {
        result.debug = {
          rows: debugRows,
          indices: buf.indices.slice(0, n * width),
          values: buf.values.slice(0, n * width),
          width,
        };
      }
      return result;
    } finally {
      m.pool.push(buf);
    }
  }

  /** Reads the missing rows; returns the reason they could not be read, or undefined when they were. */
  async #read(
    m: LoadedModel,
    requests: ReadRequest[],
    pending: Array<{ view: number; slots: number[] }>,
    entities: ViewEntities[],
    options: ScoreOptions,
    t0: number,
    now: number,
  ): Promise<DefaultedReason | undefined> {
    const deadlineMs = options.deadlineMs ?? this.#deadlineMs;
    const strict = options.strict ?? this.#strict;
    // No deadline and no caller signal: nothing to abort, so no controller, timer or listener on the hot path.
    const controller = Number.isFinite(deadlineMs) || options.signal ? new AbortController() : undefined;
    const remaining = deadlineMs - (performance.now() - t0);
    const timer = controller && Number.isFinite(deadlineMs) ? setTimeout(() => controller.abort(new Error('deadline')), Math.max(0, remaining)) : undefined;
    const onCancel = () => controller?.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onCancel, { once: true });
    if (options.signal?.aborted) controller?.abort(options.signal.reason);

    const read = this.#store.readRows(requests, { project: m.manifest.project, signal: controller?.signal });
    try {
      this.#remember(m, pending, entities, await withAbort(read, controller?.signal), now);
      return undefined;
    } catch (err) {
      const deadline = controller?.signal.aborted === true;
      if (deadline) {
        // A late answer still warms the entity cache for the next requests. The request's entity lists are reused
        // once it returns: the keys to cache are copied now.
        const late = pending.map(({ view, slots }) => ({ cache: m.views[view].cache, keys: slots.map((k) => entities[view].cacheKeys[k]!) }));
        read.then((rows) => {
          for (let i = 0; i < late.length; i++) for (let j = 0; j < late[i].keys.length; j++) late[i].cache?.set(late[i].keys[j], rows[i][j], now);
        }, () => {});
      }
      if (strict) {
        throw err instanceof LockstepError ? err : new StoreError(`online store read failed: ${(err as Error)?.message ?? err}`, { cause: err });
      }
      return deadline ? 'deadline' : 'store_error';
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onCancel);
    }
  }

  /** Puts read rows into the request and into the cache (cached views). */
  #remember(m: LoadedModel, pending: Array<{ view: number; slots: number[] }>, entities: ViewEntities[], rows: Array<Array<FeatureRow | undefined>>, now: number): void {
    for (let i = 0; i < pending.length; i++) {
      const { view, slots } = pending[i];
      const e = entities[view];
      const cache = m.views[view].cache;
      for (let j = 0; j < slots.length; j++) {
        const k = slots[j];
        e.rows[k] = rows[i][j];
        cache?.set(e.cacheKeys[k]!, rows[i][j], now);
      }
    }
  }

  async rank<U extends object, C extends object, A extends object>(request: ScoreRequest<U, C, A>, options: RankOptions = {}): Promise<RankResult<A>> {
    const model = this.#current;
    const auction = {
      // A request that is not even an object is score()'s to refuse, with its message.
      candidates: (request as ScoreRequest<U, C, A> | null)?.candidates,
      bidField: options.bidField ?? 'bid',
      idField: options.idField ?? model.candidateIdField ?? 'id',
      reserve: options.reserve ?? 0,
      limit: options.limit ?? Infinity,
    };
    // Before the store is read: an auction that cannot run costs nothing.
    if (Array.isArray(auction.candidates)) checkRankInput({ ...auction, candidates: auction.candidates });
    const result = await this.score(request, options);
    const { ranked, belowReserve } = rankChecked({ ...auction, candidates: request.candidates, scores: result.scores });
    return { ...result, ranked, belowReserve };
  }

  swap(bundle: ScorerBundle): Promise<ModelInfo> {
    // Swaps run one at a time, in call order: the last swap called is the model left serving.
    const next = this.#swaps.then(async () => {
      if (this.#closed) throw new EngineError('the scorer is closed');
      const loaded = await this.#load(bundle);
      // The same bundle again (an alias that did not move): nothing to do.
      if (loaded.id === this.#current.info.id) return this.#current.info;
      const model = await this.#build(loaded);
      const previous = this.#current;
      this.#current = model;
      previous.retired = true;
      if (previous.inflight === 0) await previous.engine.dispose();
      return model.info;
    });
    this.#swaps = next.catch(() => {});
    return next;
  }

  watch(options: WatchOptions): BundleWatch {
    const source = options.source;
    const check = async (): Promise<ModelInfo | undefined> => {
      try {
        let bundle: ScorerBundle | undefined;
        if (typeof source === 'function') bundle = await source();
        else {
          // Only manifest.json is fetched to see whether the bundle changed; the model follows only if it did.
          const url = String(source);
          const manifestUrl = url.endsWith('/') ? `${url}${MANIFEST_FILE}` : url;
          const res = await (this.#fetch ?? globalThis.fetch)(manifestUrl);
          if (!res.ok) throw new BundleError('BUNDLE_INVALID', `fetching ${manifestUrl} answered ${res.status}`);
          if ((await sha256Hex(new Uint8Array(await res.arrayBuffer()))) !== this.#current.info.id) bundle = url;
        }
        if (bundle === undefined) return undefined;
        const before = this.#current.info.id;
        const info = await this.swap(bundle);
        if (info.id === before) return undefined;
        options.onSwap?.(info);
        return info;
      } catch (err) {
        // A bundle that cannot be fetched or fails verification is refused; the current model keeps serving.
        options.onError?.(err);
        return undefined;
      }
    };
    const timer = setInterval(() => void check(), options.intervalMs ?? 30_000);
    // In Node, a watch alone must not keep the process alive.
    (timer as { unref?: () => void }).unref?.();
    return { check, stop: () => clearInterval(timer) };
  }

  async warmup(): Promise<void> {
    const m = this.#current;
    await this.#store.readRows(m.views.map((v) => ({ view: v.spec, entities: [] })), { project: m.manifest.project });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#swaps;
    this.#current.retired = true;
    if (this.#current.inflight === 0) await this.#current.engine.dispose();
  }
}
