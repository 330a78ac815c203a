/**
 * `UpstashStore`: the online store over the Upstash REST protocol (Upstash, or `lockstep gateway` in front of a
 * self-hosted Redis/Valkey), through `@upstash/redis`. Runs on any runtime with `fetch` (Workers, browsers, Node).
 *
 * Every `send` is exactly one `POST <url>/pipeline`: the commands go straight to the client's `Requester` (its
 * one-method HTTP interface) rather than through its command methods, so a read is one request whatever the
 * client's auto-pipelining setting, and values skip the client's automatic JSON deserialisation (the core
 * decodes them itself and must see the stored text to refuse a value of another width).
 *
 * @module
 */
import { Redis, type Requester } from '@upstash/redis';
import { StoreError, excerpt } from '../errors.ts';
import { OnlineStoreCore } from './store-core.ts';
import { transportError, withAbort, type RedisCommand, type RedisReply, type StoreTransport } from './transport.ts';

/** Options for {@link UpstashStore}: an existing client or requester, or the URL and token to make one. */
export type UpstashStoreOptions =
  | {
      /** A configured `@upstash/redis` client (its URL, token, retry and encoding settings are used as they are). */
      redis: Redis;
    }
  | {
      /**
       * Any implementation of `@upstash/redis`'s one-method HTTP interface, e.g. `NodeHttpRequester` of
       * `@lockstep/sdk/node`. It must answer plain (not base64-encoded) JSON. The store does not close it.
       */
      requester: Requester;
      /**
       * Where it goes, for messages.
       * @default 'configured requester'
       */
      where?: string;
    }
  | {
      /** REST URL, e.g. `https://eu1-xyz.upstash.io` or a `lockstep gateway` at `http://127.0.0.1:8079`. */
      url: string;
      /** REST token (`Authorization: Bearer <token>`). */
      token: string;
      /**
       * Retries when `fetch` itself fails (connection refused, reset). Scorers with a per-request deadline want
       * few: a dead endpoint otherwise takes seconds to fail.
       * @default { retries: 1, backoff: () => 50 }
       */
      retry?: false | { retries?: number; backoff?: (retryCount: number) => number };
    };

/** The `Requester` inside a client: `@upstash/redis` keeps it in the (protected) `client` field. */
function requesterOf(redis: Redis): Requester {
  const requester = Reflect.get(redis, 'client') as Requester | undefined;
  if (!requester || typeof requester.request !== 'function') {
    throw new StoreError('UpstashStore: this @upstash/redis client exposes no requester (unsupported version); pass { url, token } instead');
  }
  return requester;
}

class UpstashTransport implements StoreTransport {
  readonly #requester: Requester;
  #closed = false;

  constructor(requester: Requester) {
    this.#requester = requester;
  }

  async send(commands: readonly RedisCommand[], signal?: AbortSignal): Promise<RedisReply[]> {
    if (this.#closed) throw new StoreError('UpstashStore is closed');
    let answer: unknown;
    try {
      // Not handing `signal` to the client: on abort it fabricates a successful answer holding the abort reason.
      answer = await withAbort(this.#requester.request({ path: ['pipeline'], body: commands }), signal);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      // The client's HTTP errors quote the whole request body: keep messages readable.
      throw transportError('Upstash REST', new Error(excerpt(err instanceof Error ? err.message : String(err), 300), { cause: err }));
    }
    if (!Array.isArray(answer) || answer.length !== commands.length) {
      throw new StoreError(`Upstash REST: expected ${commands.length} pipeline replies, got ${excerpt(JSON.stringify(answer) ?? String(answer))}`);
    }
    const replies = new Array<RedisReply>(answer.length);
    for (let i = 0; i < answer.length; i++) {
      const { result, error } = answer[i] as { result?: unknown; error?: string };
      replies[i] = error !== undefined ? new Error(error) : (result as RedisReply);
    }
    return replies;
  }

  async close(): Promise<void> {
    // fetch holds no connection we own; keep-alive sockets close on their own.
    this.#closed = true;
  }
}

/** The online store over Upstash REST (Upstash or `lockstep gateway`). */
export class UpstashStore extends OnlineStoreCore {
  constructor(options: UpstashStoreOptions) {
    if ('requester' in options) {
      super(new UpstashTransport(options.requester), `UpstashStore(${options.where ?? 'configured requester'})`);
      return;
    }
    const redis =
      'redis' in options
        ? options.redis
        : new Redis({
            url: options.url,
            token: options.token,
            retry: options.retry ?? { retries: 1, backoff: () => 50 },
            enableTelemetry: false,
            enableAutoPipelining: false,
            automaticDeserialization: false,
            // Plain JSON answers: everything this store reads is JSON text or ASCII keys (valid UTF-8), so the
            // base64 round trip (encode in the server, decode per value here) buys nothing.
            responseEncoding: false,
          });
    const where = 'redis' in options ? 'configured client' : options.url;
    super(new UpstashTransport(requesterOf(redis)), `UpstashStore(${where})`);
  }
}
