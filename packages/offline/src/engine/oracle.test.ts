/**
 * The engine against the brute-force oracle: on random logs with equal timestamps, unsorted files, late and
 * duplicate clicks, missing entities and TTL expiry, every feature of every spine row equals a direct per-row
 * computation of the semantics, exactly (doubles compared with Object.is).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Int32, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { featureColumn } from '@lockstep/sdk';
import { validateRepo, type ResolvedRepo } from '../repo/index.ts';
import { DuckDBExecutor } from './duckdb/executor.ts';
import { FeatureStore } from './feature-store.ts';
import { HOUR, MINUTE, T0, randomLog, testRepo, writeLog, type EventLog } from './test-support/fixtures.ts';
import { oracleEvents, oracleRow, type OracleEvents } from './test-support/oracle.ts';

interface SpineRow {
  spine_id: number;
  ts: number;
  user_id: number | null;
  ad_id: number | null;
  category: string | null;
}

/** Every impression, plus probes: unknown and null entities, times before the data, on tick + lag boundaries and long after. */
function spineRows(log: EventLog): SpineRow[] {
  const rows: SpineRow[] = log.impressions.map((i) => ({ spine_id: 0, ts: i.ts, user_id: i.user_id, ad_id: i.ad_id, category: i.ad_category }));
  const probes: Array<[number | null, number | null, string | null]> = [
    [0, 0, 'books'],
    [1, 1, 'garden'],
    [2, 3, 'toys'],
    [999, 999, 'nothing'],
    [null, null, null],
  ];
  for (let m = -120; m <= 60 * 60; m += 15) {
    for (const [user, ad, cat] of probes) rows.push({ spine_id: 0, ts: T0 + m * MINUTE, user_id: user, ad_id: ad, category: cat });
  }
  // Exactly on availability boundaries: t = T + lag (usable) and one millisecond before (not yet).
  for (let h = 1; h < 34; h++) {
    for (const lag of [0, 15 * MINUTE, HOUR]) {
      rows.push({ spine_id: 0, ts: T0 + h * HOUR + lag, user_id: h % 12, ad_id: h % 6, category: 'books' });
      rows.push({ spine_id: 0, ts: T0 + h * HOUR + lag - 1, user_id: h % 12, ad_id: h % 6, category: 'toys' });
    }
  }
  return rows.map((r, i) => ({ ...r, spine_id: i }));
}

function spineTable(rows: SpineRow[]): Table {
  return new Table({
    spine_id: vectorFromArray(rows.map((r) => r.spine_id), new Int32()),
    ts: vectorFromArray(rows.map((r) => r.ts), new TimestampMillisecond()),
    user_id: vectorFromArray(rows.map((r) => r.user_id), new Int32()),
    ad_id: vectorFromArray(rows.map((r) => r.ad_id), new Int32()),
    category: vectorFromArray(rows.map((r) => r.category), new Utf8()),
  });
}

function expectedFeatures(repo: ResolvedRepo, events: OracleEvents, row: { ts: number; user_id: number | null; ad_id: number | null; category: string | null }) {
  const keysOf: Record<string, unknown[]> = { u: [row.user_id], a: [row.ad_id], uc: [row.user_id, row.category] };
  return Object.assign({}, ...repo.views.map((v) => oracleRow(v, events, keysOf[v.name], row.ts))) as Record<string, number | null>;
}

/** Compares one output row to the oracle, collecting every difference (so a failure shows them all). */
function diff(actual: Record<string, unknown>, expected: Record<string, number | null>, where: string, out: string[]): void {
  for (const [col, want] of Object.entries(expected)) {
    const got = actual[col];
    if (!Object.is(got, want)) out.push(`${where} ${col}: engine ${String(got)}, oracle ${String(want)}`);
  }
}

