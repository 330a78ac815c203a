import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { MemoryStore, featureViewSchemaHash, pointerField, type FeatureViewSpec, type WriteRow } from '@lockstep/sdk';
import { materialize } from './materialize.ts';
import { memorySource } from './source.ts';
import { viewTableSource } from './view-table-source.ts';

function makeView(name: string, joinKeys: string[], features: string[], ttlSeconds = 7 * 86400): FeatureViewSpec {
  const base = {
    name,
    entity: joinKeys.join('_'),
    joinKeys,
    features: features.map((f) => ({ name: f, dtype: 'float64' as const, default: 0 })),
    ttlSeconds,
    lagSeconds: 0,
    intervalSeconds: 3600,
  };
  return { ...base, schemaHash: featureViewSchemaHash(base) };
}

const users = makeView('user_stats', ['user_id'], ['ctr', 'views']);
const pairs = makeView('user_category', ['user_id', 'category'], ['ctr']);
const HOUR = 3600_000;
const T0 = Date.UTC(2026, 0, 10);

const userRows = (n: number, t: number, value: (i: number) => number): WriteRow[] =>
  Array.from({ length: n }, (_, i) => ({ entity: [i], eventTimeMs: t, values: [value(i), i] }));

async function readValues(store: MemoryStore, view: FeatureViewSpec, entities: Array<Array<string | number>>) {
  const [rows] = await store.readRows([{ view, entities }], { project: 'ads' });
  return rows.map((r) => r?.values[0]);
}

describe('materialize', () => {
  it('publishes a full snapshot under a new version, then replaces it atomically and cleans up', async () => {
    const store = new MemoryStore();
    const first = await materialize({
      store,
      project: 'ads',
      views: [users],
      source: memorySource({ user_stats: userRows(5000, T0, (i) => i / 10) }),
      asOfMs: T0 + HOUR,
      batchRows: 700,
      keyExpiry: false,
    });
    expect(first.mode).toBe('full');
    expect(first.views[0]).toMatchObject({ view: 'user_stats', rows: 5000, written: 5000, expired: 0, maxEventTimeMs: T0 });
    expect(await readValues(store, users, [[0], [4999], [5000]])).toEqual([0, 499.9, undefined]);
    expect(await store.readWatermark('ads', users)).toMatchObject({ version: first.views[0].version, asOfMs: T0 + HOUR, rows: 5000, mode: 'full' });

    const second = await materialize({ store, project: 'ads', views: [users], source: memorySource({ user_stats: userRows(5000, T0 + HOUR, (i) => i) }), asOfMs: T0 + 2 * HOUR, keyExpiry: false });
    const third = await materialize({ store, project: 'ads', views: [users], source: memorySource({ user_stats: userRows(10, T0 + 2 * HOUR, () => 7) }), asOfMs: T0 + 3 * HOUR, keyExpiry: false });
    expect(second.views[0].version).toBeGreaterThan(first.views[0].version);
    expect(third.views[0].previousVersion).toBe(second.views[0].version);
    expect(third.deletedKeys).toBe(5000); // the first version; the second stays for readers that cached its pointer
    expect(await readValues(store, users, [[0], [9], [10]])).toEqual([7, 7, undefined]);
    const versions = (await store.scanVersions('ads', [users])).get(pointerField(users))!;
    expect(new Map(versions)).toEqual(new Map([[second.views[0].version, 5000], [third.views[0].version, 10]]));
  });

  it('incremental runs write only entities changed since the watermark, into the published version', async () => {
    const store = new MemoryStore();
    const full = await materialize({ store, project: 'ads', views: [users], source: memorySource({ user_stats: userRows(100, T0, () => 1) }), asOfMs: T0, keyExpiry: false });
    // The source now has newer rows for 10 entities and an unchanged row for the others.
    const rows = userRows(100, T0, () => 1).map((r, i) => (i % 10 === 0 ? { ...r, eventTimeMs: T0 + HOUR, values: [2, i] } : r));
    const inc = await materialize({ store, project: 'ads', views: [users], source: memorySource({ user_stats: rows }), asOfMs: T0 + HOUR, incremental: true, keyExpiry: false });
    expect(inc.mode).toBe('incremental');
    expect(inc.views[0]).toMatchObject({ version: full.views[0].version, rows: 10, written: 10, keptNewer: 0, maxEventTimeMs: T0 + HOUR });
    expect(await readValues(store, users, [[0], [1], [10]])).toEqual([2, 1, 2]);
    expect(await store.readWatermark('ads', users)).toMatchObject({ asOfMs: T0 + HOUR, mode: 'incremental', rows: 10 });
    // Again with nothing new: nothing written.
    const again = await materialize({ store, project: 'ads', views: [users], source: memorySource({ user_stats: rows }), asOfMs: T0 + HOUR, incremental: true, keyExpiry: false });
    expect(again.views[0]).toMatchObject({ rows: 0, written: 0 });
  });

  it('refuses an incremental run before any full one, an older snapshot, and a second concurrent run', async () => {
    const store = new MemoryStore();
    const source = memorySource({ user_stats: userRows(10, T0, () => 1) });
    await expect(materialize({ store, project: 'ads', views: [users], source, incremental: true })).rejects.toThrow(/run a full materialization first/);
    await materialize({ store, project: 'ads', views: [users], source, asOfMs: T0 + HOUR, keyExpiry: false });
    await expect(materialize({ store, project: 'ads', views: [users], source, asOfMs: T0, keyExpiry: false })).rejects.toThrow(/newer .*--force/);
    await materialize({ store, project: 'ads', views: [users], source, asOfMs: T0, keyExpiry: false, force: true });

    expect(await store.tryLock('ads', 'someone-else', 10_000)).toBe(true);
    await expect(materialize({ store, project: 'ads', views: [users], source, asOfMs: T0 + 2 * HOUR })).rejects.toThrow(/lock held by someone-else\); wait for it \(--wait-lock <ms>, lockWaitMs\)/);
    await store.releaseLock('ads', 'someone-else');
  });

  it('refuses a batch size that is not a positive integer before taking the lock', async () => {
    const store = new MemoryStore();
    const source = memorySource({ user_stats: userRows(10, T0, () => 1) });
    for (const batchRows of [0, -1, 1.5]) {
      await expect(materialize({ store, project: 'ads', views: [users], source, asOfMs: T0, batchRows })).rejects.toThrow(/batchRows must be a positive integer/);
    }
    expect(await store.lockHolder('ads')).toBeUndefined();
  });

  it('skips rows already expired at the as-of time and expires the others with their TTL', async () => {
    let now = T0 + HOUR;
    const store = new MemoryStore({ now: () => now });
    const short = makeView('short', ['user_id'], ['x'], 3600);
    const rows = [
      { entity: [1], eventTimeMs: T0 - HOUR, values: [1] }, // expired at as-of
      { entity: [2], eventTimeMs: T0 + HOUR / 2, values: [2] }, // 30 min left at as-of
    ];
    // As of a past time: keys live for what their TTL had left then, counted from now.
    const result = await materialize({ store, project: 'ads', views: [short], source: memorySource({ short: rows }), asOfMs: T0 + HOUR, expirySlackMs: 0 });
    expect(result.views[0]).toMatchObject({ rows: 2, written: 1, expired: 1 });
    now = T0 + HOUR + 29 * 60_000; // the MemoryStore clock, which key expiry uses
    const [[a, b]] = await store.readRows([{ view: short, entities: [[1], [2]] }], { project: 'ads' });
    expect(a).toBeUndefined();
    expect(b?.values).toEqual([2]);
  });
});

