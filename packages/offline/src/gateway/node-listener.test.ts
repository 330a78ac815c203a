import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'iovalkey';
import { requireBinary, startRedisServer, type RedisServer } from '../../../../test/support/redis-server.ts';
import { createGatewayApp, type GatewayAppOptions } from './app.ts';
import { createGatewayListener } from './node-listener.ts';
import { connectGatewayRedis, whenReady } from './redis-connection.ts';
import { GATEWAY_CORPUS, SEED, type CorpusRequest } from './test-corpus.ts';

const TOKEN = 'test-token';

/** POST (or not) over real HTTP; status, the headers the protocol sets, body bytes. */
function httpAnswer(base: string, r: CorpusRequest): Promise<{ status: number; headers: Record<string, string | null>; body: string }> {
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    const req = request(
      `${base}${r.path}`,
      { method: r.method ?? 'POST', headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...r.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: pick((name) => (res.headers[name] as string | undefined) ?? null),
            body: Buffer.concat(chunks).toString('base64'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function pick(get: (name: string) => string | null): Record<string, string | null> {
  return Object.fromEntries(['content-type', 'upstash-sync-token', 'allow'].map((n) => [n, get(n)]));
}

describe.skipIf(!requireBinary('redis-server'))('createGatewayListener (real redis-server, real HTTP)', () => {
  let server: RedisServer;
  let redis: Redis;
  let http: Server;
  let base: string;
  let options: GatewayAppOptions;

  beforeAll(async () => {
    server = (await startRedisServer())!;
    redis = connectGatewayRedis(server.url);
    await whenReady(redis);
    options = { redis, token: [TOKEN, 'second'], maxBodyBytes: 4096, enableCommands: ['flushdb'], disableCommands: ['keys'] };
    http = createServer(createGatewayListener(options));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    redis?.disconnect();
    await server?.stop();
  });

  it('answers every request of the corpus byte for byte as the Hono app does', async () => {
    const app = createGatewayApp(options);
    for (const r of GATEWAY_CORPUS) {
      await redis.flushdb();
      await SEED(redis);
      const res = await app.request(r.path, { method: r.method ?? 'POST', headers: r.headers, body: r.body });
      const reference = { status: res.status, headers: pick((n) => res.headers.get(n)), body: Buffer.from(await res.arrayBuffer()).toString('base64') };
      await redis.flushdb();
      await SEED(redis);
      expect(await httpAnswer(base, r), `${r.method ?? 'POST'} ${r.path} ${r.body?.slice(0, 80)}`).toEqual(reference);
    }
  });
});
