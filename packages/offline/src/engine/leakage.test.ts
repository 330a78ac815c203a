/**
 * Leakage: no feature of a spine row at time t can see its own click or any event at or after t − lag. Shown by
 * changing the data and recomputing (independently of the oracle):
 *   - every event at or after t − lag is removed, and a burst of new ones is added at t − lag, at t and later:
 *     the row's features do not change, and equal what only strictly earlier events give;
 *   - the impression's own label is flipped (its clicks removed, or a click added at its very timestamp): the
 *     label changes, the row's features do not (while later rows do see the new click).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Int32, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { featureColumn } from '@lockstep/sdk';
import { validateRepo, type ResolvedRepo } from '../repo/index.ts';
import { FeatureStore } from './feature-store.ts';
import { HOUR, MINUTE, T0, randomLog, testRepo, writeLog, type Click, type EventLog, type Impression } from './test-support/fixtures.ts';

const REFS = ['u:*', 'a:*', 'uc:*'];
const ENTITY_KEYS = { uc: ['user_id', 'ad_category'] };

let dir: string;
let counter = 0;
const repo: ResolvedRepo = validateRepo(testRepo());

/** Features of the given impressions (as spine rows) computed on `log`. */
async function featuresOf(log: EventLog, rows: Impression[]): Promise<Array<Record<string, unknown>>> {
  const data = join(dir, `run-${++counter}`);
  await writeLog(data, log, counter);
  const fs = await FeatureStore.open(repo, { dataDir: data, workDir: join(data, 'work'), engine: { threads: 1, memoryLimit: '256MB' } });
  try {
    const spine = new Table({
      impression_id: vectorFromArray(rows.map((r) => r.impression_id), new Int32()),
      ts: vectorFromArray(rows.map((r) => r.ts), new TimestampMillisecond()),
      user_id: vectorFromArray(rows.map((r) => r.user_id), new Int32()),
      ad_id: vectorFromArray(rows.map((r) => r.ad_id), new Int32()),
      ad_category: vectorFromArray(rows.map((r) => r.ad_category), new Utf8()),
    });
    const table = await fs.getHistoricalFeatures(spine, REFS, { entityKeys: ENTITY_KEYS }).toArrow();
    return table.toArray().map((r) => r.toJSON() as Record<string, unknown>);
  } finally {
    fs.close();
  }
}

const columnsOf = (view: string) => repo.views.find((v) => v.name === view)!.features.map((f) => featureColumn(view, f.name));
const pick = (row: Record<string, unknown>, cols: string[]) => Object.fromEntries(cols.map((c) => [c, row[c]]));

describe('leakage', () => {
  let log: EventLog;
  let sample: Impression[];
  let full: Array<Record<string, unknown>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockstep-leakage-'));
    log = randomLog({ seed: 5, impressions: 300 });
    // Impressions late enough to have history, with a user; every 25th, so a handful.
    sample = log.impressions.filter((i) => i.user_id !== null && i.ts > T0 + 6 * HOUR).filter((_, k) => k % 25 === 0).slice(0, 6);
    full = await featuresOf(log, sample);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('features see nothing at or after t − lag: dropping those events and adding new ones there changes nothing', async () => {
    let informative = 0;
    for (const [i, imp] of sample.entries()) {
      for (const view of repo.views) {
        const cutoff = imp.ts - view.lagMs;
        const same = (x: Impression) => view.keyColumns.every((c) => (x as unknown as Record<string, unknown>)[c] === (imp as unknown as Record<string, unknown>)[c]);
        // Strictly earlier events only, then a burst for the same entity from the cutoff on (impressions and clicks).
        const burst: Impression[] = [0, 1, view.lagMs, view.lagMs + 1, view.lagMs + HOUR].map((d, k) => ({
          ...imp,
          impression_id: 100_000 + k,
          ts: cutoff + d,
          bid: 3.75,
        }));
        const changed: EventLog = {
          impressions: [...log.impressions.filter((x) => x.ts < cutoff), ...burst],
          clicks: [
            ...log.clicks.filter((c) => c.click_ts < cutoff),
            ...burst.map((b): Click => ({ impression_id: b.impression_id, click_ts: b.ts })),
          ],
        };
        const [got] = await featuresOf(changed, [imp]);
        const cols = columnsOf(view.name);
        expect(pick(got, cols), `impression ${imp.impression_id}, view ${view.name}`).toEqual(pick(full[i], cols));
        if (log.impressions.some((x) => x.ts >= cutoff && same(x))) informative++;
      }
    }
    // The removed events existed for most (row, view) pairs: the test did remove something that mattered.
    expect(informative).toBeGreaterThan(sample.length);
  });

  it("an impression's own click never reaches its features, while later rows see it", async () => {
    for (const [i, imp] of sample.entries()) {
      const attributed = log.clicks.filter((c) => c.impression_id === imp.impression_id && c.click_ts >= imp.ts && c.click_ts - imp.ts <= HOUR);
      // Flip the label: remove every click of the impression, or add one at its very timestamp.
      const clicks = attributed.length
        ? log.clicks.filter((c) => c.impression_id !== imp.impression_id)
        : [...log.clicks, { impression_id: imp.impression_id, click_ts: imp.ts }];
      // A later probe of the same user, 1h20m after the (first) click: its u row is computed at a tick T with
      // click < T and T − 2h < click, so the click is inside u's 2-hour click count.
      const clickTs = attributed.length ? Math.min(...attributed.map((c) => c.click_ts)) : imp.ts;
      const later: Impression = { ...imp, impression_id: 0, ts: clickTs + HOUR + 20 * MINUTE };
      const [got, probe] = await featuresOf({ impressions: log.impressions, clicks }, [imp, later]);
      const [before, probeBefore] = await featuresOf(log, [imp, later]);
      expect(before).toEqual(full[i]);
      expect(got, `impression ${imp.impression_id}`).toEqual(full[i]);
      // The flip is visible to the later row: one click more or less.
      expect(Number(probe['u__clicks_2h']) - Number(probeBefore['u__clicks_2h'])).toBe(attributed.length ? -1 : 1);
    }
  });
});
