/**
 * `ValkeyStore`: the online store over RESP with `iovalkey` (Redis or Valkey), for Node.
 *
 * `send` writes all its commands as one corked socket write and collects string replies per command; commands
 * are built as upper-case `Command`s sent with `sendCommand`, never `callBuffer` (with auto-pipelining on,
 * iovalkey 0.4 drops a buffer call's command name and crashes the process), so a client passed in may have
 * auto-pipelining on or off.
 *
 * Feature reads (one `MGET` of the publication pointer and every key) go over a connection of the store's own
 * ({@link RespReader}): the command is encoded into one reused Buffer, the reply read into a reused buffer and
 * each value decoded in place into the caller's rows. Through iovalkey the same read cost ~40 µs more client CPU
 * (its command encoding, a Buffer per value), more than the bare client's own MGET: measured 52 vs 93 µs per
 * 101-key read, p50 -30% in an interleaved A/B. `fastReads: false` reads through iovalkey (the reference path,
 * `mgetRows`: reply as Buffers, each value decoded from its bytes with {@link decodeFeatureBytes}).
 *
 * Bulk writes of full materializations (plain SETs into a fresh version) take a faster route: a second connection
 * of the store's own ({@link RespBulkWriter}) that writes each batch as one Buffer of RESP and counts the `+OK`s.
 * iovalkey's per-command work (an object, a promise, a parse per reply) cost more client CPU than encoding the
 * rows; the keys, values and expiries stored are the same (tested against the iovalkey path).
 *
 * @module
 */
import { Command, Redis, type RedisOptions } from 'iovalkey';
import { StoreError } from '../errors.ts';
import { OnlineStoreCore } from '../store/store-core.ts';
import { decodeFeatureBytes, type FeatureRow } from '../online-format.ts';
import type { PrefixedRead } from '../store/store-core.ts';
import { transportError, withAbort, type MgetRowsReply, type RedisCommand, type RedisReply, type SetBatch, type StoreTransport } from '../store/transport.ts';
import { RespBulkWriter } from './resp-bulk-writer.ts';
import { RespReader } from './resp-reader.ts';
import type { RespConnectionOptions } from './resp-connection.ts';

/** Options for {@link ValkeyStore}: an existing client, or a URL to connect to. */
export type ValkeyStoreOptions = ValkeyStoreCommonOptions &
  (
    | {
        /** A connected (or connecting) iovalkey client. The store does not close it. */
        redis: Redis;
      }
    | {
        /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (TLS). */
        url: string;
        /**
         * Extra iovalkey options. The store's defaults: `enableAutoPipelining: false` (the store batches itself),
         * `maxRetriesPerRequest: 1` (a scorer has a deadline), `connectionName: 'lockstep-store'`, `commandTimeout:
         * 10000` (a server that accepts the connection but never answers fails a call with STORE_TIMEOUT after 10 s,
         * as UpstashStore's requests do, instead of hanging it; a scorer's own deadline is far shorter anyway).
         * @default {}
         */
        redisOptions?: RedisOptions;
        /**
         * Called with connection errors (iovalkey reports each failed reconnect). Without it they are dropped:
         * failed calls reject with a StoreError anyway.
         * @default ignore
         */
        onError?: (err: Error) => void;
      }
  );

/** Options of {@link ValkeyStore} for either way of connecting. */
export interface ValkeyStoreCommonOptions {
  /**
   * Send the plain SETs of bulk writes (full materializations) over a second connection that encodes RESP
   * itself: several times less client CPU per row. It connects with the client's host, port or path, TLS,
   * username, password and db; clients using Sentinel (or a custom connector) always write through iovalkey.
   * `false`: every command goes through iovalkey (the reference path).
   * @default true
   */
  directWrites?: boolean;
  /**
   * Send feature reads (`MGET`) over a connection of the store's own that encodes the command into one reused
   * Buffer and decodes each value in place from the reply bytes: less client CPU per read than iovalkey's
   * command and reply objects. Connects like `directWrites`; Sentinel (or custom connector) clients always read
   * through iovalkey. `false`: reads go through iovalkey (the reference path).
   * @default true
   */
  fastReads?: boolean;
}

function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError';
}

/** Where an owned client connects, and the last connection error it reported (cleared once it is ready). */
interface ConnectionState {
  where: string;
  lastError?: Error;
  /** iovalkey's commandTimeout, to name it when a command times out. */
  commandTimeoutMs?: number;
}

/** The options of a plain connection to where `redis` connects, or undefined when it connects another way. */
function plainConnection(redis: Redis): RespConnectionOptions | undefined {
  const o = redis.options;
  if ((o.sentinels && o.sentinels.length > 0) || o.Connector) return undefined;
  return {
    host: o.host,
    port: o.port,
    path: o.path,
    family: o.family,
    tls: o.tls,
    username: o.username,
    password: o.password,
    db: o.db,
    connectTimeout: o.connectTimeout,
    // The client's command timeout bounds the wait for a reply on these connections too.
    replyTimeout: o.commandTimeout,
  };
}

class ValkeyTransport implements StoreTransport {
  readonly #redis: Redis;
  readonly #owned: boolean;
  readonly #bulk: RespBulkWriter | undefined;
  readonly #reader: RespReader | undefined;
  readonly setMany: ((batch: SetBatch, signal?: AbortSignal) => Promise<number>) | undefined;
  /** The store core reads through this when present (store-core.ts, `PrefixedReads`), else through `mgetRows`. */
  readonly mgetPrefixed: ((first: string, reads: readonly PrefixedRead[], signal?: AbortSignal) => Promise<string | null>) | undefined;
  readonly #state: ConnectionState | undefined;