describe.each([1, 2, 3])('engine vs oracle (seed %i)', (seed) => {
  let dir: string;
  let fs: FeatureStore;
  let log: EventLog;
  let events: OracleEvents;
  let repo: ResolvedRepo;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockstep-oracle-'));
    log = randomLog({ seed, impressions: 300 + seed * 100 });
    await writeLog(join(dir, 'data'), log, seed);
    fs = await FeatureStore.open(testRepo(), { dataDir: join(dir, 'data'), workDir: join(dir, 'work'), engine: { threads: 2, memoryLimit: '512MB' } });
    repo = fs.repo;
    events = oracleEvents(repo, log);
  });
  afterAll(async () => {
    fs?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('getHistoricalFeatures equals the oracle on every feature of every spine row (Parquet and Arrow spines)', async () => {
    const rows = spineRows(log);
    const spine = spineTable(rows);
    const db = await DuckDBExecutor.open({ threads: 1 });
    const spinePath = join(dir, 'spine.parquet');
    await db.loadArrow('spine', spine);
    await db.run(`COPY spine TO '${spinePath}' (FORMAT parquet)`);
    db.close();

    const refs = ['u:*', 'a:*', 'uc:*'];
    const options = { entityKeys: { uc: ['user_id', 'category'] } };
    const fromParquet = await fs.getHistoricalFeatures(spinePath, refs, options).toArrow();
    const fromArrow = await fs.getHistoricalFeatures(spine, refs, options).toArrow();
    expect(fromParquet.numRows).toBe(rows.length);
    expect(fromArrow.toArray().map((r) => r.toJSON())).toEqual(fromParquet.toArray().map((r) => r.toJSON()));
    // Written to Parquet in chunks of 97 spine rows: the same rows, in the same order.
    const written = join(dir, 'historical.parquet');
    expect(await fs.getHistoricalFeatures(spinePath, refs, { ...options, chunkRows: 97 }).toParquet(written)).toBe(rows.length);
    const db2 = await DuckDBExecutor.open({ threads: 1 });
    const readBack = await db2.arrow(`SELECT * FROM read_parquet('${written}')`);
    db2.close();
    expect(readBack.toArray().map((r) => r.toJSON())).toEqual(fromParquet.toArray().map((r) => r.toJSON()));

    const columns = repo.views.flatMap((v) => v.features.map((f) => featureColumn(v.name, f.name)));
    expect(fromParquet.schema.fields.map((f) => f.name)).toEqual(['spine_id', 'ts', 'user_id', 'ad_id', 'category', ...columns]);
    const problems: string[] = [];
    const out = fromParquet.toArray();
    out.forEach((r, i) => {
      const got = r.toJSON() as Record<string, unknown>;
      expect(got.spine_id).toBe(rows[i].spine_id); // spine order is kept
      diff(got, expectedFeatures(repo, events, rows[i]), `spine row ${i} (t=${new Date(rows[i].ts).toISOString()})`, problems);
    });
    expect(problems.slice(0, 20)).toEqual([]);

    // The cases the test is meant to cover really occur.
    const defaults = out.filter((r) => r.toJSON()['u__n_1h'] === 0).length;
    expect(defaults).toBeGreaterThan(50);
    expect(out.some((r) => r.toJSON()['a__n_2h'] === -5)).toBe(true); // a declared default
    expect(out.some((r) => r.toJSON()['u__clicked_bid_3h'] === -1)).toBe(true);
    expect(out.some((r) => typeof r.toJSON()['u__bid_mean_all'] === 'number')).toBe(true);
  });

  it('buildTrainingSet: labels, request fields and features equal the oracle; chunked or not, the same rows; stable digest', async () => {
    const start = T0 + 2 * HOUR;
    const end = T0 + 20 * HOUR;
    const out = join(dir, 'train.parquet');
    const result = await fs.buildTrainingSet({ model: 'm', start, end, out });
    const again = await fs.buildTrainingSet({ model: 'm', start: new Date(start), end: new Date(end).toISOString(), out: join(dir, 'again.parquet') });
    expect(again.digest).toBe(result.digest);
    expect(result.digest).toMatch(/^[0-9a-f]{64}$/);
    // Small chunks: runs of 37 rows, each joined on its own against only the view rows its time range needs.
    const chunked = await fs.buildTrainingSet({ model: 'm', start, end, out: join(dir, 'chunked.parquet'), chunkRows: 37 });
    const chunkedAgain = await fs.buildTrainingSet({ model: 'm', start, end, out: join(dir, 'chunked2.parquet'), chunkRows: 37 });
    expect(chunkedAgain.digest).toBe(chunked.digest);

    const inRange = log.impressions.filter((i) => i.ts >= start && i.ts < end);
    expect(result.rows).toBe(inRange.length);
    expect(chunked.rows).toBe(inRange.length);
    expect(result.features).toEqual(['u__ctr_3h', 'u__seen_3h', 'a__n_2h', 'uc__ctr_1d']);
    expect(result.columns).toEqual(['impression_id', 'ts', 'device', 'user_id', 'ad_id', 'ad_category', 'label', ...result.features]);
    // Known before the build, from the repo alone.
    expect(fs.trainingSetColumns('m')).toEqual(result.columns);

    const db = await DuckDBExecutor.open({ threads: 1 });
    const table = await db.arrow(`SELECT * FROM read_parquet('${out}')`);
    const chunkedRows = (await db.arrow(`SELECT * FROM read_parquet('${join(dir, 'chunked.parquet')}')`)).toArray().map((r) => r.toJSON());
    db.close();
    expect(table.schema.fields.map((f) => f.name)).toEqual(result.columns);
    const rows = table.toArray().map((r) => r.toJSON() as Record<string, unknown>);
    // Chunked or not, the same file: rows in the source's order either way.
    expect(chunked.digest).toBe(result.digest);
    expect(chunkedRows).toEqual(rows);
    // The source's order (the files are shuffled): the training set follows it.
    const db2 = await DuckDBExecutor.open({ threads: 1 });
    const sourceOrder = (await db2.arrow(`SELECT impression_id FROM read_parquet('${join(dir, 'data', 'impressions.parquet')}') WHERE epoch_ms(ts) >= ${start} AND epoch_ms(ts) < ${end}`))
      .toArray()
      .map((r) => r.toJSON().impression_id);
    db2.close();
    expect(rows.map((r) => r.impression_id)).toEqual(sourceOrder);

    const byImpression = new Map(inRange.map((i) => [i.impression_id, i]));
    const problems: string[] = [];
    for (const got of rows) {
      const imp = byImpression.get(Number(got.impression_id))!;
      expect([got.ts, got.user_id, got.device, got.ad_category]).toEqual([imp.ts, imp.user_id, imp.device, imp.ad_category]);
      expect(got.label).toBe(events.labels.get(imp.impression_id));
      const want = expectedFeatures(repo, events, { ts: imp.ts, user_id: imp.user_id, ad_id: imp.ad_id, category: imp.ad_category });
      diff(got, Object.fromEntries(result.features.map((c) => [c, want[c]])), `impression ${imp.impression_id}`, problems);
    }
    expect(problems.slice(0, 20)).toEqual([]);
    expect(rows.some((r) => r.label === 1)).toBe(true);
  });

  it('latestFeatures: per entity the row with the greatest event_time <= asOf', async () => {
    const asOf = T0 + 17 * HOUR + 20 * MINUTE;
    const latest = await fs.latestFeatures('u', asOf).toArrow();
    const view = repo.views.find((v) => v.name === 'u')!;
    // The oracle with no lag and no TTL picks exactly that row; latest values are raw (null stays null: the online
    // reader applies defaults), so the oracle's defaults are nulled too.
    const unbounded = { ...view, lagMs: 0, ttlMs: Number.POSITIVE_INFINITY, features: view.features.map((f) => ({ ...f, default: null })) };
    const users = [...new Set(log.impressions.filter((i) => i.user_id !== null && i.ts < asOf).map((i) => i.user_id!))].sort((a, b) => a - b);
    expect(latest.schema.fields.map((f) => f.name)).toEqual(['user_id', 'event_time', ...view.features.map((f) => f.name)]);
    expect(latest.toArray().map((r) => r.toJSON().user_id)).toEqual(users);
    const problems: string[] = [];
    for (const r of latest.toArray()) {
      const got = r.toJSON() as Record<string, number>;
      expect(got.event_time).toBeLessThanOrEqual(asOf);
      expect(got.event_time % HOUR).toBe(0);
      const want = oracleRow(unbounded, events, [got.user_id], asOf);
      const renamed = Object.fromEntries(Object.entries(got).map(([k, v]) => [featureColumn('u', k), v]));
      diff(renamed, want, `user ${got.user_id}`, problems);
    }
    expect(problems).toEqual([]);
  });
});

