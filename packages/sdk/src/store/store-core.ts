/**
 * The one implementation of the online store over any {@link StoreTransport}: key building, value decoding,
 * publication, watermarks, the materialization lock and clean-up. `MemoryStore`, `ValkeyStore` and `UpstashStore`
 * are this class with a different transport.
 *
 * Reads: one `MGET` carries the publication pointer and every requested key. The pointer is cached per project
 * and the keys are built from the cached versions; because MGET is atomic, a reply whose pointer still names the
 * versions used is exactly the published snapshot at that instant. When the pointer moved (a publication since
 * the last read), the read is repeated once with the new versions. So there is no staleness window: a read never
 * returns a version that was not published when it ran, and costs one round trip except right after a flip
 * (two) and on the first read of a project (two: the pointer alone, then the keys).
 *
 * @module
 */
import { InputError, StoreError } from '../errors.ts';
import {
  decodeFeatureValue,
  decodePointer,
  encodeEntityKey,
  encodeFeatureValue,
  pointerField,
  pointerKey,
  viewKeyPrefix,
  type FeatureRow,
  type KeyPart,
} from '../online-format.ts';
import type { FeatureViewSpec } from '../spec/feature-view.ts';
import { escapeGlob, lockKey, versionCounterKey, watermarkKey } from './admin-keys.ts';
import { EXTEND_LOCK, PUBLISH, RELEASE_LOCK, SET_IF_NEWER, SET_MANY, type StoreScript } from './scripts.ts';
import { okReply, type RedisArg, type RedisCommand, type StoreTransport } from './transport.ts';
import type {
  OnlineStore,
  PublishEntry,
  PublishOptions,
  PublishResult,
  ReadOptions,
  ReadRequest,
  Watermark,
  WriteOptions,
  WriteResult,
  WriteRow,
} from './types.ts';

/** Default {@link KeyExpiry.slackMs}. */
export const DEFAULT_EXPIRY_SLACK_MS = 15 * 60 * 1000;

/** Keys per EVAL of the write scripts: bounds the time one script blocks the server (well under 1 ms). */
const KEYS_PER_SCRIPT = 500;

/** How many times a read follows a moving pointer before returning what it read (each view still from one version). */
const MAX_POINTER_FOLLOWS = 2;

interface CachedPointer {
  text: string | null;
  versions: Record<string, number>;
  /** The pointer's key. */
  key: string;
  /** Per view object read, its version and key prefix under this pointer: no key text built or hashed per read. */
  views: Map<object, ViewKeys>;
}

/** A view's version under a cached pointer, and its keys' prefix ('' when not published). */
interface ViewKeys {
  name: string;
  schemaHash: string;
  version: number | undefined;
  prefix: string;
}

/** Views remembered per cached pointer; beyond it (a caller making view objects per read) the memory starts over. */
const MAX_CACHED_VIEWS = 64;

/** One view's part of a {@link PrefixedReads.mgetPrefixed} read. */
export interface PrefixedRead {
  /** The view version's key prefix ({@link viewKeyPrefix}). */
  prefix: string;
  /** The entities' encoded keys ({@link encodeEntityKey}): the keys read are `prefix + parts[e]`. */
  parts: readonly string[];
  /** The entities themselves (`parts[e]` encodes `entities[e]`). */
  entities: ReadonlyArray<readonly KeyPart[]>;
  /** The view's number of features, for {@link decodeFeatureValue}. */
  width: number;
  /** Filled by the read: `rows[e]` is the (read-only) row of `parts[e]`, or undefined. */
  rows: Array<FeatureRow | undefined>;
}

/**
 * The read path of a transport that gains from being given each view's key prefix and the entity parts apart,
 * and from filling the caller's rows itself: one atomic MGET of `first` and of every `prefix + part`, answering
 * `first`'s text and filling each read's rows, as `send([['MGET', …]])` and decoding would. `MemoryStore` keeps
 * its keys indexed by view version; `ValkeyStore`'s own read connection encodes cached prefix bytes and decodes
 * each value in place into the rows. Not part of {@link StoreTransport}: an HTTP transport sends whole keys anyway.
 */
export interface PrefixedReads {
  mgetPrefixed(first: string, reads: readonly PrefixedRead[], signal?: AbortSignal): Promise<string | null>;
}

