import { describe, expect, it } from 'vitest';
import { decodeFeatureValue, encodeEntityKey, encodeFeatureValue, featureKey, pointerKey, type FeatureRow, type KeyPart } from '../online-format.ts';
import { MemoryStore } from './memory-store.ts';
import type { FeatureViewSpec } from '../spec/feature-view.ts';

type View = Pick<FeatureViewSpec, 'name' | 'schemaHash' | 'features' | 'ttlSeconds'>;
const view = (name: string, width: number): View =>
  ({ name, schemaHash: 'h', ttlSeconds: 3600, features: Array.from({ length: width }, (_, i) => ({ name: `f${i}`, dtype: 'float64', default: 0 })) }) as unknown as View;

function rng(seed: number) {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/** What a plain MGET of the full keys answers, decoded: the reference the indexed read must match. */
async function reference(store: MemoryStore, project: string, v: View, version: number, entities: KeyPart[][]): Promise<Array<FeatureRow | undefined>> {
  const [values] = await store.transport.send([['MGET', ...entities.map((e) => featureKey(project, v, version, e))]]);
  return (values as Array<string | null>).map((t) => decodeFeatureValue(t, v.features.length));
}

describe('MemoryStore reads through its per-version index', () => {
  // Project names with colons and entity parts with colons split keys elsewhere than the prefix: those reads go by
  // the full keys, and must answer the same.
  for (const project of ['ads', 'a:b']) {
    it(`reads what MGET reads through writes, overwrites, deletes and expiry (project ${project})`, async () => {
      let now = 1_000_000;
      const store = new MemoryStore({ now: () => now });
      const other = store.connect();
      const views = [view('user', 2), view('ad', 3)];
      const random = rng(7);
      // One and several join keys, escaped or not: the index splits them differently.
      const shapes = [(i: number) => [i % 7, `c:${i % 4}`], (i: number) => [`x|${i}%`], (i: number) => [i], (i: number) => [`u|${i % 3}`, `a|b${i}`], (i: number) => [i % 2, i, 'z']];
      const entityOf = (i: number): KeyPart[] => shapes[i % shapes.length](i);
      const entities = Array.from({ length: 40 }, (_, i) => entityOf(i));
      const version = await store.allocateVersion(project);
      await store.publish(
        views.map((v) => ({ view: v, version, watermark: { version, asOfMs: now } })),
        { project },
      );
      for (let step = 0; step < 300; step++) {
        const v = views[Math.floor(random() * views.length)];
        const e = entities[Math.floor(random() * entities.length)];
        const key = featureKey(project, v, version, e);
        const op = random();
        const value = encodeFeatureValue(now, v.features.map(() => Math.round(random() * 100)));
        // Writes through both clients (one shared keyspace), in every way keys change.
        const client = random() < 0.5 ? store : other;
        if (op < 0.3) await client.transport.send([['SET', key, value]]);
        else if (op < 0.4) await client.transport.send([['SET', key, value, 'PX', 1 + Math.floor(random() * 50)]]);
        else if (op < 0.45) await client.transport.send([['SET', key, value, 'PXAT', now - 1]]);
        else if (op < 0.55) await client.transport.send([['DEL', key]]);
        else if (op < 0.6) await client.transport.send([['UNLINK', key]]);
        else if (op < 0.65) await client.transport.send([['PEXPIRE', key, 10]]);
        else if (op < 0.75) await client.writeRows(v, [{ entity: e, eventTimeMs: now, values: v.features.map(() => random()) }], { project, version, ifNewer: random() < 0.5, keyExpiry: false });
        else if (op < 0.8) await client.transport.send([['SET', key, 'garbage']]);
        else now += Math.floor(random() * 20);
        if (step % 10 === 0) {
          const read = await store.readRows(views.map((w) => ({ view: w, entities })), { project });
          for (let w = 0; w < views.length; w++) expect(read[w]).toEqual(await reference(store, project, views[w], version, entities));
        }
      }
    });
  }

  it('answers the same row object while the key is unchanged, a new one after a write (rows are read-only)', async () => {
    const store = new MemoryStore();
    const v = view('user', 2);
    const version = await store.allocateVersion('p');
    await store.publish([{ view: v, version, watermark: { version, asOfMs: 0 } }], { project: 'p' });
    await store.writeRows(v, [{ entity: [1], eventTimeMs: 5, values: [1, 2] }], { project: 'p', version, keyExpiry: false });
    const [[a]] = await store.readRows([{ view: v, entities: [[1]] }], { project: 'p' });
    const [[b]] = await store.readRows([{ view: v, entities: [[1]] }], { project: 'p' });
    expect(b).toBe(a);
    await store.writeRows(v, [{ entity: [1], eventTimeMs: 6, values: [3, 4] }], { project: 'p', version, keyExpiry: false });
    const [[c]] = await store.readRows([{ view: v, entities: [[1]] }], { project: 'p' });
    expect(c).toEqual({ eventTimeMs: 6, values: [3, 4] });
  });

  it('forgets a deleted version entirely (deleteVersions)', async () => {
    const store = new MemoryStore();
    const v = view('user', 1);
    const rows = Array.from({ length: 5 }, (_, i) => ({ entity: [i], eventTimeMs: 1, values: [i] }));
    const v1 = await store.allocateVersion('p');
    await store.writeRows(v, rows, { project: 'p', version: v1, keyExpiry: false });
    const v2 = await store.allocateVersion('p');
    await store.writeRows(v, rows, { project: 'p', version: v2, keyExpiry: false });
    await store.publish([{ view: v, version: v2, watermark: { version: v2, asOfMs: 1 } }], { project: 'p' });
    expect(await store.deleteVersions('p', [{ view: v, keep: [v2] }])).toBe(5);
    expect(await reference(store, 'p', v, v1, rows.map((r) => r.entity))).toEqual([undefined, undefined, undefined, undefined, undefined]);
    const [read] = await store.readRows([{ view: v, entities: rows.map((r) => r.entity) }], { project: 'p' });
    expect(read.map((r) => r?.values[0])).toEqual([0, 1, 2, 3, 4]);
    const [[pointer]] = (await store.transport.send([['MGET', pointerKey('p')]])) as string[][];
    expect(JSON.parse(pointer)).toEqual({ 'user:h': v2 });
    expect(encodeEntityKey([1])).toBe('1');
  });

  it('reads a view object under its current name and hash (the per-pointer view keys are checked)', async () => {
    const store = new MemoryStore();
    const a = view('user', 1);
    const b = { ...a, schemaHash: 'h2' };
    const version = await store.allocateVersion('p');
    await store.writeRows(a, [{ entity: [1], eventTimeMs: 1, values: [10] }], { project: 'p', version, keyExpiry: false });
    await store.writeRows(b, [{ entity: [1], eventTimeMs: 1, values: [20] }], { project: 'p', version, keyExpiry: false });
    await store.publish([a, b].map((v) => ({ view: v, version, watermark: { version, asOfMs: 1 } })), { project: 'p' });
    const changing = { ...a };
    expect((await store.readRows([{ view: changing, entities: [[1]] }], { project: 'p' }))[0][0]?.values).toEqual([10]);
    changing.schemaHash = 'h2';
    expect((await store.readRows([{ view: changing, entities: [[1]] }], { project: 'p' }))[0][0]?.values).toEqual([20]);
    changing.schemaHash = 'h3';
    expect(await store.readRows([{ view: changing, entities: [[1]] }], { project: 'p' })).toEqual([[undefined]]);
  });
});
