import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'iovalkey';
import { requireBinary, startRedisServer, type RedisServer } from '../../../../test/support/redis-server.ts';
import { TcpProxy as Proxy } from '../../../../test/support/tcp-proxy.ts';
import { iovalkeyRunner, type CommandRunner, type GatewayAnswer, type GatewayMode } from './answer-commands.ts';
import { createGatewayApp, type GatewayAppOptions } from './app.ts';
import { GatewayResp, gatewayRespOptions, type GatewayRespOptions } from './gateway-resp.ts';
import { createGatewayListener } from './node-listener.ts';
import { connectGatewayRedis, whenReady } from './redis-connection.ts';
import { expectCorpusAnswers, SEED } from '../../../../test/support/gateway-corpus.ts';

const TOKEN = 'test-token';

/** Deliver each chunk in pieces of 1..`max` bytes, one write per macrotask, so the reader sees them apart. */
function inPieces(max: number, seed: number): (chunk: Buffer, client: Socket) => void {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  let queue = Promise.resolve();
  return (chunk, client) => {
    queue = queue.then(async () => {
      for (let i = 0; i < chunk.length; ) {
        const size = 1 + (next() % max);
        client.write(chunk.subarray(i, i + size));
        i += size;
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
  };
}

const text = (a: GatewayAnswer) => ({ status: a.status, body: Buffer.from(a.body).toString('latin1') });

describe.skipIf(!requireBinary('redis-server'))('GatewayResp (real redis-server)', () => {
  let server: RedisServer;
  let redis: Redis;
  let reference: CommandRunner;
  const opened: GatewayResp[] = [];

  async function open(options: Partial<GatewayRespOptions> = {}): Promise<GatewayResp> {
    const resp = new GatewayResp({ ...gatewayRespOptions(server.url), ...options });
    opened.push(resp);
    await resp.whenReady(5000);
    return resp;
  }

  beforeAll(async () => {
    server = (await startRedisServer())!;
    redis = connectGatewayRedis(server.url);
    redis.on('error', () => {});
    await whenReady(redis);
    reference = iovalkeyRunner(redis);
  });
  afterAll(async () => {
    for (const r of opened) await r.close();
    redis?.disconnect();
    await server?.stop();
  });

  describe('answers as the iovalkey reference path does, byte for byte', () => {
    let http: HttpServer;
    let base: string;
    let options: GatewayAppOptions;
    let proxy: Proxy;

    beforeAll(async () => {
      proxy = await new Proxy(server.port).listen();
      const resp = await open({ port: proxy.port });
      options = { redis: resp, token: [TOKEN, 'second'], maxBodyBytes: 4096, enableCommands: ['flushdb'], disableCommands: ['keys'] };
      http = createHttpServer(createGatewayListener(options));
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      http?.closeAllConnections();
      await new Promise((resolve) => http?.close(resolve));
      await proxy?.close();
    });

    const compareCorpus = () => expectCorpusAnswers(redis, createGatewayApp({ ...options, redis }), base);

    it('on the corpus of requests, through the Node listener over HTTP', async () => {
      proxy.deliver = (chunk, client) => client.write(chunk);
      await compareCorpus();
    });

    it('on the corpus, with every reply split into random pieces of 1-16 bytes', async () => {
      proxy.deliver = inPieces(16, 7);
      await compareCorpus();
      proxy.deliver = (chunk, client) => client.write(chunk);
    });

    it('with a reply split at every byte', async () => {
      await redis.flushdb();
      await SEED(redis);
      const commands = [['get', 'text'], ['hgetall', 'h'], ['incr', 'n'], ['get', 'missing'], ['nosuch'], ['zrange', 'z', '0', '-1', 'withscores']];
      const want = text(await reference.run('pipeline', structuredClone(commands), true));
      const resp = options.redis as GatewayResp;
      await resp.run('pipeline', [['decr', 'n']], false);
      let length = 0;
      proxy.deliver = (chunk, client) => {
        length = chunk.length;
        client.write(chunk);
      };
      expect(text(await resp.run('pipeline', structuredClone(commands), true))).toEqual(want);
      proxy.deliver = (chunk, client) => client.write(chunk);
      await resp.run('pipeline', [['decr', 'n']], false);
      expect(length).toBeGreaterThan(100);
      for (let at = 1; at < length; at++) {
        proxy.deliver = (chunk, client) => {
          client.write(chunk.subarray(0, at));
          setTimeout(() => client.write(chunk.subarray(at)), 1);
        };
        expect(text(await resp.run('pipeline', structuredClone(commands), true))).toEqual(want);
        proxy.deliver = (chunk, client) => client.write(chunk);
        await resp.run('pipeline', [['decr', 'n']], false);
      }
      proxy.deliver = (chunk, client) => client.write(chunk);
    });
  });

  it('answers random values (any bytes, nested replies, every mode) as the reference does', async () => {
    const resp = await open();
    let state = 42;
    const rand = (n: number) => (state = (state * 1103515245 + 12345) % 2 ** 31) % n;
    const alphabet = ['a', 'é', '"', '\\', '\n', '\u0001', '😀', 'OK', ' ', '\u007f'];
    const randomText = () => Array.from({ length: rand(12) }, () => alphabet[rand(alphabet.length)]).join('');
    for (let round = 0; round < 20; round++) {
      await redis.flushdb();
      const keys = Array.from({ length: 1 + rand(30) }, (_, i) => `k${i}`);
      for (const k of keys) {
        if (rand(5) === 0) continue; // missing
        await redis.set(k, rand(3) === 0 ? Buffer.from(Array.from({ length: rand(40) }, () => rand(256))) : randomText());
      }
      await redis.hset('h', ...keys.flatMap((k) => [k, randomText()]));
      await redis.rpush('l', ...keys.map(() => randomText()));
      const commands = [['mget', ...keys], ['hgetall', 'h'], ['lrange', 'l', '0', '-1'], ['get', keys[0]], ['strlen', keys[0]], ['set', 'x', randomText()]];
      for (const mode of ['single', 'pipeline', 'multi-exec'] as GatewayMode[]) {
        for (const base64 of [false, true]) {
          const batch = mode === 'single' ? [commands[rand(commands.length)]] : commands;
          const got = text(await resp.run(mode, structuredClone(batch), base64));
          expect(got).toEqual(text(await reference.run(mode, structuredClone(batch), base64)));
        }
      }
    }
  });

  it('fails at once while Redis is down and serves again once it is back, without re-sending', async () => {
    const resp = await open();
    await resp.run('single', [['set', 'counter', '0']], false);
    await server.stop();
    const t0 = performance.now();
    await expect(resp.run('single', [['incr', 'counter']], false)).rejects.toThrow();
    expect(performance.now() - t0).toBeLessThan(100);
    expect(resp.ready).toBe(false);
    await server.restart();
    await resp.whenReady(5000);
    expect(text(await resp.run('single', [['ping']], false))).toEqual({ status: 200, body: '{"result":"PONG"}' });
    await whenReady(redis, 5000); // the reference connection reconnects on its own too
  });

  it('fails a command whose reply was lost with the connection, and does not send it again', async () => {
    const proxy = await new Proxy(server.port).listen();
    try {
      const resp = await open({ port: proxy.port });
      await resp.run('single', [['set', 'counter', '0']], false);
      proxy.deliver = () => proxy.dropAll(); // INCR ran, its reply is lost
      await expect(resp.run('single', [['incr', 'counter']], false)).rejects.toThrow(/RESP/);
      proxy.deliver = (chunk, client) => client.write(chunk);
      await resp.whenReady(5000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(text(await resp.run('single', [['get', 'counter']], false)).body).toBe('{"result":"1"}');
    } finally {
      await proxy.close();
    }
  });

  it('fails commands after commandTimeout, reconnects, and fails a garbled reply stream the same way', async () => {
    const proxy = await new Proxy(server.port).listen();
    try {
      const resp = await open({ port: proxy.port, commandTimeout: 200 });
      proxy.deliver = () => {}; // a hung server
      const t0 = performance.now();
      await expect(resp.run('single', [['ping']], false)).rejects.toThrow(/timed out after 200 ms/);
      expect(performance.now() - t0).toBeLessThan(1000);
      proxy.deliver = (chunk, client) => client.write(chunk);
      await resp.whenReady(5000);
      expect(text(await resp.run('single', [['ping']], false)).status).toBe(200);
      proxy.deliver = (_chunk, client) => client.write('!garbage\r\n');
      await expect(resp.run('single', [['ping']], false)).rejects.toThrow(/not RESP2/);
      proxy.deliver = (chunk, client) => client.write(chunk);
      await resp.whenReady(5000);
      expect(text(await resp.run('single', [['ping']], false)).status).toBe(200);
    } finally {
      await proxy.close();
    }
  });

  it('fails requests when the server refuses AUTH', async () => {
    const resp = await open({ password: 'wrong' });
    await expect(resp.run('single', [['ping']], false)).rejects.toThrow(/AUTH\/SELECT\) refused/);
  });

  it('reads its options from the URL, with iovalkey-style overrides; refuses options only iovalkey has', () => {
    expect(gatewayRespOptions('rediss://u:p%40ss@example.com:6380/2')).toEqual({ host: 'example.com', port: 6380, username: 'u', password: 'p@ss', db: 2, tls: true });
    expect(gatewayRespOptions('redis://127.0.0.1', { port: 7000, commandTimeout: 5 })).toEqual({ host: '127.0.0.1', port: 7000, commandTimeout: 5 });
    expect(() => gatewayRespOptions('redis://x', { sentinels: [] })).toThrow(/sentinels.*redisClient: 'iovalkey'/);
    expect(() => gatewayRespOptions('http://x')).toThrow(/not a Redis URL/);
  });
});
