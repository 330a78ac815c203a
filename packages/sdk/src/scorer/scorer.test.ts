import { describe, expect, it } from 'vitest';
import { BundleError, InputError, StoreError } from '../errors.ts';
import { modelGraph, randomModel, writeOnnx } from '../engine/builtin/test-fixtures.ts';
import { loadBuiltin } from '../engine/builtin/builtin-backend.ts';
import { onnxruntimeWebBackend } from '../engine/onnxruntime-web.ts';
import { featureColumn } from '../spec/feature-view.ts';
import { resolveFeatures } from '../store/resolve-features.ts';
import type { OnlineStore, ReadRequest } from '../store/types.ts';
import { compileVectorizer } from '../vectorizer.ts';
import { createScorer } from './scorer.ts';
import { EVENT_TIME, HOUR, INPUT, VIEWS, candidates, fillStore, makeScorerBundle, memoryStore } from './test-fixtures.ts';

/** A store decorator that records every read and can delay or fail it (a fake of our own interface). */
function recording(inner: OnlineStore, behaviour: { delayMs?: number; fail?: boolean } = {}) {
  const reads: ReadRequest[][] = [];
  const store: OnlineStore = {
    async readRows(requests, options) {
      reads.push([...requests]);
      if (behaviour.fail) throw new StoreError('connection refused');
      if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
      return inner.readRows(requests, options);
    },
    writeRows: (...a) => inner.writeRows(...a),
    publish: (...a) => inner.publish(...a),
    close: () => inner.close(),
  };
  return { store, reads, behaviour };
}

async function setup(options: { delayMs?: number; fail?: boolean } = {}) {
  const mem = memoryStore();
  await fillStore(mem);
  return { mem, ...recording(mem, options) };
}

const TS = EVENT_TIME + 2 * HOUR + 123_456;
const request = (ids = [1, 2, 3, 11, 12, 21], user = 1) => ({ user: { user_id: user }, context: { ts: TS, device: 'ios' }, candidates: candidates(ids) });

/**
 * Each candidate's training row, assembled independently ({...user, ...context, ...candidate, ts, features}), its
 * vector by the full vectoriser and its score by the engine on that one row.
 */
async function reference(mem: OnlineStore, bundle: Map<string, Uint8Array>, req: ReturnType<typeof request>, input = INPUT) {
  const vec = compileVectorizer(input);
  const engine = loadBuiltin({ bytes: bundle.get('model.onnx')!, width: vec.width });
  const keys = [
    [VIEWS.user, (c: Record<string, unknown>) => [c.user_id]],
    [VIEWS.ad, (c: Record<string, unknown>) => [c.ad_id]],
    [VIEWS.advertiser, (c: Record<string, unknown>) => [c.advertiser_id]],
    [VIEWS.userCategory, (c: Record<string, unknown>) => [c.user_id, c.category]],
  ] as const;
  const out: Array<{ row: Record<string, unknown>; indices: Int32Array; values: Float32Array; score: number }> = [];
  for (const cand of req.candidates) {
    const row: Record<string, unknown> = { ...req.user, ...req.context, ...cand, ts: req.context.ts };
    for (const [view, key] of keys) {
      const [stored] = (await mem.readRows([{ view, entities: [key(row) as never] }], { project: 'demo' }))[0];
      const { values } = resolveFeatures(view, stored, req.context.ts);
      view.features.forEach((f, i) => (row[featureColumn(view.name, f.name)] = values[i]));
    }
    const { indices, values } = vec.vectorizeOne(row);
    const score = new Float32Array(1);
    engine.run(indices, values, 1, score);
    out.push({ row, indices, values, score: score[0] });
  }
  return out;
}

