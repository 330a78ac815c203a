import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'iovalkey';
import { requireBinary, startRedisServer, type RedisServer } from '../../../../test/support/redis-server.ts';
import { createGatewayApp, type GatewayAppOptions } from './app.ts';
import { createGatewayListener } from './node-listener.ts';
import { connectGatewayRedis, whenReady } from './redis-connection.ts';
import { expectCorpusAnswers } from '../../../../test/support/gateway-corpus.ts';

const TOKEN = 'test-token';

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
    await expectCorpusAnswers(redis, createGatewayApp(options), base);
  });
});
