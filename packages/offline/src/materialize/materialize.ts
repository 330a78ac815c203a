/**
 * Materialization: push the latest feature values into the online store (protocol: docs/online-format.md).
 *
 * Full run: take the project's lock, write every view's rows under a NEW version (pipelined batches, several in
 * flight), flip the publication pointer once for all views (readers see the old snapshot or the new one, never
 * a mix, even if this process is killed at any point), then delete versions older than the previous one.
 * Incremental run: write, into the published version, only entities whose latest row is newer than the view's
 * watermark, comparing event times in the server so an older row never replaces a newer one; then advance the
 * watermark. Both are idempotent: running again with the same input publishes the same values.
 *
 * @module
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  InputError,
  StoreError,
  pointerField,
  type FeatureViewSpec,
  type OnlineStoreCore,
  type PublishEntry,
  type WriteRow,
} from '@lockstep/sdk';
import type { MaterializationSource, RowRange } from './source.ts';

/** Options for {@link materialize}. */
export interface MaterializeOptions {
  /** The online store to write to (ValkeyStore, UpstashStore or MemoryStore). */
  store: OnlineStoreCore;
  /** The feature repo project: the first part of every key. */
  project: string;
  /** The views to materialize (their serving specs). */
  views: readonly FeatureViewSpec[];
  source: MaterializationSource;
  /**
   * The snapshot time: per entity the latest row with event time ≤ this is written.
   * @default Date.now()
   */
  asOfMs?: number;
  /**
   * Write only entities changed since each view's watermark into the published version (views must have been
   * published by a full run first).
   * @default false
   */
  incremental?: boolean;
  /**
   * Rows per pipelined write (one round trip each).
   * @default 2000
   */
  batchRows?: number;
  /**
   * Writes in flight at once.
   * @default 4
   */
  concurrency?: number;
  /**
   * Give keys an expiry (event time + the view's TTL, counted from `asOfMs`, plus `expirySlackMs`). Readers
   * enforce the TTL either way; expiry frees memory.
   * @default true
   */
  keyExpiry?: boolean;
  /** @default 900000 (15 minutes) */
  expirySlackMs?: number;
  /**
   * Publish even when the published snapshot has a later as-of (a deliberate roll-back).
   * @default false
   */
  force?: boolean;
  /**
   * How long the project's lock lives without being extended (it is extended every third of that while the run
   * is alive, so a killed run frees it after at most this long).
   * @default 30000
   */
  lockTtlMs?: number;
  /**
   * How long to wait for another run's lock before failing.
   * @default 0 (fail at once)
   */
  lockWaitMs?: number;
  /**
   * Delete versions older than the previous one after a full run.
   * @default true
   */
  cleanup?: boolean;
  /** Progress events (rows written per view), for a progress bar. */
  onProgress?: (event: MaterializeProgress) => void;
  /** Abort the run (the lock is released; nothing is published). */
  signal?: AbortSignal;
}

export interface MaterializeProgress {
  phase: 'count' | 'write' | 'publish' | 'cleanup' | 'done';
  view?: string;
  /** Rows handled so far, over all views. */
  rows: number;
  /** Rows expected over all views, when the source can count them. */
  total?: number;
}

export interface MaterializedView {
  view: string;
  schemaHash: string;
  /** The version written into (new for a full run, the published one for an incremental run). */
  version: number;
  /** The version published before this run, if any. */
  previousVersion?: number;
  /** Rows read from the source. */
  rows: number;
  written: number;
  /** Rows skipped because the stored row is newer (incremental). */
  keptNewer: number;
  /** Rows skipped because they were already expired at the as-of time. */
  expired: number;
  maxEventTimeMs?: number;
}

export interface MaterializeResult {
  project: string;
  mode: 'full' | 'incremental';
  asOfMs: number;
  views: MaterializedView[];
  /** Keys of old or abandoned versions deleted after publication. */
  deletedKeys: number;
  seconds: { write: number; publish: number; cleanup: number; total: number };
}