describe('score()', () => {
  it('follows each request in fields of an uncached entity that also read request values (device × category)', async () => {
    const { mem, store } = await setup();
    const bundle = await makeScorerBundle();
    for (const entityCache of [{}, false] as const) {
      const scorer = await createScorer({ bundle, store, deadlineMs: Infinity, entityCache });
      // Same candidates, the device and the user changing between requests: each request's own values are used.
      for (const [device, user] of [['ios', 1], ['android', 1], ['ios', 2], ['web', 3], ['android', 2]] as const) {
        const req = { ...request([1, 2, 3, 11, 12, 21, 13, 4], user), context: { ts: TS, device } };
        expect((await scorer.score(req)).scores).toEqual((await reference(mem, bundle, req)).map((x) => x.score));
      }
      await scorer.close();
    }
  });

  it('computes the training rows of per-candidate fields reading many candidate values, declared or not', async () => {
    const { mem, store } = await setup();
    // Per-candidate fields reading five declared candidate fields (past the assembly's three written-out sites) and
    // an undeclared one (slot2), besides the context's device.
    const fields = INPUT.fields.map((f) =>
      f.name === 'ad'
        ? { ...f, inputs: ['ad_id', 'advertiser_id', 'category'] }
        : f.name === 'device_x_category'
          ? { ...f, inputs: ['device', 'bid', 'slot', 'slot2'] }
          : f,
    );
    const input = { ...INPUT, fields };
    const extraRequestFields = [
      { name: 'bid', type: 'number', scope: 'candidate' },
      { name: 'slot', type: 'number', scope: 'candidate' },
    ] as const;
    const bundle = await makeScorerBundle({ input, extraRequestFields: [...extraRequestFields] });
    for (const entityCache of [{}, false] as const) {
      const scorer = await createScorer({ bundle, store, deadlineMs: Infinity, entityCache });
      for (const user of [1, 2, 1]) {
        const base = request([1, 2, 3, 11, 12, 21, 13, 4], user);
        const req = { ...base, candidates: base.candidates.map((c, i) => ({ ...c, slot: i % 3, slot2: i & 1 ? 'x' : 'y' })) };
        expect((await scorer.score(req)).scores).toEqual((await reference(mem, bundle, req, input)).map((x) => x.score));
      }
      await scorer.close();
    }
  });

  it('gives the same scores cache on as cache off, whatever mix of cached, remembered and new ads a request has', async () => {
    const { store } = await setup();
    const bundle = await makeScorerBundle();
    const cached = await createScorer({ bundle, store, deadlineMs: Infinity, entityCache: { maxEntries: 40 } });
    const plain = await createScorer({ bundle, store, deadlineMs: Infinity, entityCache: false });
    let x = 5;
    const random = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0) >>> 0) / 2 ** 32;
    for (let i = 0; i < 40; i++) {
      // Ads met before (slots memoised, engine terms remembered) and new ones, at other positions each time; some
      // evicted (40 entries per view), the cache sometimes cleared.
      const ids = Array.from({ length: 1 + Math.floor(random() * 30) }, () => 1 + Math.floor(random() * (i < 20 ? 30 : 200)));
      const req = request(ids, 1 + (i % 3));
      if (i % 13 === 12) cached.cache!.clear();
      expect((await cached.score(req)).scores).toEqual((await plain.score(req)).scores);
    }
  });

  it('computes exactly the training row, vector and score for every candidate', async () => {
    const { mem, store } = await setup();
    const bundle = await makeScorerBundle();
    const scorer = await createScorer({ bundle, store, deadlineMs: Infinity });
    expect(scorer.model).toMatchObject({ name: 'ads-ctr', family: 'lr', backend: 'builtin', mode: 'fused-lr', project: 'demo' });
    const req = request();
    const res = await scorer.score(req, { debug: true });

    const width = INPUT.fields.length;
    for (const [r, { row, indices, values, score }] of (await reference(mem, bundle, req)).entries()) {
      // The debug row holds every value the model reads, as the training row has it.
      for (const name of INPUT.fields.flatMap((f) => f.inputs)) expect([name, res.debug!.rows[r][name]]).toEqual([name, row[name]]);
      expect(res.debug!.indices.subarray(r * width, (r + 1) * width)).toEqual(indices);
      expect(res.debug!.values.subarray(r * width, (r + 1) * width)).toEqual(values);
      expect(res.scores[r]).toBe(score);
    }
    expect(res.degraded).toBe(false);
    // user 1's features are all stored and fresh; every candidate's too.
    expect(res.defaulted).toEqual([]);
    expect(res.ts).toBe(TS);
  });

  it('reads every entity of the request in one store round trip, deduplicated', async () => {
    const { store, reads } = await setup();
    const scorer = await createScorer({ bundle: await makeScorerBundle(), store, entityCache: false });
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    const res = await scorer.score({ user: { user_id: 2 }, context: { ts: TS, device: 'web' }, candidates: candidates(ids) });
    expect(res.scores).toHaveLength(100);
    expect(reads).toHaveLength(1);
    const count = Object.fromEntries(reads[0].map((r) => [r.view.name, r.entities.length]));
    expect(count).toEqual({ user_stats: 1, ad_stats: 100, advertiser_stats: 20, user_category: 10 });
  });

  it('serves ads and advertisers from the entity cache within the staleness bound', async () => {
    const { store, reads } = await setup();
    let now = 1_000_000;
    const scorer = await createScorer({ bundle: await makeScorerBundle(), store, now: () => now, entityCache: { maxStalenessMs: 1000 } });
    const first = await scorer.score(request());
    const second = await scorer.score(request());
    expect(second.scores).toEqual(first.scores);
    expect(reads.map((r) => r.map((q) => q.view.name))).toEqual([
      ['user_stats', 'ad_stats', 'advertiser_stats', 'user_category'],
      ['user_stats', 'user_category'],
    ]);
    now += 1001;
    await scorer.score(request());
    expect(reads[2].map((q) => q.view.name)).toEqual(['user_stats', 'ad_stats', 'advertiser_stats', 'user_category']);
    expect(scorer.cache!.hits).toBeGreaterThan(0);
    scorer.cache!.clear();
    expect(scorer.cache!.size).toBe(0);
  });

  it('reports which features took defaults and why', async () => {
    const { store } = await setup();
    const scorer = await createScorer({ bundle: await makeScorerBundle(), store });
    // user 3 has a null ctr; user 9 has no rows; ad 999 has no row.
    const res = await scorer.score({ user: { user_id: 3 }, context: { ts: TS, device: 'ios' }, candidates: candidates([1, 999]) });
    expect(res.defaulted).toEqual([
      { view: 'user_stats', entity: [3], reason: 'null', features: ['ctr_7d'] },
      { view: 'ad_stats', entity: [999], reason: 'missing', features: ['ctr_7d', 'impressions_7d'] },
    ]);
    expect(res.degraded).toBe(false);
    // 49 hours later every row is past its 48-hour TTL.
    const late = await scorer.score({ user: { user_id: 1 }, context: { ts: EVENT_TIME + 48 * HOUR, device: 'ios' }, candidates: candidates([1]) });
    expect(new Set(late.defaulted.map((d) => d.reason))).toEqual(new Set(['expired']));
    expect(late.defaulted).toHaveLength(4);
  });

  it('answers with defaults at the deadline, and throws only when strict', async () => {
    const { store, behaviour } = await setup({ delayMs: 60 });
    const scorer = await createScorer({ bundle: await makeScorerBundle(), store, deadlineMs: 5 });
    const t0 = performance.now();
    const res = await scorer.score(request());
    expect(performance.now() - t0).toBeLessThan(50);
    expect(res.degraded).toBe(true);
    expect(res.scores.every((s) => s > 0 && s < 1)).toBe(true);
    expect(new Set(res.defaulted.map((d) => d.reason))).toEqual(new Set(['deadline']));
    expect(res.defaulted.map((d) => d.view)).toContain('ad_stats');
    await expect(scorer.score(request(), { strict: true })).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
    // The late answer warmed the entity cache: the next request reads only user views and makes the deadline.
    await new Promise((r) => setTimeout(r, 80));
    behaviour.delayMs = 0;
    const next = await scorer.score(request());
    expect(next.degraded).toBe(false);
  });

  it('degrades on a store failure instead of throwing', async () => {
    const { store } = await setup({ fail: true });
    const scorer = await createScorer({ bundle: await makeScorerBundle(), store });
    const res = await scorer.score(request());
    expect(res.degraded).toBe(true);
    expect(new Set(res.defaulted.map((d) => d.reason))).toEqual(new Set(['store_error']));
    const strict = await createScorer({ bundle: await makeScorerBundle(), store, strict: true });
    await expect(strict.score(request())).rejects.toBeInstanceOf(StoreError);
  });

  it('refuses requests that do not fit the bundle, naming the field', async () => {
    const { store, reads } = await setup();
    const scorer = await createScorer({ bundle: await makeScorerBundle(), store, maxCandidates: 10 });
    const bad = async (req: unknown) => scorer.score(req as never).catch((e: unknown) => e as InputError);
    expect(await bad({ user: {}, context: { device: 'ios' }, candidates: [] })).toMatchObject({ code: 'INVALID_INPUT', field: 'user.user_id' });
    const wrongType = request();
    (wrongType.candidates[2] as Record<string, unknown>).ad_id = 'three';
    expect(await bad(wrongType)).toMatchObject({ field: 'candidates[2].ad_id', message: 'candidates[2].ad_id must be a finite number, got string' });
    expect(await bad({ user: { user_id: 1 }, context: { device: 'ios', ts: 'yesterday' }, candidates: [] })).toMatchObject({ field: 'context.ts' });
    expect(await bad({ user: { user_id: 1 }, context: { device: 'ios' }, candidates: {} })).toMatchObject({ field: 'candidates' });
    expect(await bad({ user: { user_id: 1 }, context: { device: 'ios' }, candidates: candidates(Array.from({ length: 11 }, (_, i) => i)) })).toMatchObject({ field: 'candidates' });
    expect(await bad(null)).toBeInstanceOf(InputError);
    // A finite number that means nothing: a time no Date holds (it defaulted every feature without a word).
    expect(await bad({ user: { user_id: 1 }, context: { device: 'ios', ts: 1e300 }, candidates: [] })).toMatchObject({ field: 'context.ts' });
    expect(reads).toHaveLength(0);
    // An empty candidate list is a valid request.
    expect((await scorer.score({ user: { user_id: 1 }, context: { device: 'ios' }, candidates: [] })).scores).toEqual([]);
  });

  it('refuses options that are not what they claim, naming the option (a NaN deadline used to mean none)', async () => {
    const { store } = await setup();
    const bundle = await makeScorerBundle();
    const refused = (options: Record<string, unknown>) => createScorer({ bundle, store, ...options } as never).catch((e: unknown) => e);
    expect(await refused({ deadlineMs: Number.NaN })).toMatchObject({ code: 'INVALID_INPUT', field: 'deadlineMs' });
    expect(await refused({ deadlineMs: '5' })).toMatchObject({ code: 'INVALID_INPUT', field: 'deadlineMs' });
    expect(await refused({ maxCandidates: -1 })).toMatchObject({ code: 'INVALID_INPUT', field: 'maxCandidates' });
    expect(await refused({ maxCandidates: Number.NaN })).toMatchObject({ code: 'INVALID_INPUT', field: 'maxCandidates' });
    expect(await refused({ strict: 'no' })).toMatchObject({ code: 'INVALID_INPUT', field: 'strict' });
    const scorer = await createScorer({ bundle, store, deadlineMs: Infinity });
    expect(await scorer.score(request(), { deadlineMs: Number.NaN }).catch((e: unknown) => e)).toMatchObject({ field: 'deadlineMs' });
    for (const [options, field] of [[{ reserve: Number.NaN }, 'reserve'], [{ reserve: '0.5' }, 'reserve'], [{ limit: -1 }, 'limit'], [{ limit: 1.5 }, 'limit'], [{ bidField: '' }, 'bidField']] as const) {
      expect(await scorer.rank(request(), options as never).catch((e: unknown) => e), field).toMatchObject({ code: 'INVALID_INPUT', field });
    }
  });
});

