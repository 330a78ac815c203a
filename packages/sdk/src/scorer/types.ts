/**
 * Public types of the scorer: requests, results, options.
 *
 * A request names one user, the request context and the candidate ads. Every field the model reads comes from one
 * of them, or from the online store (`<view>__<feature>` columns): the scorer assembles, per candidate, the same
 * row the training set has for an impression, `{...user, ...context, ...candidate, ts, <view>__<feature>…}`.
 */
import type { KeyPart } from '../online-format.ts';
import type { DefaultReason } from '../store/resolve-features.ts';

/**
 * A bag of named request values. Requests may use any object types (interfaces included): the generic parameters
 * of {@link ScoreRequest} only carry the caller's own types through to `rank()`'s result.
 */
export type Fields = Readonly<Record<string, unknown>>;

/** A request with its values seen as plain records (how the scorer reads them). */
export type RecordRequest = ScoreRequest<Fields, Fields, Fields>;

/** One scoring request. */
export interface ScoreRequest<U extends object = object, C extends object = object, A extends object = object> {
  /** The user's fields, e.g. `{ user_id: 42 }`. */
  user: U;
  /**
   * Request context, e.g. `{ ts, device, query_category }`. `ts` (the model's timestamp field) is the request
   * time in epoch ms; without it the scorer's clock is used.
   * @default {}
   */
  context?: C;
  /** The candidate ads, e.g. `[{ ad_id: 7, advertiser_id: 3, category: 'shoes', bid: 0.4 }, …]`. */
  candidates: readonly A[];
}

/** Why a feature took its training default instead of a stored value. */
export type DefaultedReason =
  | DefaultReason
  /** The store had not answered when the request's deadline passed. */
  | 'deadline'
  /** The store call failed (connection refused, server error, …). */
  | 'store_error';

/** Features of one entity of one view that took their defaults, and why. */
export interface DefaultedFeatures {
  view: string;
  /** The entity's join-key values, e.g. `[42]` or `[42, 'shoes']`. */
  entity: KeyPart[];
  reason: DefaultedReason;
  /** The features (names within the view) that took their defaults. */
  features: string[];
}

/** Per-call options of `score()` and `rank()`. */
export interface ScoreOptions {
  /**
   * How long to wait for the store, from the call's start (ms). Features not read by then take their defaults
   * (reason `'deadline'`). `Infinity` waits for the store without a deadline.
   * @default the scorer's `deadlineMs`
   */
  deadlineMs?: number;
  /**
   * Throw instead of degrading: a store failure or a missed deadline rejects with a StoreError.
   * @default the scorer's `strict`
   */
  strict?: boolean;
  /** Cancels the store wait (as a deadline would). */
  signal?: AbortSignal;
  /** Return the assembled rows and input vectors too (consistency checks, debugging). @default false */
  debug?: boolean;
}

/** The model that answered. */
export interface ModelInfo {
  /** The bundle's model name, e.g. 'ads-ctr'. */
  name: string;
  /** sha256 (hex) of the bundle's manifest.json: identifies the bundle, and keys the browser's bundle cache. */
  id: string;
  family: 'lr' | 'fm';
  /** The engine that runs it, e.g. 'builtin' / 'fused-fm'. */
  backend: string;
  mode: string;
  /** Feature repo project. */
  project: string;
  /** The bundle's creation time (ISO-8601). */
  createdAt: string;
}

/** The result of `score()`. */
export interface ScoreResult {
  /** Click probability per candidate, in request order. */
  scores: number[];
  /** Every entity/view whose features took defaults, with the reason. Empty when everything was read fresh. */
  defaulted: DefaultedFeatures[];
  /** True when a store failure or the deadline forced defaults (scores are degraded, not wrong). */
  degraded: boolean;
  /** The model that answered (the one current when the request started, even if a swap happened since). */
  model: ModelInfo;
  /** The request time used (epoch ms). */
  ts: number;
  /** Where the time went (ms). */
  timing: { store: number; total: number };
  /** Only with `debug: true`: per candidate, the assembled row and its input vector. */
  debug?: { rows: Array<Record<string, unknown>>; indices: Int32Array; values: Float32Array; width: number };
}

/** Options of `rank()`. */
export interface RankOptions extends ScoreOptions {
  /**
   * The candidate field holding the advertiser's bid (cost per click).
   * @default 'bid'
   */
  bidField?: string;
  /**
   * The candidate field that identifies a candidate, for deterministic tie-breaking (ascending).
   * @default the first candidate-scoped join key of the bundle, else 'id'
   */
  idField?: string;
  /**
   * Reserve price on expected value (pCTR × bid, the cost per impression the auction would earn): candidates
   * below it are not ranked.
   * @default 0
   */
  reserve?: number;
  /** Keep at most this many winners (ad slots). @default all */
  limit?: number;
}

/** One ranked candidate. */
export interface RankedCandidate<A extends object = object> {
  /** Position of the candidate in the request. */
  index: number;
  candidate: A;
  /** Predicted click probability. */
  pctr: number;
  bid: number;
  /** pctr × bid. */
  expectedValue: number;
  /**
   * Generalised second price per click: the least bid that keeps this rank, i.e. max(next expected value, reserve)
   * / pctr, never above the bid.
   */
  price: number;
}

/** The result of `rank()`: winners by descending expected value, and the score result it came from. */
export interface RankResult<A extends object = object> extends ScoreResult {
  ranked: Array<RankedCandidate<A>>;
  /** Candidates dropped for an expected value below the reserve price (or a missing or invalid bid). */
  belowReserve: number;
}
