/**
 * @module
 * The seeded, deterministic generator of sponsored-product ad logs (docs/data.md has the schema and
 * the probability model). `generate()` writes dimension tables, the impression and click logs, and
 * apart from them the oracle (the true click probability of every impression).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CATEGORIES, DEVICES, TIERS } from './catalog.ts';
import {
  CLICK_DELAY,
  GENERATOR_VERSION,
  RECOMMENDED_ATTRIBUTION_WINDOW_SECONDS,
  clickDelayCdf,
} from './model.ts';
import { ParquetTable, type ColumnSpec } from './parquet-table.ts';
import { ClickLog, allocateDayColumns, planDays, simulateDay } from './simulate.ts';
import { buildWorld, type World } from './world.ts';
import { resolveOptions, type GenerateOptions, type GenerateProgress, type ResolvedOptions } from './options.ts';

export { GENERATE_DEFAULTS, type GenerateOptions, type GenerateProgress } from './options.ts';
export { CATEGORIES as PRODUCT_CATEGORIES, type Category } from './catalog.ts';
export { CLICK_MODEL, CLICK_DELAY, TRAFFIC, GENERATOR_VERSION, RECOMMENDED_ATTRIBUTION_WINDOW_SECONDS, clickDelayCdf } from './model.ts';

/** The output files, relative to `out`. The pipeline reads data/ only; oracle/ is for evaluation. */
export const GENERATED_FILES = {
  users: 'data/users.parquet',
  advertisers: 'data/advertisers.parquet',
  ads: 'data/ads.parquet',
  impressions: 'data/impressions.parquet',
  clicks: 'data/clicks.parquet',
  oracle: 'oracle/oracle.parquet',
} as const;

/** manifest.json. Everything in it is a function of the options: no wall-clock times, so it is reproducible too. */
export interface GenerateManifest {
  generator: 'lockstep-sponsored-ads';
  generator_version: number;
  seed: number;
  options: Omit<ResolvedOptions, 'out'>;
  /** [start, end): impressions have start ≤ ts < end; clicks that would land at or after end are not in the log. */
  time_range: { start: string; end: string };
  rows: { users: number; advertisers: number; ads: number; impressions: number; clicks: number; oracle: number };
  categories: string[];
  stats: {
    /** Mean of the oracle p_click over all impressions. */
    mean_p_click: number;
    /** Clicks in clicks.parquet / impressions. */
    ctr: number;
    /** Clicks whose delay exceeds the recommended attribution window (they are in clicks.parquet). */
    clicks_beyond_attribution_window: number;
    /** Clicks that would have arrived at or after time_range.end, and so are absent from clicks.parquet. */
    clicks_after_end: number;
  };
  /** The label "clicked within W seconds" has probability p_click × click_delay_cdf[W]. */
  attribution_window_seconds: number;
  /** The click-delay mixture (model.ts CLICK_DELAY) and its CDF at a few delays in seconds. */
  click_delay: {
    fast_median_seconds: number;
    fast_sigma: number;
    slow_share: number;
    slow_median_seconds: number;
    slow_sigma: number;
    min_seconds: number;
    cdf: Record<string, number>;
  };
  files: Record<string, { bytes: number; sha256: string }>;
}

export interface GenerateResult {
  /** Absolute output directory. */
  out: string;
  manifestPath: string;
  manifest: GenerateManifest;
  /** Absolute path of each file written. */
  files: Record<keyof typeof GENERATED_FILES, string>;
  /** Wall-clock seconds the run took (not in the manifest, which must be reproducible). */
  seconds: number;
}