describe('rank()', () => {
  it('orders by expected value above the reserve, ties by candidate id, with second prices', async () => {
    const { store } = await setup();
    const scorer = await createScorer({ bundle: await makeScorerBundle(), store });
    const req = request([5, 4, 3, 2, 1, 6, 7, 8]);
    const scored = await scorer.score(req);
    const res = await scorer.rank(req, { reserve: 0.0001 });
    const evs = res.ranked.map((c) => c.expectedValue);
    expect(evs).toEqual([...evs].sort((a, b) => b - a));
    res.ranked.forEach((c, i) => {
      expect(c.pctr).toBe(scored.scores[c.index]);
      expect(c.expectedValue).toBe(c.pctr * c.bid);
      const next = res.ranked[i + 1]?.expectedValue ?? 0;
      expect(c.price).toBeCloseTo(Math.min(c.bid, Math.max(next, 0.0001) / c.pctr), 12);
      expect(c.price).toBeLessThanOrEqual(c.bid);
    });
    const top2 = await scorer.rank(req, { limit: 2, reserve: evs[3] });
    expect(top2.ranked.map((c) => c.index)).toEqual(res.ranked.slice(0, 2).map((c) => c.index));
    expect(top2.belowReserve).toBe(4);

    // Identical candidates except for their ids tie on expected value: ascending id wins, whatever the order.
    const twins = { user: { user_id: 1 }, context: { ts: TS, device: 'ios' }, candidates: [9, 3, 7].map((id) => ({ ad_id: 1, id, advertiser_id: 1, category: 'c1', bid: 1 })) };
    const tie = await scorer.rank(twins, { idField: 'id' });
    expect(tie.ranked.map((c) => c.candidate.id)).toEqual([3, 7, 9]);
    // The same ad twice would take two slots: refused, naming the repeat.
    const repeated = { ...twins, candidates: [...twins.candidates, { ...twins.candidates[1], bid: 2 }] };
    expect(await scorer.rank(repeated, { idField: 'id' }).catch((e: unknown) => e)).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'candidates[3].id',
      message: 'candidates[3].id repeats candidates[1].id (3): an ad takes one slot',
    });
  });
});