describe('engine API', () => {
  it('checks source files against the repo: missing files, declared columns, referenced columns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lockstep-sources-'));
    try {
      await writeLog(join(dir, 'data'), randomLog({ seed: 3, impressions: 30 }));
      const open = (edit: (r: ReturnType<typeof testRepo>) => void) => {
        const def = testRepo();
        edit(def);
        return FeatureStore.open(def, { dataDir: join(dir, 'data'), workDir: join(dir, 'work') });
      };
      await expect(open((r) => (r.sources.clicks.path = 'nope.parquet'))).rejects.toThrow(/^source "clicks": cannot read .*nope\.parquet/);
      await expect(open((r) => (r.sources.impressions.columns = { impression_id: 'integer', ts: 'timestamp', user_id: 'integer', ad_id: 'integer', ad_category: 'string', device: 'integer', bid: 'double', price: 'double' }))).rejects.toThrow(
        /sources\.impressions\.columns\.device: declared integer, but .*impressions\.parquet has string\n  - sources\.impressions\.columns\.price: declared, but .*impressions\.parquet has no such column/,
      );
      // Undeclared columns are checked against the file's real ones.
      await expect(open((r) => (r.views[0].keys = ['member_id']))).rejects.toThrow(
        'views.u.keys[0]: source "impressions" has no column "member_id" (it has impression_id, ts, user_id, ad_id, ad_category, device, bid)',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads CSV sources exactly like Parquet ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lockstep-csv-'));
    try {
      const log = randomLog({ seed: 8, impressions: 120 });
      await writeLog(join(dir, 'data'), log);
      const db = await DuckDBExecutor.open({ threads: 1 });
      for (const name of ['impressions', 'clicks']) {
        await db.run(`COPY (SELECT * FROM read_parquet('${join(dir, 'data', `${name}.parquet`)}')) TO '${join(dir, 'data', `${name}.csv`)}' (HEADER)`);
      }
      db.close();
      const csvRepo = testRepo();
      csvRepo.sources.impressions.path = 'impressions.csv';
      csvRepo.sources.clicks.path = 'clicks.csv';
      const spine = new Table({
        ts: vectorFromArray(log.impressions.map((i) => i.ts), new TimestampMillisecond()),
        user_id: vectorFromArray(log.impressions.map((i) => i.user_id), new Int32()),
        ad_id: vectorFromArray(log.impressions.map((i) => i.ad_id), new Int32()),
        category: vectorFromArray(log.impressions.map((i) => i.ad_category), new Utf8()),
      });
      const results = [];
      for (const [def, work] of [[testRepo(), 'w1'], [csvRepo, 'w2']] as const) {
        const fs = await FeatureStore.open(def, { dataDir: join(dir, 'data'), workDir: join(dir, work) });
        results.push((await fs.getHistoricalFeatures(spine, ['u:*', 'a:*', 'uc:*'], { entityKeys: { uc: ['user_id', 'category'] } }).toArrow()).toArray().map((r) => r.toJSON()));
        fs.close();
      }
      expect(results[1]).toEqual(results[0]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown feature references and spines missing key columns, naming them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lockstep-api-'));
    try {
      const log = randomLog({ seed: 9, impressions: 50 });
      await writeLog(join(dir, 'data'), log);
      const fs = await FeatureStore.open(validateRepo(testRepo()), { dataDir: join(dir, 'data'), workDir: join(dir, 'work') });
      try {
        expect(() => fs.getHistoricalFeatures('x.parquet', ['u:nope', 'zz:*'])).toThrow(/unknown feature reference\(s\): u:nope, zz:\*/);
        const spine = new Table({ ts: vectorFromArray([T0], new TimestampMillisecond()), user_id: vectorFromArray([1], new Int32()) });
        await expect(fs.getHistoricalFeatures(spine, ['uc:ctr_1d']).toArrow()).rejects.toThrow(
          'the spine has no column "category" (a join key of view "uc"; map it with entityKeys)',
        );
        await expect(fs.buildTrainingSet({ model: 'nope', start: T0, end: T0 + HOUR, out: join(dir, 'x.parquet') })).rejects.toThrow('unknown model "nope" (models: m)');
        expect(fs.servingSpecs().map((s) => [s.name, s.joinKeys, s.ttlSeconds, s.lagSeconds, s.intervalSeconds])).toEqual([
          ['u', ['user_id'], 5 * 3600, 900, 3600],
          ['a', ['ad_id'], 2 * 3600, 0, 1800],
          ['uc', ['user_id', 'category'], 86400, 3600, 3600],
        ]);
        // A second build reuses the tables on disk; a changed source file makes them stale.
        const first = await fs.buildFeatures();
        expect(first.every((v) => v.built)).toBe(true);
        expect((await fs.buildFeatures()).every((v) => !v.built)).toBe(true);
        const before = await fs.buildTrainingSet({ model: 'm', start: T0, end: T0 + 40 * HOUR, out: join(dir, 'before.parquet') });
        const changed = randomLog({ seed: 10, impressions: 60 });
        await writeLog(join(dir, 'data'), changed);
        expect((await fs.buildFeatures({ views: ['a'] }))[0].built).toBe(true);
        // Labels are recomputed for the new files too.
        const after = await fs.buildTrainingSet({ model: 'm', start: T0, end: T0 + 40 * HOUR, out: join(dir, 'after.parquet') });
        expect([before.rows, after.rows]).toEqual([50, 60]);
        const db = await DuckDBExecutor.open({ threads: 1 });
        const [{ positives }] = await db.rows<{ positives: bigint }>(`SELECT sum(label) AS positives FROM read_parquet('${join(dir, 'after.parquet')}')`);
        db.close();
        const labels = oracleEvents(fs.repo, changed).labels;
        expect(Number(positives)).toBe([...labels.values()].reduce((a, b) => a + b, 0));
      } finally {
        fs.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