/** A view's keys found by {@link OnlineStoreCore.scanVersions}: version → number of keys. */
export type VersionCounts = Map<number, number>;

export class OnlineStoreCore implements OnlineStore {
  /** The transport, for callers that need a raw command (tests, tools). */
  readonly transport: StoreTransport;
  /** A name for messages, e.g. `ValkeyStore(redis://127.0.0.1:6379)`. */
  readonly description: string;
  readonly #pointers = new Map<string, CachedPointer>();

  constructor(transport: StoreTransport, description: string) {
    this.transport = transport;
    this.description = description;
  }

  async readRows(requests: readonly ReadRequest[], options: ReadOptions): Promise<Array<Array<FeatureRow | undefined>>> {
    const { project, signal } = options;
    const { transport } = this;
    let pointer = this.#pointers.get(project) ?? (await this.#loadPointer(project, signal));
    const prefixed = (transport as Partial<PrefixedReads>).mgetPrefixed ? (transport as StoreTransport & PrefixedReads) : undefined;
    for (let follows = 0; ; follows++) {
      let text: string | null;
      let result: Array<Array<FeatureRow | undefined>>;
      if (prefixed) {
        result = new Array(requests.length);
        const reads: PrefixedRead[] = [];
        for (let r = 0; r < requests.length; r++) {
          const { view, entities } = requests[r];
          const rows = (result[r] = new Array<FeatureRow | undefined>(entities.length));
          const { version, prefix } = viewKeys(pointer, project, view);
          if (version === undefined) {
            rows.fill(undefined); // not published: every entity is missing
            continue;
          }
          const parts = new Array<string>(entities.length);
          for (let e = 0; e < entities.length; e++) parts[e] = encodeEntityKey(entities[e]);
          reads.push({ prefix, parts, entities, width: view.features.length, rows });
        }
        text = await prefixed.mgetPrefixed(pointer.key, reads, signal);
      } else {
        const keys: string[] = [pointer.key];
        // Widths per key for a transport that answers decoded rows; the others get text and the core decodes it.
        const widths: number[] | undefined = transport.mgetRows ? [0] : undefined;
        const starts = new Array<number>(requests.length);
        for (let r = 0; r < requests.length; r++) {
          const { view, entities } = requests[r];
          const { version, prefix } = viewKeys(pointer, project, view);
          if (version === undefined) {
            starts[r] = -1; // not published: every entity is missing
            continue;
          }
          starts[r] = keys.length;
          for (let e = 0; e < entities.length; e++) keys.push(prefix + encodeEntityKey(entities[e]));
          if (widths) for (let e = 0, width = view.features.length; e < entities.length; e++) widths.push(width);
        }
        let rowOf: (at: number, width: number) => FeatureRow | undefined;
        if (widths) {
          const reply = await transport.mgetRows!(keys, widths, signal);
          text = reply.first;
          rowOf = (at) => reply.rows[at];
        } else {
          const [reply] = await transport.send([['MGET', ...keys]], signal);
          const values = okReply(reply, 'MGET') as Array<string | null>;
          text = values[0];
          rowOf = (at, width) => decodeFeatureValue(values[at], width);
        }
        result = requests.map((request, r) => {
          const width = request.view.features.length;
          const rows = new Array<FeatureRow | undefined>(request.entities.length);
          const start = starts[r];
          for (let e = 0; e < rows.length; e++) rows[e] = start < 0 ? undefined : rowOf(start + e, width);
          return rows;
        });
      }
      if (text !== pointer.text) {
        const next = this.#cachePointer(project, text);
        const moved = requests.some((r) => next.versions[pointerField(r.view)] !== pointer.versions[pointerField(r.view)]);
        pointer = next;
        if (moved && follows < MAX_POINTER_FOLLOWS) continue;
      }
      return result;
    }
  }