describe('view table source (DuckDB over the offline Parquet tables)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-materialize-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes per entity the latest row at or before the as-of time, and only changed ones incrementally', async () => {
    mkdirSync(join(dir, 'features'));
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const ts = (ms: number) => `make_timestamp(${ms * 1000})`;
    await con.run(`COPY (SELECT * FROM (VALUES
        (1::BIGINT, 'shoes', ${ts(T0)}, 0.1),
        (1, 'shoes', ${ts(T0 + HOUR)}, 0.2),
        (1, 'shoes', ${ts(T0 + 3 * HOUR)}, 0.9),
        (1, 'bags', ${ts(T0)}, NULL),
        (2, 'a|b', ${ts(T0 + 2 * HOUR)}, 0.5)
      ) AS t(user_id, category, event_time, ctr)) TO '${join(dir, 'features', 'user_category.parquet')}' (FORMAT parquet)`);
    con.closeSync();
    db.closeSync();

    const source = await viewTableSource(dir, { batchRows: 2 });
    try {
      expect(await source.count!(pairs, { asOfMs: T0 + 2 * HOUR })).toBe(3);
      const got: WriteRow[] = [];
      for await (const batch of source.rows(pairs, { asOfMs: T0 + 2 * HOUR })) got.push(...batch);
      got.sort((a, b) => String(a.entity).localeCompare(String(b.entity)));
      expect(got).toEqual([
        { entity: [1, 'bags'], eventTimeMs: T0, values: [null] },
        { entity: [1, 'shoes'], eventTimeMs: T0 + HOUR, values: [0.2] },
        { entity: [2, 'a|b'], eventTimeMs: T0 + 2 * HOUR, values: [0.5] },
      ]);

      const store = new MemoryStore();
      await materialize({ store, project: 'ads', views: [pairs], source, asOfMs: T0 + 2 * HOUR, keyExpiry: false });
      const inc = await materialize({ store, project: 'ads', views: [pairs], source, asOfMs: T0 + 4 * HOUR, incremental: true, keyExpiry: false });
      expect(inc.views[0]).toMatchObject({ rows: 1, written: 1 });
      expect(await readValues(store, pairs, [[1, 'shoes'], [1, 'bags'], [2, 'a|b']])).toEqual([0.9, null, 0.5]);

      await expect(source.count!(makeView('absent', ['user_id'], ['x']), { asOfMs: T0 })).rejects.toThrow(/no offline table for view absent at .*: build the view tables first \(`lockstep materialize --data <sources dir>`/);
    } finally {
      await source.close?.();
    }
  });
});
