/**
 * Small random event logs for the engine's tests: impressions with equal timestamps, files written out of time
 * order, clicks that arrive late (some past the attribution window, some for unknown impressions, some twice), bids
 * on a 1/4 grid (so sums are exact in any order) and a repo exercising every aggregation.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Float64, Int32, TimestampMillisecond, Utf8, vectorFromArray, Table } from 'apache-arrow';
import { Rng } from '../../generator/prng.ts';
import type { RepoDefinition } from '../../repo/index.ts';
import { DuckDBExecutor } from '../duckdb/executor.ts';

export interface Impression {
  impression_id: number;
  ts: number;
  user_id: number | null;
  ad_id: number;
  ad_category: string;
  device: string;
  bid: number | null;
}

export interface Click {
  impression_id: number;
  click_ts: number;
}

export interface EventLog {
  impressions: Impression[];
  clicks: Click[];
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
/** 2026-01-01T00:00:00Z */
export const T0 = Date.UTC(2026, 0, 1);

export interface RandomLogOptions {
  seed: number;
  impressions?: number;
  users?: number;
  ads?: number;
  /** Length of the period in hours. */
  hours?: number;
}

/** A random event log. Times sit on a 5-minute grid plus a few exact-hour ones, so many are equal. */
export function randomLog({ seed, impressions = 400, users = 12, ads = 6, hours = 30 }: RandomLogOptions): EventLog {
  const rng = new Rng(seed);
  const cats = ['books', 'garden', 'toys'];
  const imps: Impression[] = [];
  for (let i = 0; i < impressions; i++) {
    const onHour = rng.float() < 0.1;
    const ts = T0 + (onHour ? rng.int(hours) * HOUR : rng.int(hours * 12) * 5 * MINUTE);
    const ad = rng.int(ads);
    imps.push({
      impression_id: i + 1,
      ts,
      // A few impressions have no user: they must not count for any user.
      user_id: rng.float() < 0.03 ? null : rng.int(users),
      ad_id: ad,
      ad_category: cats[ad % cats.length],
      device: rng.float() < 0.5 ? 'mobile' : 'desktop',
      bid: rng.float() < 0.05 ? null : rng.int(16) / 4,
    });
  }
  const clicks: Click[] = [];
  for (const imp of imps) {
    if (rng.float() < 0.3) {
      // Delays from 0 to 3 h: the attribution window (1 h) keeps only some; exact 0 and exact window happen too.
      const pick = rng.float();
      const delay = pick < 0.05 ? 0 : pick < 0.1 ? HOUR : rng.int(36) * 5 * MINUTE + rng.int(3) * 1000;
      clicks.push({ impression_id: imp.impression_id, click_ts: imp.ts + delay });
      if (rng.float() < 0.15) clicks.push({ impression_id: imp.impression_id, click_ts: imp.ts + delay + rng.int(90) * MINUTE });
    }
  }
  // A click before its impression (never attributed) and clicks for impressions that do not exist.
  clicks.push({ impression_id: imps[0].impression_id, click_ts: imps[0].ts - MINUTE });
  clicks.push({ impression_id: impressions + 1000, click_ts: T0 + 2 * HOUR });
  return { impressions: imps, clicks };
}

