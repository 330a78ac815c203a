/**
 * The online store contract, run unchanged against MemoryStore, ValkeyStore (real redis-server) and
 * UpstashStore → real `lockstep gateway` → the same redis-server, the latter both over `fetch` (`http`, the
 * core's) and over node:http (`http-node`, the one `@lockstep/sdk/node` gives).
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeFeatureValue,
  featureKey,
  featureViewSchemaHash,
  pointerKey,
  resolveFeatures,
  StoreError,
  UpstashStore,
  type FeatureViewSpec,
  type OnlineStoreCore,
} from '@lockstep/sdk';
import { NodeHttpRequester, UpstashStore as NodeUpstashStore, ValkeyStore } from '@lockstep/sdk/node';
import { Redis as Upstash } from '@upstash/redis';
import { Redis as Valkey } from 'iovalkey';
import { STORE_LEGS, openStoreLeg, useStoreServers, type StoreLeg } from './support/online-stores.ts';

function makeView(name: string, features: string[], ttlSeconds = 3600, joinKeys = ['user_id']): FeatureViewSpec {
  const base = {
    name,
    entity: joinKeys.join('_'),
    joinKeys,
    features: features.map((f, i) => ({ name: f, dtype: 'float64' as const, default: i === 0 ? -1 : null })),
    ttlSeconds,
    lagSeconds: 0,
    intervalSeconds: 3600,
  };
  return { ...base, schemaHash: featureViewSchemaHash(base) };
}

const userStats = makeView('user_stats', ['ctr_7d', 'impressions_7d']);
const adStats = makeView('ad_stats', ['ctr_1d', 'clicks_1d', 'age_days'], 3600, ['ad_id', 'region']);

// Outside CI a machine without redis-server runs the memory leg only (requireBinary says why); in CI it fails.
const { haveRedis, servers } = useStoreServers();
type Leg = StoreLeg | 'http-node';
const legs: Leg[] = [...STORE_LEGS, 'http-node' as const].filter((leg) => leg === 'memory' || haveRedis);
let projectSeq = 0;
/** A fresh project per test: the legs share one redis-server. */
const freshProject = (leg: string) => `t${process.pid}_${leg}_${++projectSeq}`;


