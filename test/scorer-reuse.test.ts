/**
 * A scorer answers each request as if it were its first: the working memory it keeps across requests (vector
 * buffers, the request-level and per-candidate rows, the per-view maps that deduplicate user × category entities,
 * the entity cache's memoised slots) must never leak one request's values into another's. A long-lived scorer over
 * many requests (different users, overlapping categories, missing rows) is compared with a fresh scorer per request
 * without entity cache, bit for bit, reports included.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore, createScorer } from '@lockstep/sdk';
import { scoreFixture } from './support/score-fixture.ts';

describe('scorer reuse across requests', () => {
  it('gives a long-lived scorer the answers of a fresh one, request after request', async () => {
    const fx = await scoreFixture({ family: 'lr', users: 30, ads: 300, advertisers: 30, categories: 6, candidates: 40 });
    const store = new MemoryStore();
    await fx.fill(store);
    const warm = await createScorer({ bundle: fx.bundle, store, deadlineMs: Infinity });
    const requests = Array.from({ length: 40 }, (_, i) => {
      const req = fx.request(i);
      // Every fourth request names a user without rows: its user and user × category features are defaulted.
      return i % 4 === 3 ? { ...req, user: { user_id: 10_000 + i } } : req;
    });
    for (const pass of [0, 1]) {
      for (const req of requests) {
        const fresh = await createScorer({ bundle: fx.bundle, store, deadlineMs: Infinity, entityCache: false });
        const want = await fresh.score(req);
        const got = await warm.score(req);
        // toEqual compares numbers with Object.is: bit for bit, up to NaN payloads.
        expect(got.scores).toEqual(want.scores);
        if (req.user.user_id >= 10_000) expect(got.defaulted.some((d) => d.view === 'user_category_stats' && d.reason === 'missing')).toBe(true);
        expect(got.defaulted).toEqual(want.defaulted);
        await fresh.close();
      }
      // The second pass meets every entity again: cache hits and memoised slots this time.
      if (pass === 1) expect(warm.cache!.hits).toBeGreaterThan(0);
    }
    await warm.close();
  });
});