describe('hot swap', () => {
  it('swaps atomically, refuses a damaged bundle and keeps serving the old model', async () => {
    const { store } = await setup({ delayMs: 20 });
    const scorer = await createScorer({ bundle: await makeScorerBundle({ seed: 1 }), store, deadlineMs: Infinity, entityCache: false });
    const oldId = scorer.model.id;
    const before = await scorer.score(request());

    // A request in flight keeps the model it started with.
    const inflight = scorer.score(request());
    const info = await scorer.swap(await makeScorerBundle({ seed: 2, family: 'fm' }));
    expect(info.id).not.toBe(oldId);
    expect(info.mode).toBe('fused-fm');
    expect((await inflight).model.id).toBe(oldId);
    expect((await inflight).scores).toEqual(before.scores);
    const after = await scorer.score(request());
    expect(after.model.id).toBe(info.id);
    expect(after.scores).not.toEqual(before.scores);

    const damaged = await makeScorerBundle({ seed: 3 });
    const bytes = damaged.get('model.onnx')!.slice();
    bytes[bytes.length - 1] ^= 1;
    damaged.set('model.onnx', bytes);
    await expect(scorer.swap(damaged)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    await expect(scorer.swap(new Map([['manifest.json', new TextEncoder().encode('{')]]))).rejects.toBeInstanceOf(BundleError);
    // A hand-edited manifest (it is not under its own checksums) with a request field of an unknown type.
    const edited = await makeScorerBundle({ seed: 4 });
    const manifest = JSON.parse(new TextDecoder().decode(edited.get('manifest.json'))) as { requestFields: Array<{ type: string }> };
    manifest.requestFields[0].type = 'weird';
    edited.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)));
    await expect(scorer.swap(edited)).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringMatching(/^manifest\.json: requestFields\[0\] must be \{ name, type: string\|number\|timestamp/) });
    expect(scorer.model.id).toBe(info.id);
    expect((await scorer.score(request())).scores).toEqual(after.scores);
  });

  it('does not reuse entity-level slots memoised for another input spec after a swap', async () => {
    const { store } = await setup();
    // Same views, another encoding of the ad's CTR: the cached ad rows are shared, their slots must not be.
    const input = { ...INPUT, fields: INPUT.fields.map((f) => (f.name === 'ad_ctr' ? { ...f, encoding: { type: 'bucketize' as const, boundaries: [0.001, 0.003] } } : f)) };
    const scorer = await createScorer({ bundle: await makeScorerBundle(), store });
    // The first request fills the cache, the second memoises slots on its entries.
    await scorer.score(request());
    await scorer.score(request());
    await scorer.swap(await makeScorerBundle({ input }));
    const swapped = await scorer.score(request(), { debug: true });
    const fresh = await createScorer({ bundle: await makeScorerBundle({ input }), store, entityCache: false });
    const expected = await fresh.score(request(), { debug: true });
    expect(swapped.debug!.indices).toEqual(expected.debug!.indices);
    expect(swapped.scores).toEqual(expected.scores);
  });

  it('never uses engine terms of cached ads remembered for another model after a swap', async () => {
    const { store } = await setup({ delayMs: 5 });
    const ids = [1, 2, 3, 11, 12, 21, 13, 4];
    const old = await makeScorerBundle({ seed: 7 });
    const next = await makeScorerBundle({ seed: 8 }); // same spec and slots, other weights
    const expected = async (bundle: Map<string, Uint8Array>) => {
      const fresh = await createScorer({ bundle, store, deadlineMs: Infinity, entityCache: false });
      const res = (await fresh.score(request(ids))).scores;
      await fresh.close();
      return res;
    };
    const [before, after] = [await expected(old), await expected(next)];
    expect(after).not.toEqual(before);
    const scorer = await createScorer({ bundle: old, store, deadlineMs: Infinity });
    // Rows cached, slots memoised, terms remembered, terms used.
    for (let i = 0; i < 4; i++) expect((await scorer.score(request(ids))).scores).toEqual(before);
    // A request of the old model still in flight (reading the store) while the new one serves and remembers its own.
    const inflight = scorer.score(request(ids));
    await scorer.swap(next);
    for (let i = 0; i < 4; i++) expect((await scorer.score(request(ids))).scores).toEqual(after);
    expect((await inflight).scores).toEqual(before);
    expect((await scorer.score(request(ids))).scores).toEqual(after);
    await scorer.close();
  });

  it('falls back to onnxruntime-web for a graph the built-in evaluator does not run', async () => {
    const { store } = await setup();
    const m = randomModel(1 << INPUT.hashBits, INPUT.fields.length, undefined, 7);
    const g = modelGraph(m);
    g.nodes[g.nodes.length - 1].output = 'p0';
    g.nodes.push({ op: 'Identity', inputs: ['p0'], output: 'probability' });
    const ort = await createScorer({ bundle: await makeScorerBundle({ onnx: writeOnnx(g) }), store, engines: ['builtin', onnxruntimeWebBackend()] });
    const builtin = await createScorer({ bundle: await makeScorerBundle(), store });
    expect(ort.model.backend).toBe('onnxruntime-web');
    // Several requests: cached ads memoised, then (built-in LR only: onnxruntime ignores them) their engine terms used.
    for (let k = 0; k < 4; k++) {
      const a = await ort.score(request());
      const b = await builtin.score(request());
      a.scores.forEach((s, i) => expect(Math.abs(s - b.scores[i])).toBeLessThan(1e-6));
    }
    // An asynchronous engine with requests in flight together: each keeps its own buffers.
    const reqs = [[1, 2, 3], [4, 5, 6, 7, 8], [9], [10, 11, 12, 13]].map((ids) => request(ids));
    const together = await Promise.all(reqs.map((r) => ort.score(r)));
    for (let i = 0; i < reqs.length; i++) expect(together[i].scores).toEqual((await ort.score(reqs[i])).scores);
    await ort.close();
  });
});