/** Rows in random order (files are not sorted by time). */
export function shuffled<T>(rows: readonly T[], seed: number): T[] {
  const rng = new Rng(seed, 7);
  const out = [...rows];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function impressionsTable(rows: readonly Impression[]): Table {
  return new Table({
    impression_id: vectorFromArray(rows.map((r) => r.impression_id), new Int32()),
    ts: vectorFromArray(rows.map((r) => r.ts), new TimestampMillisecond()),
    user_id: vectorFromArray(rows.map((r) => r.user_id), new Int32()),
    ad_id: vectorFromArray(rows.map((r) => r.ad_id), new Int32()),
    ad_category: vectorFromArray(rows.map((r) => r.ad_category), new Utf8()),
    device: vectorFromArray(rows.map((r) => r.device), new Utf8()),
    bid: vectorFromArray(rows.map((r) => r.bid), new Float64()),
  });
}

export function clicksTable(rows: readonly Click[]): Table {
  return new Table({
    impression_id: vectorFromArray(rows.map((r) => r.impression_id), new Int32()),
    click_ts: vectorFromArray(rows.map((r) => r.click_ts), new TimestampMillisecond()),
  });
}

/** Writes `impressions.parquet` and `clicks.parquet` into `dir`, rows shuffled. */
export async function writeLog(dir: string, log: EventLog, seed = 1): Promise<void> {
  await mkdir(dir, { recursive: true });
  const db = await DuckDBExecutor.open({ memoryLimit: '256MB', threads: 1 });
  try {
    await db.loadArrow('imps', impressionsTable(shuffled(log.impressions, seed)));
    await db.loadArrow('clicks', clicksTable(shuffled(log.clicks, seed + 1)));
    await db.run(`COPY imps TO '${join(dir, 'impressions.parquet')}' (FORMAT parquet)`);
    await db.run(`COPY clicks TO '${join(dir, 'clicks.parquet')}' (FORMAT parquet)`);
  } finally {
    db.close();
  }
}

/** A repo using every aggregation, several intervals, lags (0, 15m, 1h) and TTLs short enough to expire. */
export function testRepo(): RepoDefinition {
  return {
    project: 'test',
    entities: {
      user: { joinKeys: ['user_id'] },
      ad: { joinKeys: ['ad_id'] },
      user_category: { joinKeys: ['user_id', 'category'] },
    },
    sources: {
      impressions: { path: 'impressions.parquet', timestampField: 'ts' },
      clicks: { path: 'clicks.parquet', timestampField: 'click_ts' },
    },
    labels: { source: 'impressions', key: 'impression_id', events: 'clicks', window: '1h' },
    views: [
      {
        name: 'u',
        entity: 'user',
        source: 'impressions',
        interval: '1h',
        ttl: '5h',
        lag: '15m',
        aggregations: [
          { fn: 'count', name: 'n', windows: ['1h', '3h', 'all'] },
          { fn: 'count', name: 'clicks', events: 'label', windows: ['2h'] },
          { fn: 'ctr', name: 'ctr', windows: ['3h'], prior: 0.1, strength: 4 },
          { fn: 'sum', name: 'bid_sum', column: 'bid', windows: ['2h'] },
          { fn: 'mean', name: 'bid_mean', column: 'bid', windows: ['1h', 'all'] },
          { fn: 'mean', name: 'clicked_bid', column: 'bid', events: 'label', windows: ['3h'], default: -1 },
          { fn: 'last_seen', name: 'seen', windows: ['3h'] },
          { fn: 'last_seen', name: 'clicked', events: 'label', windows: ['all'] },
        ],
      },
      {
        name: 'a',
        entity: 'ad',
        source: 'impressions',
        interval: '30m',
        ttl: '2h',
        lag: '0s',
        aggregations: [
          { fn: 'count', name: 'n', windows: ['30m', '2h'], default: -5 },
          { fn: 'ctr', name: 'ctr', windows: ['1h'], prior: 0.05, strength: 10 },
        ],
      },
      {
        name: 'uc',
        entity: 'user_category',
        source: 'impressions',
        keys: ['user_id', 'ad_category'],
        interval: '1h',
        ttl: '1d',
        lag: '1h',
        aggregations: [
          { fn: 'count', name: 'n', windows: ['1d'] },
          { fn: 'ctr', name: 'ctr', windows: ['1d'], prior: 0.2, strength: 1 },
        ],
      },
    ],
    models: {
      m: {
        input: {
          hashSeed: 0,
          hashBits: 12,
          fields: [
            { name: 'device', inputs: ['device'], encoding: { type: 'categorical' } },
            { name: 'u_ctr', inputs: ['u__ctr_3h'], encoding: { type: 'bucketize', boundaries: [0.1, 0.2] } },
            { name: 'a_n', inputs: ['a__n_2h'], encoding: { type: 'log_bucket' } },
            { name: 'uc_ctr', inputs: ['uc__ctr_1d'], encoding: { type: 'numeric' } },
            { name: 'seen', inputs: ['u__seen_3h'], derive: 'age_seconds', encoding: { type: 'log_bucket' } },
          ],
        },
        entityKeys: { uc: ['user_id', 'ad_category'] },
        requestFields: [
          { name: 'ts', type: 'timestamp', scope: 'context' },
          { name: 'device', type: 'string', scope: 'context' },
          { name: 'user_id', type: 'number', scope: 'user' },
          { name: 'ad_id', type: 'number', scope: 'candidate' },
          { name: 'ad_category', type: 'string', scope: 'candidate' },
        ],
      },
    },
  };
}