  async writeRows(
    view: Pick<FeatureViewSpec, 'name' | 'schemaHash' | 'ttlSeconds' | 'features'>,
    rows: readonly WriteRow[],
    options: WriteOptions,
  ): Promise<WriteResult> {
    const prefix = viewKeyPrefix(options.project, view, options.version);
    const width = view.features.length;
    const ttlMs = view.ttlSeconds * 1000;
    const expiry = options.keyExpiry === false ? undefined : options.keyExpiry ?? {};
    const asOfMs = expiry?.asOfMs ?? Date.now();
    const expiryBase = Date.now() - asOfMs + (expiry?.slackMs ?? DEFAULT_EXPIRY_SLACK_MS);
    const result: WriteResult = { written: 0, keptNewer: 0, expired: 0 };
    const keys: string[] = [];
    const values: string[] = [];
    const expireAts: number[] = [];

    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const key = prefix + encodeEntityKey(row.entity);
      if (!Number.isFinite(row.eventTimeMs)) {
        throw new InputError(`row ${i} of view ${view.name}: eventTimeMs must be a finite number, got ${row.eventTimeMs}`, 'eventTimeMs');
      }
      if (row.values.length !== width) {
        throw new InputError(`row ${i} of view ${view.name}: ${row.values.length} values for ${width} features`, 'values');
      }
      let expireAt = 0;
      if (expiry) {
        const left = row.eventTimeMs + ttlMs - asOfMs;
        if (left <= 0) {
          result.expired++;
          continue;
        }
        expireAt = Math.ceil(row.eventTimeMs + ttlMs + expiryBase);
      }
      keys.push(key);
      values.push(encodeFeatureValue(row.eventTimeMs, row.values));
      expireAts.push(expireAt);
    }
    if (keys.length === 0) return result;

