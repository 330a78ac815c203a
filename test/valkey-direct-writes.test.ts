/**
 * ValkeyStore's bulk write fast path (its own connection, RESP encoded by hand, plain SETs) stores exactly what
 * the reference path stores (every command through iovalkey: `EVAL set-many`): same keys, same values, same
 * expiries. Also: the server's refusals, AUTH and SELECT, and clients configured by the application.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError, featureViewSchemaHash, viewKeyPrefix, type FeatureViewSpec, type OnlineStoreCore, type WriteRow } from '@lockstep/sdk';
import { ValkeyStore } from '@lockstep/sdk/node';
import { Redis } from 'iovalkey';
import { requireBinary, startRedisServer, type RedisServer } from './support/redis-server.ts';

function makeView(name: string, features: number, joinKeys: string[], ttlSeconds: number): FeatureViewSpec {
  const base = {
    name,
    entity: joinKeys.join('_'),
    joinKeys,
    features: Array.from({ length: features }, (_, i) => ({ name: `f${i}`, dtype: 'float64' as const, default: 0 })),
    ttlSeconds,
    lagSeconds: 0,
    intervalSeconds: 3600,
  };
  return { ...base, schemaHash: featureViewSchemaHash(base) };
}

const HOUR = 3600_000;
const users = makeView('user_stats', 3, ['user_id'], 24 * 3600);
const pairs = makeView('user_category', 1, ['user_id', 'category'], 3600);

/** Rows with every kind of key and value: integers, text beyond ASCII, separators, nulls, NaN; some already expired. */
function rows(now: number): { users: WriteRow[]; pairs: WriteRow[] } {
  const userRows: WriteRow[] = Array.from({ length: 2600 }, (_, i) => ({
    entity: [i],
    eventTimeMs: now - (i % 30) * HOUR, // from now to 29 h ago: the oldest are past the 24 h TTL
    values: [i / 7, i % 3 === 0 ? null : i, i % 11 === 0 ? Number.NaN : -i * 1e-9],
  }));
  const categories = ['shoes', 'ü|%7C', '😀', '', 'a:b', 'x'.repeat(300)];
  const pairRows: WriteRow[] = categories.flatMap((category, c) =>
    Array.from({ length: 40 }, (_, i) => ({ entity: [i, category], eventTimeMs: now - (i % 3) * 1000, values: [c + i / 10] })),
  );
  return { users: userRows, pairs: pairRows };
}

/** Every key of one view version: entity suffix → [value, PTTL]. */
async function snapshot(store: OnlineStoreCore, project: string, view: FeatureViewSpec, version: number): Promise<Map<string, [string, number]>> {
  const prefix = viewKeyPrefix(project, view, version);
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [reply] = await store.transport.send([['SCAN', cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000]]);
    const [next, page] = reply as [string, string[]];
    cursor = String(next);
    keys.push(...page);
  } while (cursor !== '0');
  const out = new Map<string, [string, number]>();
  if (keys.length === 0) return out;
  const replies = await store.transport.send([['MGET', ...keys], ...keys.map((k) => ['PTTL', k] as const)]);
  const values = replies[0] as string[];
  keys.forEach((k, i) => out.set(k.slice(prefix.length), [values[i], replies[i + 1] as number]));
  return out;
}

const haveRedis = requireBinary('redis-server');
let redis: RedisServer;
beforeAll(async () => {
  if (haveRedis) redis = (await startRedisServer())!;
});
afterAll(async () => {
  await redis?.stop();
});

