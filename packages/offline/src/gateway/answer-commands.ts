/**
 * The protocol core both front ends share (the Hono app and the Node listener's fast path): a request body in,
 * an HTTP status and JSON bytes out. Parsing and the command policy happen here; the commands run on a
 * {@link CommandRunner}: the gateway's own RESP connection ({@link GatewayResp}) or, as the reference path, an
 * iovalkey connection ({@link iovalkeyRunner}).
 *
 * @module
 */
import { Redis } from 'iovalkey';
import type { CommandPolicy } from './command-policy.ts';
import { encodeBatch, encodeError, encodeResult, type RespReply } from './encode-reply.ts';
import { parseBatch, parseSingle, type RedisCommand } from './parse-commands.ts';
import { executeBatch } from './redis-connection.ts';
import { GatewayRequestError } from './request-error.ts';

/** Which endpoint: `POST /`, `POST /pipeline` or `POST /multi-exec`. */
export type GatewayMode = 'single' | 'pipeline' | 'multi-exec';

/** An HTTP answer: status and `application/json` body. */
export interface GatewayAnswer {
  status: number;
  body: Uint8Array<ArrayBuffer> | string;
}

/**
 * Runs validated commands and encodes the answer. Rejects only when Redis is unreachable (HTTP 503) or with a
 * {@link GatewayRequestError}; Redis's own refusals are `{"error"}` entries (or a 400 for a single command).
 */
export interface CommandRunner {
  run(mode: GatewayMode, commands: RedisCommand[], base64: boolean): Promise<GatewayAnswer>;
}

/** The message of a transaction aborted while queueing, naming the refused command (0-based). */
export function execAbortMessage(execError: string, refusedIndex: number, refusedMessage: string | undefined): string {
  return refusedIndex >= 0 && refusedMessage !== undefined ? `${execError} (command ${refusedIndex}: ${refusedMessage})` : execError;
}

/** The reference runner: iovalkey `Command`s with buffer replies, encoded by `encode-reply.ts`. */
export function iovalkeyRunner(redis: Redis): CommandRunner {
  /** MULTI, the commands, EXEC in one write; the replies of EXEC, or a 400 when the transaction was aborted. */
  async function transaction(commands: RedisCommand[]): Promise<RespReply[]> {
    const replies = await executeBatch(redis, [['MULTI'], ...commands, ['EXEC']]);
    const exec = replies[replies.length - 1];
    if (exec instanceof Error) {
      // EXECABORT: say which command was refused while queueing, not only that the transaction was discarded.
      const refused = replies.findIndex((r, i) => i > 0 && i < replies.length - 1 && r instanceof Error);
      throw new GatewayRequestError(400, execAbortMessage(exec.message, refused - 1, refused > 0 ? (replies[refused] as Error).message : undefined));
    }
    if (!Array.isArray(exec)) throw new GatewayRequestError(500, 'ERR transaction was not executed');
    return exec;
  }
  return {
    async run(mode, commands, base64) {
      if (mode === 'single') {
        const [reply] = await executeBatch(redis, commands);
        // Upstash answers a single command Redis refused with 400 and {"error"}.
        return { status: reply instanceof Error ? 400 : 200, body: encodeResult(reply, base64) };
      }
      const replies = mode === 'pipeline' ? await executeBatch(redis, commands) : await transaction(commands);
      return { status: 200, body: encodeBatch(replies, base64) };
    },
  };
}

/** The runner for `redis`: itself when it is one, the iovalkey reference runner for an iovalkey connection. */
export function commandRunner(redis: Redis | CommandRunner): CommandRunner {
  return redis instanceof Redis ? iovalkeyRunner(redis) : redis;
}

/**
 * Parse `text` for `mode`, check it against `policy`, run it: the answer for every outcome but a bug (which
 * rejects, for the caller's 500). Redis being unreachable is a 503, reported to `onError`.
 */
export async function answerCommands(
  runner: CommandRunner,
  mode: GatewayMode,
  text: string,
  base64: boolean,
  policy: CommandPolicy,
  onError: (err: unknown) => void,
): Promise<GatewayAnswer> {
  try {
    const commands = mode === 'single' ? [parseSingle(text, policy)] : parseBatch(text, policy);
    return await runner.run(mode, commands, base64);
  } catch (err) {
    if (err instanceof GatewayRequestError) return { status: err.status, body: encodeError(err.message) };
    // Runners only reject otherwise when the connection failed (Redis's own refusals are replies).
    onError(err);
    const message = err instanceof Error ? err.message : String(err);
    return { status: 503, body: encodeError(`ERR redis unavailable: ${message}`) };
  }
}