/** Materialize `views` from `source` into `store` (see the module comment for the protocol). */
export async function materialize(options: MaterializeOptions): Promise<MaterializeResult> {
  const { store, project, views, source } = options;
  if (views.length === 0) throw new InputError('nothing to materialize: no views given', 'views');
  const asOfMs = options.asOfMs ?? Date.now();
  if (!Number.isFinite(asOfMs)) throw new InputError(`as-of must be a time, got ${asOfMs}`, 'asOf');
  const mode = options.incremental ? 'incremental' : 'full';
  const batchRows = options.batchRows ?? 2000;
  // 0 (or a fraction) would never fill a batch: the whole view in one write, which a REST target refuses (413).
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new InputError(`batchRows must be a positive integer, got ${batchRows}`, 'batchRows');
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const lockTtlMs = options.lockTtlMs ?? 30_000;
  const started = performance.now();
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;

  // Everything below stops when the caller aborts or the lock is lost.
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  // Every write in flight listens to it (the lock keeper and the publication too): not a leak past 10.
  setMaxListeners(concurrency + 10, signal);

  await acquireLock(store, project, owner, lockTtlMs, options.lockWaitMs ?? 0, signal);
  let lockLost: StoreError | undefined;
  const keepAlive = setInterval(() => {
    store.extendLock(project, owner, lockTtlMs).then(
      (held) => {
        if (!held && !lockLost) {
          lockLost = new StoreError(`lost the materialization lock of project ${project} (expired or taken over): stopping`);
          controller.abort(lockLost);
        }
      },
      () => {}, // a failed extension is retried at the next tick; the lock outlives a few misses
    );
  }, Math.max(50, lockTtlMs / 3));
  keepAlive.unref?.();

  try {
    const published = await store.publishedVersions(project, signal);
    const targets: Array<{ view: FeatureViewSpec; version: number; range: RowRange; previous?: number; previousMax?: number }> = [];
    let newVersion = 0;
    for (const view of views) {
      const previous = published[pointerField(view)];
      const mark = await store.readWatermark(project, view, signal);
      // Checked again atomically at publication; failing here saves writing a snapshot that would be refused.
      if (mark && mark.asOfMs > asOfMs && !options.force) {
        throw new StoreError(
          `the published snapshot of ${view.name} in project ${project} is as of ${new Date(mark.asOfMs).toISOString()}, newer than ` +
            `${new Date(asOfMs).toISOString()}: materialize with a later as-of time, or force the roll-back (--force, force: true)`,
          { details: { view: view.name, publishedAsOfMs: mark.asOfMs, asOfMs } },
        );
      }
      if (mode === 'full') {
        targets.push({ view, version: newVersion, range: { asOfMs }, previous });
        continue;
      }
      if (previous === undefined) {
        throw new InputError(`view ${view.name} (schema ${view.schemaHash}) has never been published in project ${project}: run a full materialization first`, 'incremental');
      }
      const afterMs = mark?.asOfMs ?? Number.NEGATIVE_INFINITY;
      targets.push({ view, version: previous, range: { asOfMs, afterMs }, previous, previousMax: mark?.maxEventTimeMs });
    }

    if (mode === 'full') {
      newVersion = await store.allocateVersion(project, signal);
      for (const t of targets) t.version = newVersion;
    }

    let total: number | undefined = 0;
    options.onProgress?.({ phase: 'count', rows: 0 });
    for (const t of targets) {
      const n = await source.count?.(t.view, t.range);
      total = n === undefined || total === undefined ? undefined : total + n;
    }

    // Write.
    const writeStarted = performance.now();
    let done = 0;
    const results: MaterializedView[] = [];
    for (const t of targets) {
      const result: MaterializedView = {
        view: t.view.name,
        schemaHash: t.view.schemaHash,
        version: t.version,
        previousVersion: t.previous,
        rows: 0,
        written: 0,
        keptNewer: 0,
        expired: 0,
        maxEventTimeMs: t.previousMax,
      };
      results.push(result);
      const inFlight = new Set<Promise<void>>();
      let failure: unknown;
      const writeOptions = {
        project,
        version: t.version,
        ifNewer: mode === 'incremental',
        keyExpiry: options.keyExpiry === false ? (false as const) : { asOfMs, slackMs: options.expirySlackMs },
        signal,
      };
      const flush = (rows: WriteRow[]) => {
        const p = store.writeRows(t.view, rows, writeOptions).then(
          (r) => {
            result.written += r.written;
            result.keptNewer += r.keptNewer;
            result.expired += r.expired;
            done += rows.length;
            options.onProgress?.({ phase: 'write', view: t.view.name, rows: done, total });
          },
          (err: unknown) => {
            failure ??= err;
            controller.abort(err);
          },
        );
        const tracked = p.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      };
      let pending: WriteRow[] = [];
      for await (const batch of source.rows(t.view, t.range)) {
        for (const row of batch) {
          pending.push(row);
          result.rows++;
          if (result.maxEventTimeMs === undefined || row.eventTimeMs > result.maxEventTimeMs) result.maxEventTimeMs = row.eventTimeMs;
          if (pending.length === batchRows) {
            flush(pending);
            pending = [];
            while (inFlight.size >= concurrency) await Promise.race(inFlight);
            if (failure !== undefined || signal.aborted) break;
          }
        }
        if (failure !== undefined || signal.aborted) break;
      }
      if (pending.length && failure === undefined && !signal.aborted) flush(pending);
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure;
      if (signal.aborted) throw lockLost ?? abortReason(signal);
    }
    const writeSeconds = (performance.now() - writeStarted) / 1000;

    // Publish: one atomic flip for every view.
    const publishStarted = performance.now();
    options.onProgress?.({ phase: 'publish', rows: done, total });
    const publishedAtMs = Date.now();
    const entries: PublishEntry[] = results.map((r, i) => ({
      view: targets[i].view,
      version: r.version,
      watermark: {
        version: r.version,
        asOfMs,
        ...(r.maxEventTimeMs === undefined ? {} : { maxEventTimeMs: r.maxEventTimeMs }),
        rows: r.written,
        mode,
        publishedAtMs,
      },
    }));
    await store.publish(entries, { project, force: options.force, lockOwner: owner, signal });
    const publishSeconds = (performance.now() - publishStarted) / 1000;

    // Clean up: keep the new version and the previous one (readers that cached the old pointer still find it).
    const cleanupStarted = performance.now();
    let deletedKeys = 0;
    if (mode === 'full' && options.cleanup !== false) {
      options.onProgress?.({ phase: 'cleanup', rows: done, total });
      deletedKeys = await store.deleteVersions(
        project,
        targets.map((t) => ({ view: t.view, keep: t.previous === undefined ? [t.version] : [t.version, t.previous] })),
        { signal },
      );
    }
    options.onProgress?.({ phase: 'done', rows: done, total });
    const cleanupSeconds = (performance.now() - cleanupStarted) / 1000;
    return {
      project,
      mode,
      asOfMs,
      views: results,
      deletedKeys,
      seconds: { write: writeSeconds, publish: publishSeconds, cleanup: cleanupSeconds, total: (performance.now() - started) / 1000 },
    };
  } finally {
    clearInterval(keepAlive);
    options.signal?.removeEventListener('abort', onAbort);
    await store.releaseLock(project, owner).catch(() => {});
  }
}

async function acquireLock(store: OnlineStoreCore, project: string, owner: string, ttlMs: number, waitMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await store.tryLock(project, owner, ttlMs, signal)) return;
    if (Date.now() >= deadline) {
      const holder = await store.lockHolder(project, signal);
      throw new StoreError(
        `another materialization of project ${project} is running (lock held by ${holder ?? 'someone'}); ` +
          `wait for it (--wait-lock <ms>, lockWaitMs), or for its lock to expire (at most ${Math.round(ttlMs / 1000)} s after it died)`,
        { details: { holder } },
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(10, deadline - Date.now()))));
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new StoreError('materialization aborted', { cause: signal.reason });
}