  constructor(redis: Redis, owned: boolean, directWrites: boolean, fastReads: boolean, state?: ConnectionState) {
    this.#redis = redis;
    this.#owned = owned;
    this.#state = state;
    const connection = directWrites || fastReads ? plainConnection(redis) : undefined;
    const bulk = directWrites && connection ? new RespBulkWriter(connection) : undefined;
    this.#bulk = bulk;
    this.setMany = bulk && ((batch, signal) => bulk.setMany(batch, signal));
    const reader = fastReads && connection ? new RespReader(connection) : undefined;
    this.#reader = reader;
    this.mgetPrefixed = reader && ((first, reads, signal) => reader.mget(first, reads, signal));
  }

  /**
   * iovalkey fails a command sent while it cannot connect with "Reached the max retries per request limit",
   * which names neither the server nor the reason: name both when the client reported a connection error.
   */
  #explain(err: unknown): unknown {
    const state = this.#state;
    // iovalkey's commandTimeout: the server took the command and never answered.
    if (state && err instanceof Error && err.message === 'Command timed out') {
      return new StoreError(`RESP ${state.where}: no answer within ${state.commandTimeoutMs} ms`, { timeout: true, cause: err });
    }
    if (state?.lastError === undefined || this.#redis.status === 'ready' || isReplyError(err)) return err;
    return new Error(`not connected to ${state.where} (${state.lastError.message})`, { cause: err });
  }

  send(commands: readonly RedisCommand[], signal?: AbortSignal): Promise<RedisReply[]> {
    const redis = this.#redis;
    const batch = new Promise<RedisReply[]>((resolve, reject) => {
      const n = commands.length;
      const replies = new Array<RedisReply>(n);
      let pending = n;
      let failure: unknown;
      const settle = (i: number, err: unknown, value?: unknown) => {
        if (err) {
          if (isReplyError(err)) replies[i] = err;
          else failure ??= err;
        } else replies[i] = value as RedisReply;
        if (--pending === 0) {
          if (failure) reject(transportError('RESP', this.#explain(failure)));
          else resolve(replies);
        }
      };
      if (n === 0) return resolve(replies);
      // One write for the whole batch: Redis gets it in as few packets as the socket allows.
      const stream = n > 1 && redis.status === 'ready' ? redis.stream : undefined;
      stream?.cork();
      try {
        for (let i = 0; i < n; i++) {
          const [name, ...args] = commands[i];
          redis.sendCommand(new Command(name.toUpperCase(), args, { replyEncoding: 'utf8' }, (err, value) => settle(i, err, value)));
        }
      } finally {
        stream?.uncork();
      }
    });
    return withAbort(batch, signal);
  }

  mgetRows(keys: readonly string[], widths: readonly number[], signal?: AbortSignal): Promise<MgetRowsReply> {
    const read = new Promise<MgetRowsReply>((resolve, reject) => {
      this.#redis.sendCommand(
        new Command('MGET', keys as string[], { replyEncoding: null }, (err, reply) => {
          if (err) return reject(transportError('RESP', isReplyError(err) ? new Error(`MGET refused by the server: ${err.message}`, { cause: err }) : this.#explain(err)));
          const values = reply as Array<Buffer | null>;
          const rows = new Array<FeatureRow | undefined>(values.length);
          for (let i = 1; i < values.length; i++) {
            const value = values[i];
            if (value !== null) rows[i] = decodeFeatureBytes(value, widths[i]);
          }
          resolve({ first: values[0] === null ? null : values[0].toString('utf8'), rows });
        }),
      );
    });
    return withAbort(read, signal);
  }

  async close(): Promise<void> {
    await Promise.all([this.#bulk?.close(), this.#reader?.close()]);
    if (!this.#owned) return;
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

/** The online store over RESP (Redis, Valkey) with iovalkey. Node only. */
export class ValkeyStore extends OnlineStoreCore {
  constructor(options: ValkeyStoreOptions) {
    let redis: Redis;
    let where: string;
    let state: ConnectionState | undefined;
    if ('redis' in options) {
      redis = options.redis;
      where = 'configured client';
    } else {
      if (!/^rediss?:\/\//.test(options.url)) throw new StoreError(`ValkeyStore needs a redis:// or rediss:// URL, got ${options.url}`);
      // iovalkey parses it with the WHATWG URL parser, whose TypeError names neither the store nor the URL.
      if (!URL.canParse(options.url)) throw new StoreError(`ValkeyStore: ${options.url.replace(/\/\/[^@/]*@/, '//***@')} is not a valid URL`);
      redis = new Redis(options.url, {
        enableAutoPipelining: false,
        maxRetriesPerRequest: 1,
        connectionName: 'lockstep-store',
        commandTimeout: 10_000,
        ...options.redisOptions,
      });
      where = options.url.replace(/\/\/[^@/]*@/, '//***@');
      const connection: ConnectionState = { where, commandTimeoutMs: redis.options.commandTimeout };
      state = connection;
      const onError = options.onError;
      redis.on('error', (err: Error) => {
        connection.lastError = err;
        onError?.(err);
      });
      redis.on('ready', () => (connection.lastError = undefined));
    }
    super(new ValkeyTransport(redis, !('redis' in options), options.directWrites ?? true, options.fastReads ?? true, state), `ValkeyStore(${where})`);
  }
}