describe.skipIf(!haveRedis)('ValkeyStore direct writes', () => {
  it('store exactly what the iovalkey path stores: keys, values and expiries', async () => {
    const direct = new ValkeyStore({ url: redis.url });
    const reference = new ValkeyStore({ url: redis.url, directWrites: false });
    expect(direct.transport.setMany).toBeTypeOf('function');
    expect(reference.transport.setMany).toBeUndefined();
    try {
      const project = 'direct_vs_reference';
      const now = Date.now();
      const data = rows(now);
      for (const keyExpiry of [{ asOfMs: now }, false] as const) {
        const [a, b] = [await direct.allocateVersion(project), await reference.allocateVersion(project)];
        for (const [view, viewRows] of [[users, data.users], [pairs, data.pairs]] as const) {
          // Several writes in flight on each store, as materialize() does.
          const halves = [viewRows.slice(0, 1000), viewRows.slice(1000)];
          const written = await Promise.all(halves.map((r) => direct.writeRows(view, r, { project, version: a, keyExpiry })));
          const expected = await Promise.all(halves.map((r) => reference.writeRows(view, r, { project, version: b, keyExpiry })));
          expect(written).toEqual(expected);

          const got = await snapshot(direct, project, view, a);
          const want = await snapshot(reference, project, view, b);
          expect(got.size).toBe(want.size);
          expect(got.size).toBe(expected.reduce((n, r) => n + r.written, 0));
          for (const [entity, [value, pttl]] of want) {
            const mine = got.get(entity);
            expect(mine?.[0], entity).toBe(value);
            // Both expire at event time + TTL + slack, computed from the clock at the write: a few ms apart.
            if (keyExpiry === false) expect(mine?.[1]).toBe(-1);
            else expect(Math.abs(mine![1] - pttl), entity).toBeLessThan(2000);
          }
        }
      }
    } finally {
      await direct.close();
      await reference.close();
    }
  });

  it("reports the server's refusal as a StoreError, and writes again once the server accepts", async () => {
    const store = new ValkeyStore({ url: redis.url });
    const project = 'refused';
    const row = { entity: [1], eventTimeMs: Date.now(), values: [1, 2, 3] };
    try {
      await store.transport.send([['CONFIG', 'SET', 'maxmemory', '1']]);
      const err = await store.writeRows(users, [row, row], { project, version: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/SET refused by the server: OOM/);
      await store.transport.send([['CONFIG', 'SET', 'maxmemory', '0']]);
      expect(await store.writeRows(users, [row], { project, version: 1 })).toEqual({ written: 1, keptNewer: 0, expired: 0 });
    } finally {
      await store.transport.send([['CONFIG', 'SET', 'maxmemory', '0']]);
      await store.close();
    }
  });

  it('authenticates and selects the database of the URL; over a client configured by the application too', async () => {
    const secured = (await startRedisServer())!;
    // Set after start: the harness checks the server is up with a PING that needs no password.
    const setup = new Redis(secured.url);
    await setup.config('SET', 'requirepass', 's3cret');
    setup.disconnect();
    const url = `redis://:s3cret@127.0.0.1:${secured.port}/3`;
    const check = new Redis(url);
    const client = new Redis(url, { enableAutoPipelining: true });
    try {
      const row = { entity: [9], eventTimeMs: Date.now(), values: [1, 2, 3] };
      const fromUrl = new ValkeyStore({ url });
      expect(await fromUrl.writeRows(users, [row], { project: 'auth', version: 1 })).toMatchObject({ written: 1 });
      await fromUrl.close();
      const fromClient = new ValkeyStore({ redis: client });
      expect(await fromClient.writeRows(users, [row], { project: 'auth', version: 2 })).toMatchObject({ written: 1 });
      await fromClient.close();
      expect(client.status).toBe('ready'); // not the store's to close
      const keys = await check.keys('ls:auth:*');
      expect(keys.sort()).toEqual([viewKeyPrefix('auth', users, 1) + '9', viewKeyPrefix('auth', users, 2) + '9']);

      const wrong = new ValkeyStore({ url: `redis://:nope@127.0.0.1:${secured.port}` });
      const err = await wrong.writeRows(users, [row], { project: 'auth', version: 3 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/AUTH\/SELECT\) refused by the server/);
      await wrong.close();
    } finally {
      check.disconnect();
      client.disconnect();
      await secured.stop();
    }
  });
});
