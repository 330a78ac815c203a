/**
 * The RESP side of the gateway: one multiplexed iovalkey connection, and {@link executeBatch}, which writes the
 * commands of one HTTP request as one pipelined write and collects raw (Buffer) replies.
 *
 * Why not `redis.callBuffer()` or `redis.pipeline()`:
 * - `callBuffer` with `enableAutoPipelining` crashes the process (iovalkey 0.4 drops the command name); and both
 *   go through iovalkey's reply transformers, which turn an HGETALL reply into an object keyed by strings.
 *   Sending `Command`s named in upper case skips those transformers (they are keyed by lower-case names), so
 *   every reply reaches the encoder exactly as Redis sent it.
 * - `pipeline()` builds a Pipeline object, a promise per command and a result array of `[err, value]` pairs for
 *   each HTTP request; corking the socket around `sendCommand` gives the same single write for less.
 *
 * @module
 */
import { Redis, Command, type RedisOptions } from 'iovalkey';
import type { RespReply } from './encode-reply.ts';
import type { RedisCommand } from './parse-commands.ts';

/** Options for {@link connectGatewayRedis}: any iovalkey option, with the gateway's defaults below. */
export type GatewayRedisOptions = RedisOptions;

/**
 * Open the gateway's Redis/Valkey connection with the settings the gateway relies on:
 * - `enableAutoPipelining: false`: see the module comment; batching is done per HTTP request instead.
 * - `enableOfflineQueue: false`: during an outage a request fails at once (HTTP 503) instead of queueing
 *   behind a connection that may not come back.
 * - `autoResendUnfulfilledCommands: false`: a command in flight when the connection drops is failed, not sent
 *   twice (INCR must not count twice).
 * - `retryStrategy`: reconnect forever, at most 1 s apart, so the gateway recovers on its own.
 * - `commandTimeout: 10000`: a hung server answers 503 instead of holding requests forever.
 */
export function connectGatewayRedis(url: string, options: GatewayRedisOptions = {}): Redis {
  return new Redis(url, {
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(times * 50, 1000),
    commandTimeout: 10_000,
    connectionName: 'lockstep-gateway',
    ...options,
  });
}

/** Resolve once the connection is ready, or reject with the connection error if it fails first. */
export function whenReady(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`redis not ready after ${timeoutMs} ms (status ${redis.status})`)), timeoutMs);
    const onReady = () => done();
    const onError = (err: Error) => done(err);
    function done(err?: Error) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (err) reject(err);
      else resolve();
    }
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

/** True for an error Redis itself answered (`-ERR ...`), as opposed to a connection failure. */
export function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError';
}

const BUFFER_REPLIES = { replyEncoding: null } as const;

/**
 * Send `commands` in order as one write and resolve with one reply per command: the value, or the `ReplyError`
 * Redis answered for that command. Rejects (with the first such error) only when the connection failed, so the
 * caller can tell "Redis said no" (per-command `{error}`) from "Redis is unreachable" (HTTP 503).
 */
export function executeBatch(redis: Redis, commands: readonly RedisCommand[]): Promise<RespReply[]> {
  return new Promise((resolve, reject) => {
    const n = commands.length;
    const replies: RespReply[] = new Array(n);
    let pending = n;
    let failure: Error | undefined;
    const settle = (i: number, err: Error | null | undefined, value?: unknown) => {
      if (err) {
        if (isReplyError(err)) replies[i] = err;
        else failure ??= err;
      } else {
        replies[i] = value as RespReply;
      }
      if (--pending === 0) {
        if (failure) reject(failure);
        else resolve(replies);
      }
    };
    // Corking turns the n socket writes into one, so Redis gets the whole batch in one packet.
    const stream = n > 1 && redis.status === 'ready' ? redis.stream : undefined;
    stream?.cork();
    try {
      for (let i = 0; i < n; i++) {
        const command = commands[i];
        const cmd = new Command(command[0].toUpperCase(), command.slice(1), BUFFER_REPLIES, (err, value) =>
          settle(i, err, value),
        );
        redis.sendCommand(cmd);
      }
    } finally {
      stream?.uncork();
    }
  });
}
