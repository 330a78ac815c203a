/**
 * The one-method interface every online store talks through (upstash-redis-js style: one core, thin transports).
 * A transport runs a list of Redis commands as one round trip; the key layout, value encoding, publication and
 * TTL logic live once, in {@link OnlineStoreCore}, above it.
 *
 * @module
 */
import { StoreError } from '../errors.ts';
import type { FeatureRow } from '../online-format.ts';

/** A command argument. Numbers are sent as their decimal text. */
export type RedisArg = string | number;

/** One Redis command: its name, then its arguments, e.g. `['MGET', 'k1', 'k2']`. */
export type RedisCommand = readonly [name: string, ...args: RedisArg[]];

/**
 * One command's reply: bulk and simple strings as strings (UTF-8), integers as numbers, nil as null, arrays as
 * arrays. A command the server refused (`-ERR …`) is an `Error` in its slot; the other commands still count.
 */
export type RedisReply = string | number | null | RedisReply[] | Error;

/** Plain SETs to send ({@link StoreTransport.setMany}): parallel arrays, one entry per key. */
export interface SetBatch {
  keys: readonly string[];
  values: readonly string[];
  /** Per key, when it expires (epoch ms, an integer); 0: never. */
  expireAtMs: ArrayLike<number>;
}

/** The answer of {@link StoreTransport.mgetRows}: the first key's text, then one row (or undefined) per later key. */
export interface MgetRowsReply {
  first: string | null;
  /** `rows[i]` is the row of `keys[i]`; `rows[0]` is unused. */
  rows: Array<FeatureRow | undefined>;
}

/** Runs Redis commands. Implementations: in-memory, RESP (iovalkey), Upstash REST (`@upstash/redis`). */
export interface StoreTransport {
  /**
   * Run `commands` in order as one round trip (a pipeline) and resolve one reply per command.
   * Rejects with a {@link StoreError} when the round trip itself failed (connection, HTTP, timeout), or with a
   * `STORE_TIMEOUT` StoreError as soon as `signal` aborts.
   */
  send(commands: readonly RedisCommand[], signal?: AbortSignal): Promise<RedisReply[]>;
  /**
   * Optional fast path for bulk loads: `SET key value [PXAT at]` for every entry of `batch`, overwriting, as one
   * round trip. Resolves with the number of keys written (all of them); rejects with a StoreError when the round
   * trip failed or the server refused a SET. What it stores must be exactly what `EVAL set-many` through
   * {@link send} stores. Transports without it (in-memory, HTTP, where one script call per 500 keys is cheaper
   * than 500 commands) get `EVAL set-many`.
   */
  setMany?(batch: SetBatch, signal?: AbortSignal): Promise<number>;
  /**
   * Optional read path for transports that can decode values more cheaply than from reply strings (ValkeyStore
   * decodes RESP bytes): `MGET` of `keys` as one atomic read, answering the first key's text (the publication
   * pointer) and, for every later key `i`, its value decoded with {@link decodeFeatureValue} for `widths[i]`
   * features (`widths[0]` is unused). Same results as `send([['MGET', ...keys]])` and decoding. (MemoryStore and
   * ValkeyStore's own read connection take `PrefixedReads.mgetPrefixed` first: store-core.ts.)
   */
  mgetRows?(keys: readonly string[], widths: readonly number[], signal?: AbortSignal): Promise<MgetRowsReply>;
  /** Release connections. Further sends fail. */
  close(): Promise<void>;
}

/** The StoreError for an aborted call: the reason is kept as the cause. */
export function abortError(signal: AbortSignal): StoreError {
  return new StoreError('online store call aborted (deadline reached or cancelled)', { timeout: true, cause: signal.reason });
}

/**
 * Settle with `promise`, or reject with a STORE_TIMEOUT StoreError as soon as `signal` aborts. The underlying
 * request is not cancelled (neither iovalkey nor `@upstash/redis` can cancel a command in flight): its late
 * answer is dropped. This is what a scorer's per-request deadline needs: stop waiting, answer with defaults.
 */
export function withAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Wrap a transport failure (anything but a StoreError) in a StoreError naming the transport. */
export function transportError(transport: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StoreError(`${transport}: ${message}`, { cause: err });
}

/** Unwrap a reply that must not be an error: throw the server's refusal as a StoreError naming the command. */
export function okReply(reply: RedisReply | undefined, command: string): Exclude<RedisReply, Error> {
  if (reply instanceof Error) throw new StoreError(`${command} refused by the server: ${reply.message}`, { cause: reply });
  if (reply === undefined) throw new StoreError(`${command}: no reply`);
  return reply;
}