    if (!options.ifNewer && this.transport.setMany) {
      // Plain overwrites (a fresh version nobody reads yet): the transport's bulk path, plain SETs.
      result.written = await this.transport.setMany({ keys, values, expireAtMs: expireAts }, options.signal);
    } else {
      const script = options.ifNewer ? SET_IF_NEWER : SET_MANY;
      const commands: RedisCommand[] = [];
      for (let from = 0; from < keys.length; from += KEYS_PER_SCRIPT) {
        const to = Math.min(keys.length, from + KEYS_PER_SCRIPT);
        const command: RedisArg[] = ['EVAL', script.lua, to - from];
        for (let i = from; i < to; i++) command.push(keys[i]);
        for (let i = from; i < to; i++) command.push(values[i], expireAts[i]);
        commands.push(command as unknown as RedisCommand);
      }
      const replies = await this.transport.send(commands, options.signal);
      for (const reply of replies) result.written += okReply(reply, `EVAL ${script.name}`) as number;
    }
    result.keptNewer = rows.length - result.expired - result.written;
    return result;
  }

  async publish(entries: readonly PublishEntry[], options: PublishOptions): Promise<PublishResult> {
    const { project } = options;
    if (entries.length === 0) throw new InputError('publish needs at least one view', 'entries');
    const keys = [pointerKey(project), lockKey(project)];
    const args: RedisArg[] = [options.force ? '1' : '0', options.lockOwner ?? ''];
    for (const { view, version, watermark } of entries) {
      if (!Number.isInteger(version) || version < 0) throw new InputError(`version of ${view.name} must be a non-negative integer, got ${version}`, 'version');
      if (!Number.isFinite(watermark.asOfMs)) throw new InputError(`watermark.asOfMs of ${view.name} must be a finite number`, 'watermark');
      keys.push(watermarkKey(project, view));
      args.push(pointerField(view), version, JSON.stringify(watermark));
    }
    const [reply] = await this.transport.send([evalCommand(PUBLISH, keys, args)], options.signal);
    const [status, a, b] = okReply(reply, `EVAL ${PUBLISH.name}`) as string[];
    if (status === 'older') {
      const field = String(a);
      const mine = entries.find((e) => pointerField(e.view) === field)!.watermark.asOfMs;
      throw new StoreError(
        `refusing to publish ${field} of project ${project} as of ${iso(mine)}: the published snapshot is as of ${iso(Number(b))}, which is newer ` +
          '(materialize with a later as-of time, or force the roll-back)',
        { details: { field, publishedAsOfMs: Number(b), asOfMs: mine } },
      );
    }
    if (status === 'lock') {
      throw new StoreError(
        `refusing to publish project ${project}: this writer (${options.lockOwner}) no longer holds the materialization lock` +
          (a ? ` (held by ${a})` : ' (it expired)'),
        { details: { holder: a || undefined } },
      );
    }
    const previous = decodePointer(a || null);
    const current = { ...previous };
    for (const { view, version } of entries) current[pointerField(view)] = version;
    this.#cachePointer(project, JSON.stringify(current));
    return { previous, current };
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /** The published versions of every view of a project: `{"<view>:<schemaHash>": version}`. */
  async publishedVersions(project: string, signal?: AbortSignal): Promise<Record<string, number>> {
    return (await this.#loadPointer(project, signal)).versions;
  }

  /** A fresh version number for a full materialization (never reused, even if a run dies before publishing). */
  async allocateVersion(project: string, signal?: AbortSignal): Promise<number> {
    const [reply] = await this.transport.send([['INCR', versionCounterKey(project)]], signal);
    return okReply(reply, 'INCR') as number;
  }

  /** The watermark of one view schema, or undefined if it was never published. */
  async readWatermark(project: string, view: Pick<FeatureViewSpec, 'name' | 'schemaHash'>, signal?: AbortSignal): Promise<Watermark | undefined> {
    const [reply] = await this.transport.send([['GET', watermarkKey(project, view)]], signal);
    const text = okReply(reply, 'GET');
    if (typeof text !== 'string') return undefined;
    try {
      const mark = JSON.parse(text) as Watermark;
      return typeof mark?.asOfMs === 'number' && typeof mark.version === 'number' ? mark : undefined;
    } catch {
      return undefined;
    }
  }

  /** Take the project's materialization lock for `ttlMs` if nobody holds it. */
  async tryLock(project: string, owner: string, ttlMs: number, signal?: AbortSignal): Promise<boolean> {
    const [reply] = await this.transport.send([['SET', lockKey(project), owner, 'NX', 'PX', Math.ceil(ttlMs)]], signal);
    return okReply(reply, 'SET NX') === 'OK';
  }

  /** Who holds the project's materialization lock, if anyone. */
  async lockHolder(project: string, signal?: AbortSignal): Promise<string | undefined> {
    const [reply] = await this.transport.send([['GET', lockKey(project)]], signal);
    const holder = okReply(reply, 'GET');
    return typeof holder === 'string' ? holder : undefined;
  }

  /** Extend the lock if `owner` still holds it; false when it was lost. */
  async extendLock(project: string, owner: string, ttlMs: number, signal?: AbortSignal): Promise<boolean> {
    const [reply] = await this.transport.send([evalCommand(EXTEND_LOCK, [lockKey(project)], [owner, Math.ceil(ttlMs)])], signal);
    return okReply(reply, `EVAL ${EXTEND_LOCK.name}`) === 1;
  }

  /** Release the lock if `owner` holds it. */
  async releaseLock(project: string, owner: string, signal?: AbortSignal): Promise<boolean> {
    const [reply] = await this.transport.send([evalCommand(RELEASE_LOCK, [lockKey(project)], [owner])], signal);
    return okReply(reply, `EVAL ${RELEASE_LOCK.name}`) === 1;
  }

  /**
   * Count the keys of every version present for the given views (one `SCAN` over the project's keys).
   * The result maps each view's pointer field to version → key count.
   */
  async scanVersions(
    project: string,
    views: ReadonlyArray<Pick<FeatureViewSpec, 'name' | 'schemaHash'>>,
    options: { signal?: AbortSignal; count?: number } = {},
  ): Promise<Map<string, VersionCounts>> {
    const found = new Map<string, VersionCounts>(views.map((v) => [pointerField(v), new Map()]));
    await this.#scanViewKeys(project, views, options, (field, version) => {
      const counts = found.get(field)!;
      counts.set(version, (counts.get(version) ?? 0) + 1);
      return false;
    });
    return found;
  }

  /**
   * Delete every version of the given views except the ones to keep (the published one and the previous one, so
   * readers that cached the previous pointer still find their rows). Returns the number of keys deleted.
   * Unpublished versions of dead runs go too: call this only while holding the materialization lock.
   */
  async deleteVersions(
    project: string,
    views: ReadonlyArray<{ view: Pick<FeatureViewSpec, 'name' | 'schemaHash'>; keep: readonly number[] }>,
    options: { signal?: AbortSignal; count?: number } = {},
  ): Promise<number> {
    const keep = new Map(views.map(({ view, keep }) => [pointerField(view), new Set(keep)]));
    return this.#scanViewKeys(project, views.map((v) => v.view), options, (field, version) => !keep.get(field)!.has(version));
  }

  /**
   * SCAN the project's keys; for each key of one of `views`, call `visit(field, version)`. Keys for which it
   * returns true are unlinked (batched with the next SCAN page). Returns how many were unlinked.
   */
  async #scanViewKeys(
    project: string,
    views: ReadonlyArray<Pick<FeatureViewSpec, 'name' | 'schemaHash'>>,
    options: { signal?: AbortSignal; count?: number },
    visit: (field: string, version: number) => boolean,
  ): Promise<number> {
    const prefixes = views.map((v) => ({ field: pointerField(v), prefix: `ls:${project}:${v.name}:${v.schemaHash}:v` }));
    const match = `${escapeGlob(`ls:${project}:`)}*`;
    let cursor = '0';
    let deleted = 0;
    let pendingDelete: string[] = [];
    do {
      const commands: RedisCommand[] = [['SCAN', cursor, 'MATCH', match, 'COUNT', options.count ?? 2000]];
      if (pendingDelete.length) commands.push(['UNLINK', ...pendingDelete]);
      const replies = await this.transport.send(commands, options.signal);
      if (pendingDelete.length) deleted += okReply(replies[1], 'UNLINK') as number;
      pendingDelete = [];
      const [next, keys] = okReply(replies[0], 'SCAN') as [string, string[]];
      cursor = String(next);
      for (const key of keys) {
        for (const { field, prefix } of prefixes) {
          if (!key.startsWith(prefix)) continue;
          const colon = key.indexOf(':', prefix.length);
          const version = Number(key.slice(prefix.length, colon));
          if (colon > prefix.length && Number.isInteger(version) && visit(field, version)) pendingDelete.push(key);
          break;
        }
      }
    } while (cursor !== '0');
    if (pendingDelete.length) {
      const [reply] = await this.transport.send([['UNLINK', ...pendingDelete]], options.signal);
      deleted += okReply(reply, 'UNLINK') as number;
    }
    return deleted;
  }

  async #loadPointer(project: string, signal: AbortSignal | undefined): Promise<CachedPointer> {
    const key = pointerKey(project);
    const prefixed = (this.transport as Partial<PrefixedReads>).mgetPrefixed;
    // Over the feature reads' own path when the transport has one (an MGET of the pointer alone): a read then
    // fails or succeeds as the reads after it will. ValkeyStore's general path is iovalkey's, which, for a server
    // it never reached, retries with a growing back-off (60 ms, then 250, 450 … per read) instead of failing.
    if (prefixed) return this.#cachePointer(project, await prefixed.call(this.transport, key, [], signal));
    const [reply] = await this.transport.send([['GET', key]], signal);
    const text = okReply(reply, 'GET');
    return this.#cachePointer(project, typeof text === 'string' ? text : null);
  }

  #cachePointer(project: string, text: string | null): CachedPointer {
    const pointer: CachedPointer = { text, versions: decodePointer(text), key: pointerKey(project), views: new Map() };
    this.#pointers.set(project, pointer);
    return pointer;
  }
}

/** The version and key prefix of `view` under `pointer`, remembered per view object (checked against its name and hash). */
function viewKeys(pointer: CachedPointer, project: string, view: Pick<FeatureViewSpec, 'name' | 'schemaHash'>): ViewKeys {
  let keys = pointer.views.get(view);
  if (keys === undefined || keys.name !== view.name || keys.schemaHash !== view.schemaHash) {
    const version = pointer.versions[pointerField(view)];
    keys = { name: view.name, schemaHash: view.schemaHash, version, prefix: version === undefined ? '' : viewKeyPrefix(project, view, version) };
    if (pointer.views.size >= MAX_CACHED_VIEWS) pointer.views.clear();
    pointer.views.set(view, keys);
  }
  return keys;
}

/** `EVAL <script> <numkeys> keys… args…` */
function evalCommand(script: StoreScript, keys: readonly string[], args: readonly RedisArg[]): RedisCommand {
  return ['EVAL', script.lua, keys.length, ...keys, ...args];
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
