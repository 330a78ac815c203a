/**
 * A Redis outage: reads fail fast with a typed StoreError (never hang past the deadline, never crash the process),
 * and the same store object works again once the server is back.
 */
import { describe, expect, it } from 'vitest';
import { StoreError, featureViewSchemaHash, type FeatureViewSpec } from '@lockstep/sdk';
import { UpstashStore as NodeUpstashStore } from '@lockstep/sdk/node';
import { openStoreLeg, useStoreServers } from './support/online-stores.ts';

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

const { haveRedis, servers } = useStoreServers();

/** The first result of `attempt` that does not throw, retrying for up to 10 s (a client reconnecting). */
async function eventually<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe.skipIf(!haveRedis)('online store during a Redis outage', () => {
  it.each(['resp', 'http', 'http-node'] as const)('%s: fails with StoreError while Redis is down, recovers when it is back', async (leg) => {
    const store = leg === 'http-node' ? new NodeUpstashStore({ url: servers().gateway.url, token: servers().token }) : openStoreLeg(leg, servers);
    const project = `outage_${leg}`;
    const publishOne = async (value: number) => {
      const version = await store.allocateVersion(project);
      await store.writeRows(view, [{ entity: [1], eventTimeMs: Date.now(), values: [value] }], { project, version });
      await store.publish([{ view, version, watermark: { version, asOfMs: Date.now() } }], { project, force: true });
    };
    const read = async () => (await store.readRows([{ view, entities: [[1]] }], { project, signal: AbortSignal.timeout(2000) }))[0][0]?.values[0];
    try {
      // The other leg's outage may have left the gateway reconnecting (it backs off up to 1 s): wait for it.
      await eventually(() => store.transport.send([['PING']]));
      await publishOne(1);
      expect(await read()).toBe(1);

      await servers().redis.stop();
      const started = Date.now();
      const err = await read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(Date.now() - started).toBeLessThan(2500);

      await servers().redis.restart(); // empty: nothing published any more
      expect(await eventually(read)).toBeUndefined();
      await publishOne(2);
      expect(await read()).toBe(2);
    } finally {
      await store.close();
    }
  });
});
