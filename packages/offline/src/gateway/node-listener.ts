/**
 * The gateway as a `node:http` request listener: the commands' hot path (`POST /`, `/pipeline`, `/multi-exec`
 * with a declared body length within the limit and a valid token) served straight from `node:http`'s request
 * and response, everything else (other methods and paths, chunked or oversized bodies, 401s) by the Hono app
 * through `@hono/node-server`, which stays the reference. Both answer through the same core
 * ({@link answerCommands}): same statuses, same bytes.
 *
 * Why: translating each request into a Web `Request` and the answer back from a `Response` cost ~70 µs of the
 * gateway's CPU per 100-key MGET (out of ~240), measured under load on the 2-core development VM.
 *
 * @module
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { CommandPolicy } from './command-policy.ts';
import { createGatewayApp, DEFAULT_MAX_BODY_BYTES, makeAuthorizer, type GatewayAppOptions } from './app.ts';
import { answerCommands, commandRunner, type GatewayAnswer, type GatewayMode } from './answer-commands.ts';
import { encodeError } from './encode-reply.ts';

const MODES: Readonly<Record<string, GatewayMode>> = { '/': 'single', '/pipeline': 'pipeline', '/multi-exec': 'multi-exec' };

/**
 * A listener for `http.createServer()` serving the gateway (see the module comment); `app` is the Hono app
 * for everything off the hot path, by default built from the same options.
 */
export function createGatewayListener(options: GatewayAppOptions, app: Hono = createGatewayApp(options)): RequestListener {
  const fallback = getRequestListener(app.fetch);
  const runner = commandRunner(options.redis);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const authorized = makeAuthorizer(options);
  const policy = new CommandPolicy(options);
  const onError = options.onError ?? (() => {});

  function send(res: ServerResponse, { status, body }: GatewayAnswer, syncToken: string | undefined): void {
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    const headers = syncToken
      ? ['content-type', 'application/json', 'content-length', String(length), 'upstash-sync-token', syncToken]
      : ['content-type', 'application/json', 'content-length', String(length)];
    // Headers and body leave in one write: end() corks the socket around both.
    res.writeHead(status, headers);
    res.end(body);
  }

  function serve(req: IncomingMessage, res: ServerResponse, mode: GatewayMode, chunks: Buffer[]): void {
    const syncToken = (req.headers['upstash-sync-token'] as string | undefined) || undefined;
    const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    const text = bytes.toString('utf8');
    const base64 = req.headers['upstash-encoding']?.toString().toLowerCase() === 'base64';
    answerCommands(runner, mode, text, base64, policy, onError).then(
      (answer) => send(res, answer, syncToken),
      (err: unknown) => {
        onError(err);
        const message = `ERR internal gateway error: ${err instanceof Error ? err.message : String(err)}`;
        send(res, { status: 500, body: encodeError(message) }, undefined);
      },
    );
  }

  return (req, res) => {
    const mode = req.method === 'POST' && req.url !== undefined ? MODES[req.url] : undefined;
    const declared = req.headers['content-length'];
    if (mode === undefined || declared === undefined || Number(declared) > maxBodyBytes || !authorized(req.headers.authorization)) {
      void fallback(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => serve(req, res, mode, chunks));
    req.on('error', () => {
      if (!res.headersSent) send(res, { status: 400, body: encodeError('ERR could not read the request body: aborted') }, undefined);
    });
  };
}
