/**
 * The online store contract (Feast's `OnlineStore`, made small): read the rows of many entities of many views in
 * one round trip, write batches of rows under a snapshot version, publish versions atomically.
 * The format it reads and writes is in `online-format.ts` (spec: docs/online-format.md).
 *
 * @module
 */
import type { FeatureRow, KeyPart } from '../online-format.ts';
import type { FeatureViewSpec } from '../spec/feature-view.ts';

/** The parts of a view a reader needs: its key parts and its width. */
export type StoreView = Pick<FeatureViewSpec, 'name' | 'schemaHash' | 'features'>;

/** One view's entities to read. */
export interface ReadRequest {
  view: StoreView;
  /** Join-key values per entity, in the order of the view's join keys (e.g. `[[42], [43]]`). */
  entities: ReadonlyArray<readonly KeyPart[]>;
}

/** Options of {@link OnlineStore.readRows}. */
export interface ReadOptions {
  /** The feature repo project: the first part of every key. */
  project: string;
  /**
   * Stop waiting when this signal aborts (the scorer's per-request deadline): the call rejects with a StoreError
   * whose code is `STORE_TIMEOUT`.
   * @default no deadline
   */
  signal?: AbortSignal;
}

/** One row to write. */
export interface WriteRow {
  entity: readonly KeyPart[];
  /** When the row's values were computed (epoch ms). */
  eventTimeMs: number;
  /** The view's features in spec order; null, undefined and non-finite numbers are written as null. */
  values: ReadonlyArray<number | null | undefined>;
}

/** How keys expire (readers enforce the TTL anyway; expiry frees memory). */
export interface KeyExpiry {
  /**
   * The time the snapshot describes (epoch ms). A key lives for what is left of its TTL at `asOfMs`
   * (event time + TTL − asOf), counted from now, plus `slackMs`. Rows already expired at `asOfMs` are not written.
   * In production `asOfMs` is now, so a key expires at its event time + TTL (+ slack); replaying a past as-of
   * keeps its keys alive for the TTL they had then.
   * @default Date.now()
   */
  asOfMs?: number;
  /**
   * Extra life for every key, so that a server clock ahead of the readers' never drops a row readers still
   * consider fresh.
   * @default 900000 (15 minutes)
   */
  slackMs?: number;
}

/** Options of {@link OnlineStore.writeRows}. */
export interface WriteOptions {
  project: string;
  /** The snapshot version to write into (from {@link OnlineStoreCore.allocateVersion} or the published one). */
  version: number;
  /**
   * Compare in the server and skip a row when the stored one has a newer event time (incremental writes into a
   * published version). Off, rows overwrite (a fresh version has nothing to compare with, and skipping the
   * read of the stored value makes the write cheaper).
   * @default false
   */
  ifNewer?: boolean;
  /**
   * Key expiry; `false` writes keys that never expire (readers still enforce the TTL).
   * @default { asOfMs: Date.now(), slackMs: 900000 }
   */
  keyExpiry?: KeyExpiry | false;
  /** @default no deadline */
  signal?: AbortSignal;
}

/** What a write did. */
export interface WriteResult {
  /** Rows written. */
  written: number;
  /** Rows not written because the stored row was newer (`ifNewer`). */
  keptNewer: number;
  /** Rows not written because they were already expired at `keyExpiry.asOfMs`. */
  expired: number;
}

/** The progress mark stored with each published view (`ls:<project>:_watermark:<view>:<hash>`). */
export interface Watermark {
  /** The version published. */
  version: number;
  /** The snapshot's as-of time (epoch ms): rows with event time ≤ this were considered. Incremental runs continue from here. */
  asOfMs: number;
  /** The newest event time written, if any row was. */
  maxEventTimeMs?: number;
  /** Rows written by the run that set this mark. */
  rows?: number;
  /** 'full' (a new version) or 'incremental' (into the published one). */
  mode?: 'full' | 'incremental';
  /** Wall-clock time of the publication (epoch ms). */
  publishedAtMs?: number;
}

/** One view to publish. */
export interface PublishEntry {
  view: Pick<FeatureViewSpec, 'name' | 'schemaHash'>;
  version: number;
  watermark: Watermark;
}

/** Options of {@link OnlineStore.publish}. */
export interface PublishOptions {
  project: string;
  /**
   * Publish even when a view's published watermark has a later as-of than this one (a deliberate roll-back).
   * Without it such a publication is refused with a StoreError: an older snapshot never replaces a newer one.
   * @default false
   */
  force?: boolean;
  /**
   * Publish only while this writer holds the project's materialization lock (fencing: a writer that stalled past
   * its lock must not publish over the one that took over).
   * @default no lock check
   */
  lockOwner?: string;
  /** @default no deadline */
  signal?: AbortSignal;
}

/** What a publication replaced. */
export interface PublishResult {
  /** The pointer before the flip: `{"<view>:<schemaHash>": version}` for every view of the project. */
  previous: Record<string, number>;
  /** The pointer after the flip. */
  current: Record<string, number>;
}

/** The online store: what the scorer reads through and materialization writes through. */
export interface OnlineStore {
  /**
   * Read the rows of every entity of every request in one round trip. The result has one array per request, one
   * entry per entity, `undefined` where the published snapshot has no row (or the view is not published).
   * Rows are returned as stored: apply TTL and defaults with {@link resolveFeatures}.
   * Rows are read-only: a store may answer the same row object to every read of an unchanged key (MemoryStore
   * does, from its decoded rows), so a caller that wants to change one copies it first.
   * Every view's rows come from one published version, read atomically with the publication pointer: a reader
   * sees the old snapshot or the new one, never a mix.
   */
  readRows(requests: readonly ReadRequest[], options: ReadOptions): Promise<Array<Array<FeatureRow | undefined>>>;
  /** Write rows of one view under a snapshot version (pipelined; one round trip per call). */
  writeRows(view: Pick<FeatureViewSpec, 'name' | 'schemaHash' | 'ttlSeconds'>, rows: readonly WriteRow[], options: WriteOptions): Promise<WriteResult>;
  /** Make versions visible: one atomic flip of the project's publication pointer (and the views' watermarks). */
  publish(entries: readonly PublishEntry[], options: PublishOptions): Promise<PublishResult>;
  /** Release connections. */
  close(): Promise<void>;
}
