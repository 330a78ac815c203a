/**
 * The unmodified `@upstash/redis` client against `lockstep gateway` started for real (HTTP on 127.0.0.1) in
 * front of a real redis-server: the protocol as the client speaks it, not as we think it does.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from '@upstash/redis';
import { startGateway, type RunningGateway } from '@lockstep/offline';
import { freePort, requireBinary, startRedisServer, type RedisServer } from './support/redis-server.ts';

const TOKEN = 'e2e-token';

describe.skipIf(!requireBinary('redis-server'))('@upstash/redis against lockstep gateway', () => {
  let server: RedisServer;
  let gateway: RunningGateway;
  let redis: Redis;

  beforeAll(async () => {
    server = (await startRedisServer())!;
    gateway = await startGateway({ port: 0, redisUrl: server.url, token: TOKEN, maxBodyBytes: 64 * 1024, enableCommands: ['flushdb'] });
    // retry: false: a refused connection should fail the test at once, not after 5 back-offs.
    redis = new Redis({ url: gateway.url, token: TOKEN, retry: false, enableTelemetry: false });
  });
  afterAll(async () => {
    await gateway?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    await redis.flushdb();
  });

  it('get / set with EX, PX, NX, XX and GET options', async () => {
    expect(await redis.set('k', 'v1', { ex: 100 })).toBe('OK');
    expect(await redis.get('k')).toBe('v1');
    const ttl = await redis.ttl('k');
    expect(ttl).toBeGreaterThan(90);
    expect(await redis.set('k', 'v2', { nx: true })).toBeNull();
    expect(await redis.set('k', 'v3', { xx: true })).toBe('OK');
    expect(await redis.set('other', 'x', { xx: true })).toBeNull();
    expect(await redis.set('k', 'v4', { px: 50_000, get: true })).toBe('v3');
    expect(await redis.pttl('k')).toBeGreaterThan(40_000);
    expect(await redis.get('missing')).toBeNull();
  });

  it('round-trips JSON values, numbers and unicode', async () => {
    const row = { ctr: 0.031, clicks: 12, seg: 'héllo wörld ✓ 😀', nested: { a: [1, 2] } };
    await redis.set('row', row);
    expect(await redis.get('row')).toEqual(row);
    await redis.set('num', 42);
    expect(await redis.get('num')).toBe(42);
    await redis.set('text', 'ünïcödé "quoted" \\ back\nslash');
    expect(await redis.get('text')).toBe('ünïcödé "quoted" \\ back\nslash');
    await redis.set('ok', 'OK');
    expect(await redis.get('ok')).toBe('OK');
  });

  it('mget, del, exists, expire, ttl, incr', async () => {
    await redis.mset({ a: 'x', b: 'y' });
    expect(await redis.mget('a', 'nope', 'b')).toEqual(['x', null, 'y']);
    expect(await redis.incr('counter')).toBe(1);
    expect(await redis.incrby('counter', 9)).toBe(10);
    expect(await redis.expire('a', 50)).toBe(1);
    expect(await redis.ttl('a')).toBeGreaterThan(40);
    expect(await redis.ttl('b')).toBe(-1);
    expect(await redis.del('a', 'b', 'nope')).toBe(2);
    expect(await redis.exists('a', 'b')).toBe(0);
  });

  it('hset / hgetall / hget / hmget', async () => {
    expect(await redis.hset('user:1', { clicks: 3, seg: 'sports', name: 'Zoë' })).toBe(3);
    expect(await redis.hgetall('user:1')).toEqual({ clicks: 3, seg: 'sports', name: 'Zoë' });
    expect(await redis.hget('user:1', 'name')).toBe('Zoë');
    expect(await redis.hmget('user:1', 'seg', 'nope')).toEqual({ seg: 'sports', nope: null });
    expect(await redis.hgetall('nobody')).toBeNull();
  });

  it('lists, sets and sorted sets (nested arrays)', async () => {
    await redis.rpush('l', 'a', 'b', 'c');
    expect(await redis.lrange('l', 0, -1)).toEqual(['a', 'b', 'c']);
    await redis.sadd('s', 'x');
    expect(await redis.smembers('s')).toEqual(['x']);
    await redis.zadd('z', { score: 1, member: 'one' }, { score: 2, member: 'two' });
    expect(await redis.zrange('z', 0, -1, { withScores: true })).toEqual(['one', 1, 'two', 2]);
    expect(await redis.type('z')).toBe('zset');
    expect(await redis.ping()).toBe('PONG');
  });

  it('pipeline()', async () => {
    const p = redis.pipeline();
    p.set('p1', 'v');
    p.get('p1');
    p.incr('p2');
    p.hset('h', { f: 'v' });
    p.hgetall('h');
    expect(await p.exec()).toEqual(['OK', 'v', 1, 1, { f: 'v' }]);
  });

  it('pipeline() reports a failed command by position', async () => {
    await redis.set('str', 'x');
    const p = redis.pipeline();
    p.get('str');
    p.lpush('str', 'y');
    await expect(p.exec()).rejects.toThrow(/Command 2 \[ lpush \] failed: WRONGTYPE/);
    const kept = redis.pipeline();
    kept.get('str');
    kept.lpush('str', 'y');
    const results = await kept.exec({ keepErrors: true });
    expect(results[0]).toEqual({ error: undefined, result: 'x' });
    expect(results[1].error).toMatch(/WRONGTYPE/);
  });

  it('multi() runs a transaction', async () => {
    const m = redis.multi();
    m.set('t', 1);
    m.incr('t');
    m.get('t');
    expect(await m.exec()).toEqual(['OK', 2, 2]);
  });

  it('auto-pipelines concurrent calls into one request and keeps each result apart', async () => {
    await redis.set('x', 'y');
    const [a, b, c, d] = await Promise.all([redis.get('x'), redis.incr('n'), redis.get('nope'), redis.lpush('x', 'z').catch((e: Error) => e)]);
    expect([a, b, c]).toEqual(['y', 1, null]);
    expect(d).toBeInstanceOf(Error);
    expect(String(d)).toMatch(/WRONGTYPE/);
  });

  it('surfaces errors as UpstashError messages', async () => {
    await redis.set('str', 'x');
    await expect(redis.lpush('str', 'y')).rejects.toThrow(/WRONGTYPE/);
    await expect(redis.flushall()).rejects.toThrow(/disabled on this gateway/);
  });

  it('answers 401 to a wrong token', async () => {
    const wrong = new Redis({ url: gateway.url, token: 'wrong', retry: false, enableTelemetry: false });
    await expect(wrong.get('k')).rejects.toThrow(/Unauthorized/);
    const res = await fetch(gateway.url, { method: 'POST', body: '["ping"]' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'Unauthorized' });
  });

  it('answers 400 to malformed JSON and 413 to oversized bodies', async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const bad = await fetch(`${gateway.url}/pipeline`, { method: 'POST', headers, body: '[["get","k"' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/JSON/);
    await expect(redis.set('big', 'x'.repeat(70 * 1024))).rejects.toThrow(/larger than 65536 bytes/);
    const big = await fetch(gateway.url, { method: 'POST', headers, body: JSON.stringify(['set', 'big', 'x'.repeat(70 * 1024)]) });
    expect(big.status).toBe(413);
    // Still serving afterwards.
    expect(await redis.ping()).toBe('PONG');
  });

  it('echoes the read-your-writes sync token', async () => {
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'upstash-sync-token': 'tok-1' },
      body: '["ping"]',
    });
    expect(res.headers.get('upstash-sync-token')).toBe('tok-1');
  });

  it('starts before Redis is up, answers 503, and serves once Redis appears', async () => {
    const port = await freePort();
    const early = await startGateway({ port: 0, redisUrl: `redis://127.0.0.1:${port}`, token: TOKEN, redisWaitMs: 200 });
    try {
      const client = new Redis({ url: early.url, token: TOKEN, retry: false, enableTelemetry: false });
      await expect(client.ping()).rejects.toThrow(/redis unavailable/);
      const late = (await startRedisServer({ port }))!;
      try {
        const deadline = Date.now() + 10_000;
        let pong: unknown = null;
        while (Date.now() < deadline && pong !== 'PONG') {
          pong = await client.ping().catch(() => null);
          if (pong !== 'PONG') await new Promise((r) => setTimeout(r, 50));
        }
        expect(pong).toBe('PONG');
      } finally {
        await late.stop();
      }
    } finally {
      await early.close();
    }
  });

  it('answers 5xx during a Redis outage and works again once Redis is back', async () => {
    await redis.set('before', '1');
    await server.stop();
    await expect(redis.get('before')).rejects.toThrow(/redis unavailable/);
    const res = await fetch(gateway.url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '["ping"]' });
    expect(res.status).toBe(503);
    await server.restart();
    const deadline = Date.now() + 10_000;
    let pong: unknown = null;
    while (Date.now() < deadline && pong !== 'PONG') {
      pong = await redis.ping().catch(() => null);
      if (pong !== 'PONG') await new Promise((r) => setTimeout(r, 50));
    }
    expect(pong).toBe('PONG');
    expect(await redis.set('after', 'v')).toBe('OK');
    expect(await redis.get('after')).toBe('v');
  });
});
