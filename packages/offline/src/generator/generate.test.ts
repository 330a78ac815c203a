import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { InputError } from '@lockstep/sdk';
import { GENERATED_FILES, PRODUCT_CATEGORIES, generate, type GenerateManifest, type GenerateOptions } from './index.ts';

// One 200k-impression run for the statistical checks: few users, so each has plenty of history.
const MAIN: Omit<GenerateOptions, 'out'> = { impressions: 200_000, users: 3_000, ads: 600, advertisers: 60, days: 14, seed: 7 };
// Small runs for determinism.
const SMALL: Omit<GenerateOptions, 'out'> = { impressions: 40_000, users: 2_000, ads: 300, advertisers: 30, days: 5, seed: 42 };

let root: string;
let con: DuckDBConnection;
let instance: DuckDBInstance;
let manifest: GenerateManifest;
const file = (f: string) => join(root, 'main', f);

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await con.runAndReadAll(sql)).getRowObjectsJS();
}
async function one(sql: string): Promise<Record<string, unknown>> {
  return (await rows(sql))[0];
}
async function describeFile(f: string): Promise<string[]> {
  return (await rows(`DESCRIBE SELECT * FROM '${file(f)}'`)).map((r) => `${r.column_name} ${r.column_type}`);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lockstep-generate-'));
  ({ manifest } = await generate({ ...MAIN, out: join(root, 'main') }));
  instance = await DuckDBInstance.create(':memory:');
  con = await instance.connect();
  await con.run(`CREATE VIEW imp AS SELECT * FROM '${file(GENERATED_FILES.impressions)}'`);
  await con.run(`CREATE VIEW clk AS SELECT * FROM '${file(GENERATED_FILES.clicks)}'`);
  await con.run(`CREATE VIEW orc AS SELECT * FROM '${file(GENERATED_FILES.oracle)}'`);
  await con.run(
    `CREATE TABLE lab AS SELECT i.*, o.p_click, (c.impression_id IS NOT NULL)::INT AS y
     FROM imp i JOIN orc o USING (impression_id) LEFT JOIN clk c USING (impression_id)`,
  );
});

