/**
 * `ValkeyStore`: the online store over RESP with `iovalkey` (Redis or Valkey), for Node.
 *
 * `send` writes all its commands as one corked socket write and collects string replies per command; commands
 * are built as upper-case `Command`s sent with `sendCommand`, never `callBuffer` (with auto-pipelining on,
 * iovalkey 0.4 drops a buffer call's command name and crashes the process), so a client passed in may have
 * auto-pipelining on or off.
 *
 * @module
 */
import { Command, Redis, type RedisOptions } from 'iovalkey';
import { StoreError } from '../errors.ts';
import { OnlineStoreCore } from '../store/store-core.ts';
import { transportError, withAbort, type RedisCommand, type RedisReply, type StoreTransport } from '../store/transport.ts';

/** Options for {@link ValkeyStore}: an existing client, or a URL to connect to. */
export type ValkeyStoreOptions =
  | {
      /** A connected (or connecting) iovalkey client. The store does not close it. */
      redis: Redis;
    }
  | {
      /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (TLS). */
      url: string;
      /**
       * Extra iovalkey options. The store's defaults: `enableAutoPipelining: false` (the store batches itself),
       * `maxRetriesPerRequest: 1` (a scorer has a deadline), `connectionName: 'lockstep-store'`.
       * @default {}
       */
      redisOptions?: RedisOptions;
      /**
       * Called with connection errors (iovalkey reports each failed reconnect). Without it they are dropped:
       * failed calls reject with a StoreError anyway.
       * @default ignore
       */
      onError?: (err: Error) => void;
    };

function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError';
}

class ValkeyTransport implements StoreTransport {
  readonly #redis: Redis;
  readonly #owned: boolean;

  constructor(redis: Redis, owned: boolean) {
    this.#redis = redis;
    this.#owned = owned;
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
          if (failure) reject(transportError('RESP', failure));
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

  async close(): Promise<void> {
    if (!this.#owned) return;
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

/** The online store over RESP (Redis, Valkey) with iovalkey. Node only. */
export class ValkeyStore extends OnlineStoreCore {
  constructor(options: ValkeyStoreOptions) {
    let redis: Redis;
    let where: string;
    if ('redis' in options) {
      redis = options.redis;
      where = 'configured client';
    } else {
      if (!/^rediss?:\/\//.test(options.url)) throw new StoreError(`ValkeyStore needs a redis:// or rediss:// URL, got ${options.url}`);
      redis = new Redis(options.url, {
        enableAutoPipelining: false,
        maxRetriesPerRequest: 1,
        connectionName: 'lockstep-store',
        ...options.redisOptions,
      });
      const onError = options.onError ?? (() => {});
      redis.on('error', onError);
      where = options.url.replace(/\/\/[^@/]*@/, '//***@');
    }
    super(new ValkeyTransport(redis, !('redis' in options)), `ValkeyStore(${where})`);
  }
}