const DAY_MICROS = 86_400e6;

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function codes(n: number): Uint8Array | Uint16Array {
  const a = n <= 255 ? new Uint8Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function ids(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i + 1;
  return a;
}

const categoryLabels = CATEGORIES.map((c) => c.name);

async function writeDimensions(con: DuckDBConnection, world: World, path: (f: string) => string): Promise<void> {
  const { users, advertisers, ads } = world;
  const usersTable = await ParquetTable.create(con, 'users', [
    { name: 'user_id', kind: { type: 'INTEGER' } },
    { name: 'primary_device', kind: { type: 'VARCHAR', labels: DEVICES } },
    { name: 'activity', kind: { type: 'DOUBLE' } },
    { name: 'signup_ts', kind: { type: 'TIMESTAMP' } },
  ]);
  usersTable.append([ids(users.count), users.device, users.activity, users.signupMicros], users.count);
  await usersTable.writeParquet(path(GENERATED_FILES.users));

  const advTable = await ParquetTable.create(con, 'advertisers', [
    { name: 'advertiser_id', kind: { type: 'INTEGER' } },
    { name: 'name', kind: { type: 'VARCHAR', labels: advertisers.names } },
    { name: 'tier', kind: { type: 'VARCHAR', labels: TIERS } },
  ]);
  advTable.append([ids(advertisers.count), codes(advertisers.count), advertisers.tier], advertisers.count);
  await advTable.writeParquet(path(GENERATED_FILES.advertisers));

  const adsTable = await ParquetTable.create(con, 'ads', [
    { name: 'ad_id', kind: { type: 'INTEGER' } },
    { name: 'advertiser_id', kind: { type: 'INTEGER' } },
    { name: 'category', kind: { type: 'VARCHAR', labels: categoryLabels } },
    { name: 'price', kind: { type: 'DOUBLE' } },
    { name: 'bid', kind: { type: 'DOUBLE' } },
  ]);
  const advertiserIds = new Int32Array(ads.count);
  for (let i = 0; i < ads.count; i++) advertiserIds[i] = ads.advertiser[i] + 1;
  adsTable.append([ids(ads.count), advertiserIds, ads.category, ads.price, ads.bid], ads.count);
  await adsTable.writeParquet(path(GENERATED_FILES.ads));
}

/**
 * Generate the data set into `options.out`. Same options and seed → byte-identical files.
 *
 * Runs the simulation on the calling thread (it is CPU-bound JS) and lets DuckDB write the Parquet
 * files; 10M impressions take well under a minute on two cores.
 */
export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now();
  const o = resolveOptions(options);
  const progress = options.onProgress ?? (() => {});
  const out = resolve(o.out);
  // Every file is written into a staging folder beside `out` and moved in only once all are written, the manifest
  // last: a run that fails or is interrupted leaves an earlier data set in `out` whole (and a reader that sees the
  // manifest sees the files it describes). Beside `out`, not in the system's temp folder: a rename cannot cross
  // file systems.
  const staging = `${out}.partial-${process.pid}-${Date.now().toString(36)}`;
  const path = (f: string) => join(staging, f);
  await mkdir(join(staging, 'data'), { recursive: true });
  await mkdir(join(staging, 'oracle'), { recursive: true });

  const startMicros = Date.parse(`${o.start}T00:00:00Z`) * 1000;
  const endMicros = startMicros + o.days * DAY_MICROS;
  progress({ phase: 'world', done: 0, total: o.impressions });
  const world = buildWorld({ seed: o.seed, users: o.users, ads: o.ads, advertisers: o.advertisers, startMicros, endMicros });

  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    await writeDimensions(con, world, path);

    const impressionColumns: ColumnSpec[] = [
      { name: 'impression_id', kind: { type: 'INTEGER' } },
      { name: 'ts', kind: { type: 'TIMESTAMP' } },
      { name: 'user_id', kind: { type: 'INTEGER' } },
      { name: 'query', kind: { type: 'VARCHAR', labels: world.queries.labels } },
      { name: 'query_category', kind: { type: 'VARCHAR', labels: categoryLabels } },
      { name: 'ad_id', kind: { type: 'INTEGER' } },
      { name: 'advertiser_id', kind: { type: 'INTEGER' } },
      { name: 'ad_category', kind: { type: 'VARCHAR', labels: categoryLabels } },
      { name: 'position', kind: { type: 'INTEGER' } },
      { name: 'device', kind: { type: 'VARCHAR', labels: DEVICES } },
      { name: 'bid', kind: { type: 'DOUBLE' } },
    ];
    const impressions = await ParquetTable.create(con, 'impressions', impressionColumns);
    const oracle = await ParquetTable.create(con, 'oracle', [
      { name: 'impression_id', kind: { type: 'INTEGER' } },
      { name: 'p_click', kind: { type: 'DOUBLE' } },
    ]);

    const plan = planDays(o.impressions, o.days, startMicros);
    const day = allocateDayColumns(Math.max(...plan));
    const clicks = new ClickLog();
    let done = 0;
    let pSum = 0;
    for (let d = 0; d < o.days; d++) {
      const ctx = { seed: o.seed, day: d, dayStartMicros: startMicros + d * DAY_MICROS, endMicros, firstImpressionId: done + 1 };
      simulateDay(world, ctx, plan[d], day, clicks);
      impressions.append(
        [day.impressionId, day.tsMicros, day.userId, day.query, day.queryCategory, day.adId, day.advertiserId, day.adCategory, day.position, day.device, day.bid],
        day.count,
      );
      oracle.append([day.impressionId, day.pClick], day.count);
      for (let i = 0; i < day.count; i++) pSum += day.pClick[i];
      done += day.count;
      progress({ phase: 'impressions', done, total: o.impressions });
    }

    progress({ phase: 'writing', done, total: o.impressions, file: GENERATED_FILES.impressions });
    await impressions.writeParquet(path(GENERATED_FILES.impressions));
    progress({ phase: 'writing', done, total: o.impressions, file: GENERATED_FILES.oracle });
    await oracle.writeParquet(path(GENERATED_FILES.oracle));

    progress({ phase: 'writing', done, total: o.impressions, file: GENERATED_FILES.clicks });
    clicks.sortByClickTime();
    const clicksTable = await ParquetTable.create(con, 'clicks', [
      { name: 'impression_id', kind: { type: 'INTEGER' } },
      { name: 'click_ts', kind: { type: 'TIMESTAMP' } },
    ]);
    clicksTable.append([clicks.impressionId, clicks.clickMicros], clicks.count);
    await clicksTable.writeParquet(path(GENERATED_FILES.clicks));

    const files: GenerateManifest['files'] = {};
    for (const f of Object.values(GENERATED_FILES)) files[f] = { bytes: (await stat(path(f))).size, sha256: await sha256(path(f)) };

    const { out: _out, ...optionsWithoutOut } = o;
    const cdfPoints = [10, 60, 600, 3600, 86_400];
    const manifest: GenerateManifest = {
      generator: 'lockstep-sponsored-ads',
      generator_version: GENERATOR_VERSION,
      seed: o.seed,
      options: optionsWithoutOut,
      time_range: { start: new Date(startMicros / 1000).toISOString(), end: new Date(endMicros / 1000).toISOString() },
      rows: {
        users: world.users.count,
        advertisers: world.advertisers.count,
        ads: world.ads.count,
        impressions: done,
        clicks: clicks.count,
        oracle: done,
      },
      categories: categoryLabels,
      stats: {
        mean_p_click: pSum / done,
        ctr: clicks.count / done,
        clicks_beyond_attribution_window: clicks.beyondWindow,
        clicks_after_end: clicks.truncated,
      },
      attribution_window_seconds: RECOMMENDED_ATTRIBUTION_WINDOW_SECONDS,
      click_delay: {
        fast_median_seconds: CLICK_DELAY.fastMedianSeconds,
        fast_sigma: CLICK_DELAY.fastSigma,
        slow_share: CLICK_DELAY.slowShare,
        slow_median_seconds: CLICK_DELAY.slowMedianSeconds,
        slow_sigma: CLICK_DELAY.slowSigma,
        min_seconds: CLICK_DELAY.minSeconds,
        cdf: Object.fromEntries(cdfPoints.map((s) => [String(s), clickDelayCdf(s)])),
      },
      files,
    };
    await writeFile(path('manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // Into place: other files in `out` (a work folder under data/, say) stay; the manifest goes first out and last in.
    await mkdir(join(out, 'data'), { recursive: true });
    await mkdir(join(out, 'oracle'), { recursive: true });
    await rm(join(out, 'manifest.json'), { force: true });
    for (const f of Object.values(GENERATED_FILES)) await rename(path(f), join(out, f));
    const manifestPath = join(out, 'manifest.json');
    await rename(path('manifest.json'), manifestPath);
    progress({ phase: 'done', done, total: o.impressions });
    return {
      out,
      manifestPath,
      manifest,
      files: Object.fromEntries(Object.entries(GENERATED_FILES).map(([k, f]) => [k, join(out, f)])) as GenerateResult['files'],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    con.closeSync();
    instance.closeSync();
    await rm(staging, { recursive: true, force: true });
  }
}
