/**
 * The gateway as a Hono app: the Upstash REST protocol, as `@upstash/redis` speaks it, in front of one
 * Redis/Valkey connection.
 *
 * - `POST /` with `["set","k","v","ex",10]` → `{"result":"OK"}`; a command Redis refuses → 400 `{"error":…}`.
 * - `POST /pipeline` with `[["set","k","v"],["get","k"]]` → `[{"result":"OK"},{"result":"dg=="}]`; a command
 *   Redis refuses is an `{"error":…}` entry, the others still run.
 * - `POST /multi-exec`: the same commands inside MULTI/EXEC; a command refused while queueing aborts it (400).
 * - `Authorization: Bearer <token>` on every request (401 otherwise), `Upstash-Encoding: base64` answers,
 *   `upstash-sync-token` echoed back.
 *
 * The app holds no server: test it with `app.request()`, serve it with {@link startGateway}.
 *
 * @module
 */
import { Hono, type Context } from 'hono';
import { timingSafeEqual } from 'node:crypto';
import type { Redis } from 'iovalkey';
import { InputError } from '@lockstep/sdk';
import { CommandPolicy, type CommandPolicyOptions } from './command-policy.ts';
import { encodeError } from './encode-reply.ts';
import { answerCommands, commandRunner, type CommandRunner, type GatewayMode } from './answer-commands.ts';
import { GatewayRequestError } from './request-error.ts';

/** Options for {@link createGatewayApp}. */
export interface GatewayAppOptions extends CommandPolicyOptions {
  /**
   * Where commands run: the gateway's own RESP connection ({@link GatewayResp}, what {@link startGateway} uses)
   * or an iovalkey connection from {@link connectGatewayRedis} (the reference path; its options matter: see
   * there). The caller owns it.
   */
  redis: Redis | CommandRunner;
  /**
   * Bearer token(s) accepted in `Authorization: Bearer <token>`. Several tokens allow rotation.
   * Required unless `insecureNoAuth` is true.
   */
  token?: string | readonly string[];
  /**
   * Serve without authentication (local development only).
   * @default false
   */
  insecureNoAuth?: boolean;
  /**
   * Largest request body accepted, in bytes; larger ones get 413 without being read.
   * @default 10485760 (10 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Called with failures that are the gateway's or Redis's fault (5xx), for logging.
   * @default nothing
   */
  onError?: (err: unknown) => void;
}

/** Default for {@link GatewayAppOptions.maxBodyBytes}. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

function answer(body: string | Uint8Array<ArrayBuffer>, status: number, syncToken: string | undefined): Response {
  return new Response(body, {
    status,
    headers: syncToken ? { 'content-type': 'application/json', 'upstash-sync-token': syncToken } : JSON_HEADERS,
  });
}

/** Checks `Authorization: Bearer …` against the configured tokens in constant time per token. */
export function makeAuthorizer(options: GatewayAppOptions): (header: string | undefined) => boolean {
  if (options.insecureNoAuth) return () => true;
  const tokens = (typeof options.token === 'string' ? [options.token] : (options.token ?? [])).filter((t) => t.length > 0);
  if (tokens.length === 0) {
    throw new InputError('the gateway needs at least one non-empty token (or insecureNoAuth: true)', 'token');
  }
  const expected = tokens.map((t) => Buffer.from(`Bearer ${t}`));
  return (header) => {
    if (header === undefined) return false;
    const given = Buffer.from(header);
    let ok = false;
    for (const e of expected) if (e.length === given.length && timingSafeEqual(e, given)) ok = true;
    return ok;
  };
}

/** Read the body as text, refusing (413) bodies over the limit before reading them when the length is declared. */
async function readBody(c: Context, maxBodyBytes: number): Promise<string> {
  const declared = c.req.header('content-length');
  if (declared !== undefined) {
    if (Number(declared) > maxBodyBytes) throw tooLarge(maxBodyBytes);
    return c.req.text();
  }
  // Chunked body: count as it streams in, stop at the limit.
  const reader = c.req.raw.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBodyBytes) {
      await reader.cancel();
      throw tooLarge(maxBodyBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString();
}

function tooLarge(maxBodyBytes: number): GatewayRequestError {
  return new GatewayRequestError(413, `ERR request body larger than ${maxBodyBytes} bytes (maxBodyBytes / --max-body-bytes)`);
}

/** Build the gateway app. Throws when no token is given and `insecureNoAuth` is not set. */
export function createGatewayApp(options: GatewayAppOptions): Hono {
  const runner = commandRunner(options.redis);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const authorized = makeAuthorizer(options);
  const policy = new CommandPolicy(options);
  const onError = options.onError ?? (() => {});

  async function run(mode: GatewayMode, c: Context): Promise<Response> {
    const syncToken = c.req.header('upstash-sync-token') || undefined;
    if (c.req.method !== 'POST') {
      return new Response(encodeError(`ERR use POST (got ${c.req.method})`), {
        status: 405,
        headers: { ...JSON_HEADERS, allow: 'POST' },
      });
    }
    if (!authorized(c.req.header('authorization'))) {
      return answer(encodeError('Unauthorized'), 401, syncToken);
    }
    const base64 = c.req.header('upstash-encoding')?.toLowerCase() === 'base64';
    let text: string;
    try {
      text = await readBody(c, maxBodyBytes);
    } catch (err) {
      if (err instanceof GatewayRequestError) return answer(encodeError(err.message), err.status, syncToken);
      const message = `ERR could not read the request body: ${err instanceof Error ? err.message : String(err)}`;
      return answer(encodeError(message), 400, syncToken);
    }
    const { status, body } = await answerCommands(runner, mode, text, base64, policy, onError);
    return answer(body, status, syncToken);
  }

  const app = new Hono();
  app.all('/', (c) => run('single', c));
  app.all('/pipeline', (c) => run('pipeline', c));
  app.all('/multi-exec', (c) => run('multi-exec', c));
  app.notFound(() =>
    answer(encodeError('ERR unknown path: POST commands to /, /pipeline or /multi-exec'), 404, undefined),
  );
  app.onError((err) => {
    onError(err);
    return answer(encodeError(`ERR internal gateway error: ${err instanceof Error ? err.message : String(err)}`), 500, undefined);
  });
  return app;
}
