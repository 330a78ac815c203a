/**
 * The scorer against real stores: redis-server over RESP (ValkeyStore) and `lockstep gateway` over HTTP
 * (UpstashStore) give the same scores as the in-memory store; an outage degrades scores instead of throwing (the
 * entity cache keeps serving ads and advertisers), and scoring recovers when the server is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, UpstashStore } from '@lockstep/sdk';
import { ValkeyStore, createScorer } from '@lockstep/sdk/node';
import { startGateway, type RunningGateway } from '@lockstep/offline';
import { scoreFixture, type ScoreFixture } from './support/score-fixture.ts';
import { startRedisServer, type RedisServer } from './support/redis-server.ts';

let redis: RedisServer | null;
let gateway: RunningGateway | undefined;
let fx: ScoreFixture;
let valkey: ValkeyStore;
const memory = new MemoryStore();

beforeAll(async () => {
  fx = await scoreFixture({ family: 'fm', users: 50, ads: 400, advertisers: 40, categories: 8, candidates: 60 });
  await fx.fill(memory);
  redis = await startRedisServer();
  if (!redis) return;
  valkey = new ValkeyStore({ url: redis.url });
  await fx.fill(valkey);
  gateway = await startGateway({ port: 0, redisUrl: redis.url, token: 'test-token' });
});

afterAll(async () => {
  await valkey?.close();
  await gateway?.close();
  await redis?.stop();
});

describe('scorer over real stores', () => {
  it('scores the same over RESP, over HTTP and in memory', async (ctx) => {
    if (!redis) return ctx.skip();
    const upstash = new UpstashStore({ url: gateway!.url, token: 'test-token' });
    const scorers = await Promise.all([memory, valkey, upstash].map((store) => createScorer({ bundle: fx.bundle, store, deadlineMs: 2000 })));
    for (let i = 0; i < 5; i++) {
      const [a, b, c] = await Promise.all(scorers.map((s) => s.score(fx.request(i))));
      expect(b.scores).toEqual(a.scores);
      expect(c.scores).toEqual(a.scores);
      expect([a.degraded, b.degraded, c.degraded]).toEqual([false, false, false]);
    }
    await upstash.close();
  });

  it('degrades during an outage, keeps cached entities, and recovers', async (ctx) => {
    if (!redis) return ctx.skip();
    const scorer = await createScorer({ bundle: fx.bundle, store: valkey, deadlineMs: 50 });
    const req = fx.request(7);
    // Per-call deadlines generous enough for a loaded CI machine where the test expects complete answers.
    const healthy = await scorer.score(req, { deadlineMs: 5000 });
    expect(healthy.degraded).toBe(false);

    await redis.stop();
    const t0 = performance.now();
    const down = await scorer.score(req);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(down.degraded).toBe(true);
    expect(down.scores.every((s) => s > 0 && s < 1)).toBe(true);
    // Only the user's views went to the store; ads and advertisers came from the entity cache.
    expect(new Set(down.defaulted.map((d) => d.view))).toEqual(new Set(['user_stats', 'user_category_stats']));
    expect(down.defaulted.every((d) => d.reason === 'store_error' || d.reason === 'deadline')).toBe(true);
    await expect(scorer.score(req, { strict: true })).rejects.toMatchObject({ name: 'StoreError' });

    await redis.restart();
    await fx.fill(valkey);
    let back = await scorer.score(req, { deadlineMs: 1000 });
    for (let i = 0; i < 50 && back.degraded; i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = await scorer.score(req, { deadlineMs: 1000 });
    }
    expect(back.degraded).toBe(false);
    expect(back.scores).toEqual(healthy.scores);
  });
});
