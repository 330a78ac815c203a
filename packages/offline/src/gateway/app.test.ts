import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'iovalkey';
import type { Hono } from 'hono';
import { requireBinary, startRedisServer, type RedisServer } from '../../../../test/support/redis-server.ts';
import { createGatewayApp } from './app.ts';
import { connectGatewayRedis, whenReady } from './redis-connection.ts';

const TOKEN = 'test-token';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe.skipIf(!requireBinary('redis-server'))('gateway app (real redis-server)', () => {
  let server: RedisServer;
  let redis: Redis;
  let app: Hono;

  beforeAll(async () => {
    server = (await startRedisServer())!;
    redis = connectGatewayRedis(server.url);
    redis.on('error', () => {}); // reconnect noise during the outage test
    await whenReady(redis);
    app = createGatewayApp({ redis, token: [TOKEN, 'second-token'], maxBodyBytes: 4096, enableCommands: ['flushdb'] });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await post('/', ['flushdb']);
  });

  function post(path: string, body: unknown, headers: Record<string, string> = {}, base64 = false) {
    return app.request(path, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        ...(base64 ? { 'upstash-encoding': 'base64' } : {}),
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }
  async function json(res: Response | Promise<Response>) {
    const r = await res;
    return { status: r.status, body: (await r.json()) as unknown };
  }

  describe('auth', () => {
    it('answers 401 without a token, with a wrong one, and with a non-Bearer scheme', async () => {
      for (const authorization of [undefined, 'Bearer nope', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, 'Bearer ']) {
        const res = await app.request('/', { method: 'POST', headers: authorization ? { authorization } : {}, body: '["ping"]' });
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ error: 'Unauthorized' });
      }
    });

    it('accepts every configured token', async () => {
      expect(await json(post('/', ['ping'], { authorization: 'Bearer second-token' }))).toEqual({ status: 200, body: { result: 'PONG' } });
    });

    it('refuses to build without a token unless insecureNoAuth', async () => {
      expect(() => createGatewayApp({ redis })).toThrow(/token/);
      const open = createGatewayApp({ redis, insecureNoAuth: true });
      expect((await open.request('/', { method: 'POST', body: '["ping"]' })).status).toBe(200);
    });
  });

  describe('single commands at /', () => {
    it('sets and gets with options, plain and base64', async () => {
      expect(await json(post('/', ['set', 'k', 'héllo', 'ex', 100]))).toEqual({ status: 200, body: { result: 'OK' } });
      expect(await json(post('/', ['set', 'k', 'x', 'nx']))).toEqual({ status: 200, body: { result: null } });
      expect(await json(post('/', ['get', 'k']))).toEqual({ status: 200, body: { result: 'héllo' } });
      expect(await json(post('/', ['get', 'k'], {}, true))).toEqual({ status: 200, body: { result: b64('héllo') } });
      expect(await json(post('/', ['set', 'k', 'v2'], {}, true))).toEqual({ status: 200, body: { result: 'OK' } });
      const ttl = (await json(post('/', ['ttl', 'k']))).body as { result: number };
      expect(ttl.result).toBe(-1); // SET without EX clears the TTL
    });

    it('encodes nested arrays, integers and nulls', async () => {
      await post('/', ['hset', 'h', 'f1', 'v1', 'f2', 2]);
      expect(await json(post('/', ['hgetall', 'h'], {}, true))).toEqual({
        status: 200,
        body: { result: [b64('f1'), b64('v1'), b64('f2'), b64('2')] },
      });
      expect(await json(post('/', ['hgetall', 'h']))).toEqual({ status: 200, body: { result: ['f1', 'v1', 'f2', '2'] } });
      expect(await json(post('/', ['mget', 'h', 'missing']))).toEqual({ status: 200, body: { result: [null, null] } });
      expect(await json(post('/', ['incrby', 'n', 41]))).toEqual({ status: 200, body: { result: 41 } });
      await post('/', ['zadd', 'z', 1, 'a', 2, 'b']);
      expect(await json(post('/', ['zrange', 'z', 0, -1, 'withscores'], {}, true))).toEqual({
        status: 200,
        body: { result: [b64('a'), b64('1'), b64('b'), b64('2')] },
      });
      // Simple-string replies other than OK are base64 too, as Upstash sends them.
      expect(await json(post('/', ['type', 'h'], {}, true))).toEqual({ status: 200, body: { result: b64('hash') } });
    });

    it('accepts booleans as @upstash/redis serialises them', async () => {
      expect(await json(post('/', ['set', 'b', true]))).toEqual({ status: 200, body: { result: 'OK' } });
      expect(await json(post('/', ['get', 'b']))).toEqual({ status: 200, body: { result: 'true' } });
    });

    it('answers 400 {error} when Redis refuses the command', async () => {
      await post('/', ['set', 's', 'x']);
      const res = await json(post('/', ['lpush', 's', 'y']));
      expect(res.status).toBe(400);
      expect((res.body as { error: string }).error).toMatch(/^WRONGTYPE/);
      const unknown = await json(post('/', ['nosuchcommand', 'x']));
      expect(unknown.status).toBe(400);
      expect((unknown.body as { error: string }).error).toMatch(/unknown command/i);
    });

    it('echoes the upstash-sync-token header', async () => {
      const res = await post('/', ['ping'], { 'upstash-sync-token': 'abc123' });
      expect(res.headers.get('upstash-sync-token')).toBe('abc123');
      expect(res.headers.get('content-type')).toBe('application/json');
      expect((await post('/', ['ping'])).headers.get('upstash-sync-token')).toBeNull();
    });
  });

  describe('/pipeline', () => {
    it('runs commands in order and answers an entry per command, errors included', async () => {
      const res = await json(post('/pipeline', [['set', 'a', '1'], ['incr', 'a'], ['hset', 'a', 'f', 'v'], ['get', 'a'], ['get', 'none']], {}, true));
      expect(res.status).toBe(200);
      const body = res.body as Array<{ result?: unknown; error?: string }>;
      expect(body[0]).toEqual({ result: 'OK' });
      expect(body[1]).toEqual({ result: 2 });
      expect(body[2].error).toMatch(/^WRONGTYPE/);
      expect(body[3]).toEqual({ result: b64('2') });
      expect(body[4]).toEqual({ result: null });
    });
  });

  describe('/multi-exec', () => {
    it('runs the commands as one transaction', async () => {
      const res = await json(post('/multi-exec', [['set', 't', '1'], ['incr', 't'], ['lpush', 't', 'x'], ['get', 't']]));
      expect(res.status).toBe(200);
      const body = res.body as Array<{ result?: unknown; error?: string }>;
      expect(body[0]).toEqual({ result: 'OK' });
      expect(body[1]).toEqual({ result: 2 });
      expect(body[2].error).toMatch(/^WRONGTYPE/); // runtime errors do not abort EXEC
      expect(body[3]).toEqual({ result: '2' });
    });

    it('answers 400 and runs nothing when a command is refused while queueing', async () => {
      const res = await json(post('/multi-exec', [['set', 'u', '1'], ['nosuchcommand'], ['set', 'v', '2']]));
      expect(res.status).toBe(400);
      expect((res.body as { error: string }).error).toMatch(/EXECABORT.*command 1/);
      expect(await json(post('/', ['exists', 'u', 'v']))).toEqual({ status: 200, body: { result: 0 } });
    });
  });

  describe('bad requests', () => {
    it.each([
      ['malformed JSON', '/', '["get", "k"', 400, /parse the request body as JSON/],
      ['an object body', '/', '{"cmd":"get"}', 400, /non-empty JSON array/],
      ['an empty command', '/', '[]', 400, /non-empty JSON array/],
      ['a numeric command name', '/', '[1, "k"]', 400, /command name must be a non-empty string/],
      ['an object argument', '/', '["set", "k", {"a":1}]', 400, /argument 2 must be a string, a number or a boolean, got an object/],
      ['a null argument', '/', '["set", "k", null]', 400, /argument 2 must be a string, a number or a boolean, got null/],
      ['a flat pipeline', '/pipeline', '["get", "k"]', 400, /command 0 must be a non-empty JSON array/],
      ['an empty pipeline', '/pipeline', '[]', 400, /non-empty JSON array of commands/],
      ['a disabled admin command', '/', '["flushall"]', 403, /'flushall' is disabled/],
      ['CONFIG', '/pipeline', '[["ping"],["config","set","maxmemory","1"]]', 403, /'config' is disabled/],
      ['SELECT on the shared connection', '/', '["select", "1"]', 403, /shared by all requests/],
      ['MULTI as a command', '/', '["multi"]', 403, /multi-exec/],
      ['SUBSCRIBE', '/', '["subscribe", "ch"]', 403, /not supported/],
      ['BLPOP', '/', '["blpop", "q", "0"]', 403, /block the connection/],
      ['XREAD BLOCK', '/', '["xread", "block", "0", "streams", "s", "$"]', 403, /xread with BLOCK/],
    ])('answers %s with a clear error', async (_what, path, body, status, message) => {
      const res = await post(path, body);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    });

    it('lets the non-blocking XREAD through', async () => {
      await post('/', ['xadd', 's', '*', 'f', 'v']);
      const res = await json(post('/', ['xread', 'count', 1, 'streams', 's', '0']));
      expect(res.status).toBe(200);
    });

    it('does not run any command of a batch when one is refused', async () => {
      expect((await post('/pipeline', [['set', 'p', '1'], ['shutdown']])).status).toBe(403);
      expect(await json(post('/', ['exists', 'p']))).toEqual({ status: 200, body: { result: 0 } });
    });

    it('answers 404 for unknown paths and 405 for other methods', async () => {
      const res = await post('/get/k', ['get', 'k']);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: string }).error).toMatch(/unknown path/);
      const get = await app.request('/pipeline', { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
    });

    it('answers 413 for bodies above maxBodyBytes, declared or chunked', async () => {
      const big = JSON.stringify(['set', 'big', 'x'.repeat(5000)]);
      const declared = await post('/', big, { 'content-length': String(big.length) });
      expect(declared.status).toBe(413);
      expect(((await declared.json()) as { error: string }).error).toMatch(/larger than 4096 bytes/);
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1000)));
          controller.close();
        },
      });
      const chunked = await app.request('/', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(await json(post('/', ['exists', 'big']))).toEqual({ status: 200, body: { result: 0 } });
    });
  });

  it('answers 503 while Redis is down and recovers when it is back', async () => {
    await server.stop();
    const down = await post('/', ['ping']);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { error: string }).error).toMatch(/redis unavailable/);
    expect((await post('/pipeline', [['ping']])).status).toBe(503);
    await server.restart();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await post('/', ['ping'])).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
    expect(await json(post('/', ['set', 'back', '1']))).toEqual({ status: 200, body: { result: 'OK' } });
  });
});
