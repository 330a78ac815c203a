/**
 * A Redis outage: reads fail fast with a typed StoreError (never hang past the deadline, never crash the process),
 * and the same store object works again once the server is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError, featureViewSchemaHash, type FeatureViewSpec } from '@lockstep/sdk';
import { openStoreLeg, startStoreServers, type StoreServers } from './support/online-stores.ts';
import { requireBinary } from './support/redis-server.ts';

const base = {
  name: 'outage',
  entity: 'user',
  joinKeys: ['user_id'],
  features: [{ name: 'x', dtype: 'float64' as const, default: 0 }],
  ttlSeconds: 3600,
  lagSeconds: 0,
  intervalSeconds: 3600,
};
const view: FeatureViewSpec = { ...base, schemaHash: featureViewSchemaHash(base) };

const haveRedis = requireBinary('redis-server');
let servers: StoreServers | null = null;
beforeAll(async () => {
  if (haveRedis) servers = await startStoreServers();
});
afterAll(async () => {
  await servers?.stop();
});

describe.skipIf(!haveRedis)('online store during a Redis outage', () => {
  it.each(['resp', 'http'] as const)('%s: fails with StoreError while Redis is down, recovers when it is back', async (leg) => {
    const store = openStoreLeg(leg, servers);
    const project = `outage_${leg}`;
    const publishOne = async (value: number) => {
      const version = await store.allocateVersion(project);
      await store.writeRows(view, [{ entity: [1], eventTimeMs: Date.now(), values: [value] }], { project, version });
      await store.publish([{ view, version, watermark: { version, asOfMs: Date.now() } }], { project, force: true });
    };
    const read = async () => (await store.readRows([{ view, entities: [[1]] }], { project, signal: AbortSignal.timeout(2000) }))[0][0]?.values[0];
    try {
      await publishOne(1);
      expect(await read()).toBe(1);

      await servers!.redis.stop();
      const started = Date.now();
      const err = await read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(Date.now() - started).toBeLessThan(2500);

      await servers!.redis.restart(); // empty: nothing published any more
      const deadline = Date.now() + 10_000;
      let value: unknown = 'not yet';
      while (Date.now() < deadline) {
        value = await read().catch(() => 'not yet');
        if (value !== 'not yet') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(value).toBeUndefined();
      await publishOne(2);
      expect(await read()).toBe(2);
    } finally {
      await store.close();
    }
  });
});