afterAll(async () => {
  con?.closeSync();
  instance?.closeSync();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('generate: output contract', () => {
  it('writes exactly the documented columns and types', async () => {
    expect(await describeFile(GENERATED_FILES.users)).toEqual([
      'user_id INTEGER', 'primary_device VARCHAR', 'activity DOUBLE', 'signup_ts TIMESTAMP',
    ]);
    expect(await describeFile(GENERATED_FILES.advertisers)).toEqual(['advertiser_id INTEGER', 'name VARCHAR', 'tier VARCHAR']);
    expect(await describeFile(GENERATED_FILES.ads)).toEqual([
      'ad_id INTEGER', 'advertiser_id INTEGER', 'category VARCHAR', 'price DOUBLE', 'bid DOUBLE',
    ]);
    expect(await describeFile(GENERATED_FILES.impressions)).toEqual([
      'impression_id INTEGER', 'ts TIMESTAMP', 'user_id INTEGER', 'query VARCHAR', 'query_category VARCHAR',
      'ad_id INTEGER', 'advertiser_id INTEGER', 'ad_category VARCHAR', 'position INTEGER', 'device VARCHAR', 'bid DOUBLE',
    ]);
    expect(await describeFile(GENERATED_FILES.clicks)).toEqual(['impression_id INTEGER', 'click_ts TIMESTAMP']);
    expect(await describeFile(GENERATED_FILES.oracle)).toEqual(['impression_id INTEGER', 'p_click DOUBLE']);
  });

  it('keeps dimension values within their vocabularies and references consistent', async () => {
    const cats = PRODUCT_CATEGORIES.map((c) => `'${c.name}'`).join(',');
    expect(PRODUCT_CATEGORIES.length).toBeGreaterThanOrEqual(12);
    expect(
      await one(`SELECT
        (SELECT count(*) FROM '${file(GENERATED_FILES.users)}' WHERE primary_device NOT IN ('mobile','desktop','tablet') OR activity <= 0) bad_users,
        (SELECT count(*) FROM '${file(GENERATED_FILES.advertisers)}' WHERE tier NOT IN ('small','mid','large')) bad_tiers,
        (SELECT count(DISTINCT name) FROM '${file(GENERATED_FILES.advertisers)}') AS names,
        (SELECT count(*) FROM '${file(GENERATED_FILES.ads)}' WHERE category NOT IN (${cats}) OR price <= 0 OR bid <= 0) bad_ads,
        (SELECT count(*) FROM imp WHERE position NOT BETWEEN 1 AND 8 OR device NOT IN ('mobile','desktop','tablet')
           OR query_category NOT IN (${cats}) OR ad_category NOT IN (${cats}) OR bid <= 0) bad_imps,
        (SELECT count(*) FROM imp i JOIN '${file(GENERATED_FILES.ads)}' a USING (ad_id)
           WHERE a.advertiser_id <> i.advertiser_id OR a.category <> i.ad_category) mismatched_ads,
        (SELECT count(*) FROM imp i JOIN '${file(GENERATED_FILES.users)}' u USING (user_id) WHERE u.signup_ts > i.ts) before_signup`),
    ).toEqual({ bad_users: 0n, bad_tiers: 0n, names: 60n, bad_ads: 0n, bad_imps: 0n, mismatched_ads: 0n, before_signup: 0n });
  });

  it('sorts impressions by ts with ids increasing, inside the time range, with some equal timestamps', async () => {
    const r = await one(`SELECT count(*) n,
        count(*) FILTER (WHERE impression_id <> rn) bad_ids,
        count(*) FILTER (WHERE ts < prev_ts) unsorted,
        count(*) FILTER (WHERE ts = prev_ts) AS ties,
        min(ts) = TIMESTAMP '2026-01-01' OR min(ts) >= TIMESTAMP '2026-01-01' AS starts_ok,
        max(ts) < TIMESTAMP '2026-01-15' AS ends_ok
      FROM (SELECT impression_id, ts, row_number() OVER () rn, lag(ts) OVER () prev_ts FROM imp)`);
    expect(r).toMatchObject({ n: 200_000n, bad_ids: 0n, unsorted: 0n, starts_ok: true, ends_ok: true });
    expect(Number(r.ties)).toBeGreaterThan(10_000);
  });

  it('writes clicks after their impression, at most one each, sorted by click_ts, some beyond 1 h', async () => {
    const r = await one(`SELECT count(*) n, count(DISTINCT c.impression_id) distinct_ids,
        count(*) FILTER (WHERE c.click_ts <= i.ts OR i.ts IS NULL) not_after,
        count(*) FILTER (WHERE c.click_ts >= TIMESTAMP '2026-01-15') after_end,
        avg((epoch(c.click_ts) - epoch(i.ts) > 3600)::INT) beyond_1h,
        median(epoch(c.click_ts) - epoch(i.ts)) median_delay
      FROM clk c LEFT JOIN imp i USING (impression_id)`);
    expect(r.n).toBe(r.distinct_ids);
    expect(r).toMatchObject({ not_after: 0n, after_end: 0n });
    expect(Number(r.beyond_1h)).toBeGreaterThan(0.015);
    expect(Number(r.beyond_1h)).toBeLessThan(0.06);
    expect(Number(r.median_delay)).toBeGreaterThan(20);
    expect(Number(r.median_delay)).toBeLessThan(120);
    const sorted = await one(`SELECT count(*) FILTER (WHERE click_ts < lag_ts) unsorted FROM (SELECT click_ts, lag(click_ts) OVER () lag_ts FROM clk)`);
    expect(sorted.unsorted).toBe(0n);
  });

  it('gives every impression an oracle probability in (0, 1), with an overall CTR of 2-4%', async () => {
    const r = await one(`SELECT count(*) n, count(*) FILTER (WHERE p_click <= 0 OR p_click >= 1 OR p_click IS NULL) bad, avg(p_click) p, avg(y) ctr FROM lab`);
    expect(r).toMatchObject({ n: 200_000n, bad: 0n });
    expect(Number(r.p)).toBeGreaterThan(0.02);
    expect(Number(r.p)).toBeLessThan(0.04);
    // Clicks are Bernoulli(p): the empirical CTR is within a few standard errors of the mean p.
    expect(Math.abs(Number(r.ctr) - Number(r.p))).toBeLessThan(0.002);
  });

  it('writes a manifest with the options, row counts and each file’s sha256', async () => {
    expect(manifest).toMatchObject({
      seed: 7,
      options: { impressions: 200_000, users: 3_000, ads: 600, advertisers: 60, days: 14, start: '2026-01-01' },
      time_range: { start: '2026-01-01T00:00:00.000Z', end: '2026-01-15T00:00:00.000Z' },
      rows: { users: 3_000, advertisers: 60, ads: 600, impressions: 200_000, oracle: 200_000 },
      attribution_window_seconds: 3600,
    });
    const clicks = await one(`SELECT count(*) n FROM clk`);
    expect(BigInt(manifest.rows.clicks)).toBe(clicks.n);
    const onDisk = JSON.parse(await readFile(file('manifest.json'), 'utf8')) as GenerateManifest;
    expect(onDisk).toEqual(manifest);
    for (const f of Object.values(GENERATED_FILES)) {
      const digest = createHash('sha256').update(await readFile(file(f))).digest('hex');
      expect(manifest.files[f].sha256, f).toBe(digest);
    }
  });
});

describe('generate: the probability model shows in the data', () => {
  it('has a strong position bias: CTR falls with position', async () => {
    const byPos = await rows(`SELECT position, avg(y) ctr, avg(p_click) p FROM lab GROUP BY 1 ORDER BY 1`);
    const ctr = byPos.map((r) => Number(r.ctr));
    const p = byPos.map((r) => Number(r.p));
    expect(byPos).toHaveLength(8);
    for (let i = 1; i < 8; i++) expect(p[i], `oracle mean p at position ${i + 1}`).toBeLessThan(p[i - 1]);
    expect(ctr[0]).toBeGreaterThan(ctr[2]);
    expect(ctr[2]).toBeGreaterThan(ctr[4]);
    expect(ctr[4]).toBeGreaterThan(ctr[7]);
    expect(ctr[0] / ctr[7]).toBeGreaterThan(2);
  });

  it('has a user × category affinity learnable from history: CTR in a user’s top category ≫ elsewhere', async () => {
    // Top category = the ad category a user clicked most in the first week; compare CTRs in the second week.
    const r = await rows(`WITH h AS (SELECT user_id, ad_category, sum(y) clicks, count(*) n FROM lab WHERE ts < TIMESTAMP '2026-01-08' GROUP BY ALL),
        top AS (SELECT user_id, arg_max(ad_category, clicks * 1e6 + n) top_category FROM h GROUP BY 1 HAVING sum(clicks) >= 2)
      SELECT l.ad_category = t.top_category AS in_top, count(*) n, avg(y) ctr
      FROM lab l JOIN top t USING (user_id) WHERE ts >= TIMESTAMP '2026-01-08' GROUP BY 1 ORDER BY 1`);
    const [elsewhere, inTop] = r.map((x) => Number(x.ctr));
    expect(Number(r[1].n)).toBeGreaterThan(5_000);
    expect(inTop / elsewhere).toBeGreaterThan(1.8);
  });

  it('rewards query/ad category match, and the match is usual but not universal', async () => {
    const r = await rows(`SELECT query_category = ad_category m, count(*) n, avg(y) ctr FROM lab GROUP BY 1 ORDER BY 1`);
    const share = Number(r[1].n) / 200_000;
    expect(share).toBeGreaterThan(0.7);
    expect(share).toBeLessThan(0.95);
    expect(Number(r[1].ctr)).toBeGreaterThan(2 * Number(r[0].ctr));
  });

  it('leaves room for a model: the oracle (Bayes-optimal) AUC is well above chance', async () => {
    const r = await one(`WITH r AS (SELECT y, rank() OVER (ORDER BY p_click) rk FROM lab)
      SELECT (sum(rk) FILTER (WHERE y = 1) - sum(y) * (sum(y) + 1) / 2) / (sum(y) * (count(*) - sum(y))) auc FROM r`);
    expect(Number(r.auc)).toBeGreaterThan(0.7);
    expect(Number(r.auc)).toBeLessThan(0.9);
  });
});

describe('generate: determinism and validation', () => {
  it('gives byte-identical files for the same seed and different ones for another seed', async () => {
    const a = await generate({ ...SMALL, out: join(root, 'a') });
    const b = await generate({ ...SMALL, out: join(root, 'b') });
    const c = await generate({ ...SMALL, seed: 43, out: join(root, 'c') });
    expect(b.manifest).toEqual(a.manifest);
    expect(await readFile(b.manifestPath, 'utf8')).toBe(await readFile(a.manifestPath, 'utf8'));
    for (const f of Object.values(GENERATED_FILES)) {
      expect(c.manifest.files[f].sha256, f).not.toBe(a.manifest.files[f].sha256);
    }
  });

  it('a run that fails midway leaves the earlier data set in place, whole, and no staging folder', async () => {
    const out = join(root, 'kept');
    const first = await generate({ ...SMALL, out });
    const manifestBefore = await readFile(first.manifestPath, 'utf8');
    const interrupted = generate({
      ...SMALL,
      seed: 99,
      out,
      onProgress: (p) => {
        // After impressions and the oracle are written, before clicks: a half-written data set if written in place.
        if (p.phase === 'writing' && p.file === GENERATED_FILES.clicks) throw new Error('interrupted');
      },
    });
    await expect(interrupted).rejects.toThrow('interrupted');
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(manifestBefore);
    for (const f of Object.values(GENERATED_FILES)) {
      expect(createHash('sha256').update(await readFile(join(out, f))).digest('hex'), f).toBe(first.manifest.files[f].sha256);
    }
    expect((await readdir(root)).filter((n) => n.startsWith('kept.partial-'))).toEqual([]);
    // And a run that succeeds replaces it.
    const second = await generate({ ...SMALL, seed: 99, out });
    expect(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))).toEqual(second.manifest);
    expect(second.manifest.files[GENERATED_FILES.impressions].sha256).not.toBe(first.manifest.files[GENERATED_FILES.impressions].sha256);
  });

  it('rejects bad options with an InputError naming the option', async () => {
    const out = join(root, 'bad');
    await expect(generate({ out, impressions: 0 })).rejects.toThrow(InputError);
    await expect(generate({ out, impressions: 1.5 })).rejects.toMatchObject({ field: 'impressions' });
    await expect(generate({ out, start: '2026-02-30' })).rejects.toMatchObject({ field: 'start' });
    await expect(generate({ out, days: 0 })).rejects.toMatchObject({ field: 'days' });
  });

  it('copes with tiny worlds (one user, one ad, one advertiser)', async () => {
    const r = await generate({ out: join(root, 'tiny'), impressions: 500, users: 1, ads: 1, advertisers: 1, days: 2 });
    expect(r.manifest.rows).toMatchObject({ users: 1, ads: 1, advertisers: 1, impressions: 500 });
  });
});