describe.each(legs)('online store contract: %s', (leg: Leg) => {
  const stores: OnlineStoreCore[] = [];
  const open = () => {
    const store =
      leg === 'http-node'
        ? new NodeUpstashStore({ url: servers().gateway.url, token: servers().token })
        : openStoreLeg(leg, servers, { sameDataAs: stores[0] });
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it('reads nothing from a project that published nothing', async () => {
    const store = open();
    const rows = await store.readRows([{ view: userStats, entities: [[1], [2]] }], { project: freshProject(leg) });
    expect(rows).toEqual([[undefined, undefined]]);
  });

  it('writes a version, publishes it, and reads every entity of several views in one call', async () => {
    const store = open();
    const project = freshProject(leg);
    const now = Date.now();
    const version = await store.allocateVersion(project);
    const w1 = await store.writeRows(userStats, [
      { entity: [1], eventTimeMs: now - 1000, values: [0.25, 40] },
      { entity: [2], eventTimeMs: now - 2000, values: [0.1 + 0.2, null] },
    ], { project, version });
    expect(w1).toEqual({ written: 2, keptNewer: 0, expired: 0 });
    await store.writeRows(adStats, [
      { entity: [7, 'eu|west'], eventTimeMs: now - 500, values: [0.01, 3, Number.NaN] },
      { entity: [8, 'us'], eventTimeMs: now - 500, values: [0.02, 4, 12] },
    ], { project, version });

    // Not visible before the flip.
    const before = await store.readRows([{ view: userStats, entities: [[1]] }], { project });
    expect(before).toEqual([[undefined]]);

    const { previous, current } = await store.publish([
      { view: userStats, version, watermark: { version, asOfMs: now } },
      { view: adStats, version, watermark: { version, asOfMs: now } },
    ], { project });
    expect(previous).toEqual({});
    expect(current).toEqual({ [`user_stats:${userStats.schemaHash}`]: version, [`ad_stats:${adStats.schemaHash}`]: version });

    const [users, ads] = await store.readRows(
      [
        { view: userStats, entities: [[1], [2], [3]] },
        { view: adStats, entities: [[8, 'us'], [7, 'eu|west'], [7, 'eu']] },
      ],
      { project },
    );
    expect(users).toEqual([
      { eventTimeMs: now - 1000, values: [0.25, 40] },
      { eventTimeMs: now - 2000, values: [0.1 + 0.2, null] },
      undefined,
    ]);
    expect(ads).toEqual([
      { eventTimeMs: now - 500, values: [0.02, 4, 12] },
      { eventTimeMs: now - 500, values: [0.01, 3, null] },
      undefined,
    ]);
    // A second reader with a cold pointer cache sees the same.
    const other = open();
    expect(await other.readRows([{ view: userStats, entities: [[1]] }], { project })).toEqual([[users[0]]]);
    expect(await store.readWatermark(project, userStats)).toEqual({ version, asOfMs: now });
  });

  it('applies TTL and defaults on read, with a reason per defaulted feature', async () => {
    const store = open();
    const project = freshProject(leg);
    const now = Date.now();
    const version = await store.allocateVersion(project);
    await store.writeRows(userStats, [
      { entity: [1], eventTimeMs: now - 1000, values: [0.5, null] },
      { entity: [2], eventTimeMs: now - 3000_000, values: [0.7, 9] },
    ], { project, version });
    await store.publish([{ view: userStats, version, watermark: { version, asOfMs: now } }], { project });
    const [[fresh, old, missing]] = await store.readRows([{ view: userStats, entities: [[1], [2], [3]] }], { project });

    expect(resolveFeatures(userStats, fresh, now)).toEqual({ values: [0.5, null], reasons: [undefined, 'null'], defaulted: 1 });
    // 50 minutes old with a 1 h TTL: fresh now, expired 11 minutes later.
    expect(resolveFeatures(userStats, old, now).values).toEqual([0.7, 9]);
    expect(resolveFeatures(userStats, old, now + 11 * 60_000)).toEqual({ values: [-1, null], reasons: ['expired', 'expired'], defaulted: 2 });
    expect(resolveFeatures(userStats, missing, now)).toEqual({ values: [-1, null], reasons: ['missing', 'missing'], defaulted: 2 });
  });

  it('expires keys at event time + TTL and does not write rows already expired', async () => {
    const store = open();
    const project = freshProject(leg);
    const shortLived = makeView('short', ['x'], 1);
    const now = Date.now();
    const version = await store.allocateVersion(project);
    const result = await store.writeRows(shortLived, [
      { entity: [1], eventTimeMs: now - 600, values: [1] }, // 400 ms left
      { entity: [2], eventTimeMs: now - 5000, values: [2] }, // expired already
      { entity: [3], eventTimeMs: now, values: [3] }, // 1 s left
    ], { project, version, keyExpiry: { asOfMs: now, slackMs: 0 } });
    expect(result).toEqual({ written: 2, keptNewer: 0, expired: 1 });
    const key = (e: number) => featureKey(project, shortLived, version, [e]);
    const [ttl1, ttl3] = await store.transport.send([['PTTL', key(1)], ['PTTL', key(3)]]);
    expect(ttl1).toBeGreaterThan(0);
    expect(ttl1).toBeLessThanOrEqual(400);
    expect(ttl3).toBeGreaterThan(400);
    await new Promise((r) => setTimeout(r, 600));
    const [gone] = await store.transport.send([['MGET', key(1), key(2), key(3)]]);
    expect(gone).toEqual([null, null, encodeFeatureValue(now, [3])]);
  });

  it('never misreads a value written under another schema', async () => {
    const store = open();
    const project = freshProject(leg);
    const now = Date.now();
    // Same view name, one more feature: another schema hash, so other keys and another pointer field.
    const widened = makeView('user_stats', ['ctr_7d', 'impressions_7d', 'clicks_7d']);
    expect(widened.schemaHash).not.toBe(userStats.schemaHash);
    const version = await store.allocateVersion(project);
    await store.writeRows(widened, [{ entity: [1], eventTimeMs: now, values: [1, 2, 3] }], { project, version });
    await store.publish([{ view: widened, version, watermark: { version, asOfMs: now } }], { project });
    expect(await store.readRows([{ view: userStats, entities: [[1]] }], { project })).toEqual([[undefined]]);

    // Even a value of the wrong width under the reader's own key is treated as missing, never misread.
    await store.publish([{ view: userStats, version, watermark: { version, asOfMs: now } }], { project });
    await store.transport.send([['SET', featureKey(project, userStats, version, [1]), encodeFeatureValue(now, [1, 2, 3])]]);
    await store.transport.send([['SET', featureKey(project, userStats, version, [2]), 'garbage']]);
    expect(await store.readRows([{ view: userStats, entities: [[1], [2]] }], { project })).toEqual([[undefined, undefined]]);
    expect(await store.readRows([{ view: widened, entities: [[1]] }], { project })).toEqual([[{ eventTimeMs: now, values: [1, 2, 3] }]]);
  });

  it('never overwrites a newer event time with an older one (compare in the server)', async () => {
    const store = open();
    const project = freshProject(leg);
    const t = Date.now();
    const version = await store.allocateVersion(project);
    const opts = { project, version, ifNewer: true };
    expect(await store.writeRows(userStats, [
      { entity: [1], eventTimeMs: t, values: [1, 1] },
      { entity: [2], eventTimeMs: t, values: [2, 2] },
    ], opts)).toEqual({ written: 2, keptNewer: 0, expired: 0 });
    const second = await store.writeRows(userStats, [
      { entity: [1], eventTimeMs: t - 1, values: [10, 10] }, // older: kept out
      { entity: [2], eventTimeMs: t, values: [20, 20] }, // same time: a correction, written
      { entity: [3], eventTimeMs: t - 5, values: [30, 30] }, // new entity
    ], opts);
    expect(second).toEqual({ written: 2, keptNewer: 1, expired: 0 });
    await store.publish([{ view: userStats, version, watermark: { version, asOfMs: t } }], { project });
    const [rows] = await store.readRows([{ view: userStats, entities: [[1], [2], [3]] }], { project });
    expect(rows.map((r) => r?.values[0])).toEqual([1, 20, 30]);

    // More keys than one script call takes, in one write.
    const many = Array.from({ length: 1200 }, (_, i) => ({ entity: [1000 + i], eventTimeMs: t, values: [i, i] }));
    expect((await store.writeRows(userStats, many, opts)).written).toBe(1200);
    expect((await store.writeRows(userStats, many.map((r) => ({ ...r, eventTimeMs: t - 1 })), opts)).keptNewer).toBe(1200);
  });

  it('publishes atomically: a cached reader follows the flip, an older snapshot is refused, force rolls back', async () => {
    const writer = open();
    const reader = open();
    const project = freshProject(leg);
    const t = Date.now();
    const publishVersion = async (value: number, asOfMs: number, force = false) => {
      const version = await writer.allocateVersion(project);
      const rows = [1, 2, 3].map((e) => ({ entity: [e], eventTimeMs: t, values: [value, value] }));
      await writer.writeRows(userStats, rows, { project, version });
      return { version, result: await writer.publish([{ view: userStats, version, watermark: { version, asOfMs } }], { project, force }) };
    };
    const readAll = async () => (await reader.readRows([{ view: userStats, entities: [[1], [2], [3]] }], { project }))[0].map((r) => r?.values[0]);

    const v1 = await publishVersion(1, t);
    expect(await readAll()).toEqual([1, 1, 1]);
    const v2 = await publishVersion(2, t + 1000);
    expect(v2.version).toBeGreaterThan(v1.version);
    expect(v2.result.previous).toEqual({ [`user_stats:${userStats.schemaHash}`]: v1.version });
    expect(await readAll()).toEqual([2, 2, 2]); // the reader's cached pointer named v1: it followed the flip

    const refused = await publishVersion(3, t).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreError);
    expect((refused as StoreError).message).toMatch(/newer/);
    expect(await readAll()).toEqual([2, 2, 2]);
    const v4 = await publishVersion(4, t, true);
    expect(await readAll()).toEqual([4, 4, 4]);
    expect(await writer.publishedVersions(project)).toEqual({ [`user_stats:${userStats.schemaHash}`]: v4.version });

    // Clean-up keeps the published version and the previous one, and drops the rest (the refused one too).
    const deleted = await writer.deleteVersions(project, [{ view: userStats, keep: [v4.version, v2.version] }], { count: 2 });
    expect(deleted).toBe(6); // v1 and the refused v3
    const counts = (await writer.scanVersions(project, [userStats])).get(`user_stats:${userStats.schemaHash}`)!;
    expect(new Map(counts)).toEqual(new Map([[v2.version, 3], [v4.version, 3]]));
    expect(await readAll()).toEqual([4, 4, 4]);
  });

  it('handles glob characters in the project and any text in entity keys', async () => {
    const store = open();
    const project = `p[${leg}]*?\\${++projectSeq}`;
    const t = Date.now();
    const entities = [['ü|%7C'], ['a:b'], ['😀'], ['']];
    for (const round of [1, 2, 3]) {
      const version = await store.allocateVersion(project);
      await store.writeRows(userStats, entities.map((entity, i) => ({ entity, eventTimeMs: t, values: [round, i] })), { project, version });
      await store.publish([{ view: userStats, version, watermark: { version, asOfMs: t + round } }], { project });
    }
    const [rows] = await store.readRows([{ view: userStats, entities }], { project });
    expect(rows.map((r) => r?.values)).toEqual([[3, 0], [3, 1], [3, 2], [3, 3]]);
    const published = (await store.publishedVersions(project))[`user_stats:${userStats.schemaHash}`];
    // Round 1's version goes; rounds 2 and 3 stay; nothing of another project is touched.
    expect(await store.deleteVersions(project, [{ view: userStats, keep: [published, published - 1] }])).toBe(4);
    expect((await store.readRows([{ view: userStats, entities }], { project }))[0].map((r) => r?.values[0])).toEqual([3, 3, 3, 3]);
  });

  it('fences publication with the materialization lock', async () => {
    const store = open();
    const project = freshProject(leg);
    expect(await store.tryLock(project, 'run-a', 5000)).toBe(true);
    expect(await store.tryLock(project, 'run-b', 5000)).toBe(false);
    expect(await store.lockHolder(project)).toBe('run-a');
    expect(await store.extendLock(project, 'run-b', 5000)).toBe(false);
    expect(await store.extendLock(project, 'run-a', 5000)).toBe(true);
    const entry = { view: userStats, version: 1, watermark: { version: 1, asOfMs: 1 } };
    await expect(store.publish([entry], { project, lockOwner: 'run-b' })).rejects.toThrow(/no longer holds the materialization lock \(held by run-a\)/);
    await store.publish([entry], { project, lockOwner: 'run-a' });
    expect(await store.releaseLock(project, 'run-b')).toBe(false);
    expect(await store.releaseLock(project, 'run-a')).toBe(true);
    expect(await store.lockHolder(project)).toBeUndefined();
  });

  it('gives up at the deadline with STORE_TIMEOUT', async () => {
    const store = open();
    const err = await store
      .readRows([{ view: userStats, entities: [[1]] }], { project: freshProject(leg), signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('STORE_TIMEOUT');
  });

  it('refuses rows that do not fit the view', async () => {
    const store = open();
    const project = freshProject(leg);
    await expect(store.writeRows(userStats, [{ entity: [1], eventTimeMs: 1, values: [1] }], { project, version: 1 })).rejects.toThrow(/1 values for 2 features/);
    await expect(store.writeRows(userStats, [{ entity: [1.5], eventTimeMs: 1, values: [1, 2] }], { project, version: 1 })).rejects.toThrow(/integer/);
    // Nothing was written: the pointer key is the only thing a failed write could have touched, and it is absent.
    const [pointer] = await store.transport.send([['GET', pointerKey(project)]]);
    expect(pointer).toBeNull();
  });
});

describe.skipIf(!haveRedis)('stores over clients configured by the application', () => {
  it('UpstashStore over an @upstash/redis client (auto-pipelining, JSON deserialisation on) and ValkeyStore over an iovalkey client with auto-pipelining', async () => {
    const upstash = new Upstash({ url: servers().gateway.url, token: servers().token, retry: false, enableTelemetry: false });
    const valkey = new Valkey(servers().redis.url, { enableAutoPipelining: true });
    const project = freshProject('configured');
    const t = Date.now();
    const writer = new ValkeyStore({ redis: valkey });
    const reader = new UpstashStore({ redis: upstash });
    try {
      const version = await writer.allocateVersion(project);
      await writer.writeRows(userStats, [{ entity: [1], eventTimeMs: t, values: [0.5, 2] }], { project, version });
      await writer.publish([{ view: userStats, version, watermark: { version, asOfMs: t } }], { project });
      // The client would have parsed the stored JSON into an array; the store reads the text and decodes it itself.
      expect(await reader.readRows([{ view: userStats, entities: [[1], [2]] }], { project })).toEqual([[{ eventTimeMs: t, values: [0.5, 2] }, undefined]]);
      expect(await writer.readRows([{ view: userStats, entities: [[1]] }], { project })).toEqual([[{ eventTimeMs: t, values: [0.5, 2] }]]);
    } finally {
      await writer.close(); // does not close a client it did not open
      expect(valkey.status).toBe('ready');
      valkey.disconnect();
    }
  });

  it('the Node UpstashStore over a configured @upstash/redis client, and an @upstash/redis client over NodeHttpRequester', async () => {
    const { gateway, token } = servers();
    const project = freshProject('node-configured');
    const t = Date.now();
    const requester = new NodeHttpRequester({ url: gateway.url, token });
    const client = new Upstash(requester); // the client's commands over node:http
    const writer = new NodeUpstashStore({ url: gateway.url, token });
    const reader = new NodeUpstashStore({ redis: new Upstash({ url: gateway.url, token, retry: false, enableTelemetry: false }) });
    try {
      await client.set(`${project}:k`, 'v', { ex: 60 });
      expect(await client.get(`${project}:k`)).toBe('v');
      expect(await client.mget(`${project}:k`, `${project}:none`)).toEqual(['v', null]);
      const version = await writer.allocateVersion(project);
      await writer.writeRows(userStats, [{ entity: [1], eventTimeMs: t, values: [0.5, 2] }], { project, version });
      await writer.publish([{ view: userStats, version, watermark: { version, asOfMs: t } }], { project });
      expect(await reader.readRows([{ view: userStats, entities: [[1], [2]] }], { project })).toEqual([[{ eventTimeMs: t, values: [0.5, 2] }, undefined]]);
      expect(writer.description).toBe(`UpstashStore(${gateway.url})`);
    } finally {
      await writer.close();
      await reader.close();
      requester.close();
    }
  });
});
