/**
 * A real HTTP server on 127.0.0.1 that answers recorded MLflow exchanges: a request that matches a recorded one
 * (method, path, query, and body — JSON compared structurally, binary by size) gets the recorded status and body,
 * verbatim. Each recording answers once, in order of first unconsumed match, so the same request recorded twice
 * (an alias before and after its deletion) gets its two answers in turn. A request matching nothing gets a 418
 * `CONTRACT_MISMATCH` and is kept in `mismatches` with the nearest recording, for the test to report.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { RecordedExchange } from './transcript.ts';

export interface ReceivedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: Uint8Array;
}

export interface Mismatch {
  request: { method: string; path: string; query: Record<string, string>; body: string };
  /** The unconsumed recordings with the same method and path, if any. */
  candidates: number[];
}

export interface ReplayServer {
  url: string;
  /** Indices of the recordings answered, in the order they were. */
  consumed: number[];
  mismatches: Mismatch[];
  /** Every request received, matched or not. */
  received: ReceivedRequest[];
  /** Recordings never asked for. */
  unconsumed(): RecordedExchange[];
  close(): Promise<void>;
}

function bodyMatches(recorded: RecordedExchange['request'], body: Uint8Array): { ok: boolean } {
  switch (recorded.kind) {
    case 'none':
      return { ok: body.length === 0 };
    case 'binary':
      // The recording keeps only the size and a sha256 prefix of bodies it did not print.
      return { ok: body.length === recorded.size };
    case 'raw':
      return { ok: new TextDecoder().decode(body) === recorded.text };
    case 'json': {
      try {
        return { ok: isDeepStrictEqual(JSON.parse(new TextDecoder().decode(body)), recorded.value) };
      } catch {
        return { ok: false };
      }
    }
  }
}

/** Serve `exchanges` until closed. */
export async function startReplayServer(exchanges: RecordedExchange[]): Promise<ReplayServer> {
  const used = new Set<number>();
  const consumed: number[] = [];
  const mismatches: Mismatch[] = [];
  const received: ReceivedRequest[] = [];
  /** Bytes uploaded per artifact path: a recorded binary download answers what was uploaded there. */
  const uploads = new Map<string, Uint8Array>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const url = new URL(req.url ?? '/', 'http://replay');
      const method = req.method ?? 'GET';
      const reqPath = decodeURIComponent(url.pathname);
      const query = Object.fromEntries(url.searchParams);
      received.push({ method, path: reqPath, query, headers: req.headers, body });
      const samePlace = exchanges.filter((e) => !used.has(e.index) && e.method === method && e.path === reqPath);
      const match = samePlace.find((e) => isDeepStrictEqual(e.query, query) && bodyMatches(e.request, body).ok);
      if (match === undefined) {
        mismatches.push({
          request: { method, path: reqPath, query, body: new TextDecoder().decode(body).slice(0, 500) },
          candidates: samePlace.map((e) => e.index),
        });
        res.writeHead(418, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'CONTRACT_MISMATCH', message: `no recorded exchange matches ${method} ${req.url}` }));
        return;
      }
      used.add(match.index);
      consumed.push(match.index);
      if (method === 'PUT') uploads.set(reqPath, body);
      if (match.response.kind === 'binary') {
        const uploaded = uploads.get(reqPath);
        const bytes = uploaded?.length === match.response.size ? uploaded : new Uint8Array(match.response.size);
        res.writeHead(match.status, { 'Content-Type': 'application/octet-stream', 'X-Replay-Sha256': createHash('sha256').update(bytes).digest('hex') });
        res.end(bytes);
        return;
      }
      res.writeHead(match.status, { 'Content-Type': 'application/json' });
      res.end(match.responseText);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    consumed,
    mismatches,
    received,
    unconsumed: () => exchanges.filter((e) => !used.has(e.index)),
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
