/**
 * `lockstep materialize` end to end: generated data → the sponsored-ads repo's view tables (built by the CLI run)
 * → redis-server over RESP; then an incremental run over HTTP through the gateway; values read back with the SDK
 * match the offline engine's latest values.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValkeyStore } from '@lockstep/sdk/node';
import { tableFromIPC } from 'apache-arrow';
import { FeatureStore, generate, snapshotSource, type MaterializeResult } from '@lockstep/offline';
import { useStoreServers } from './support/online-stores.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../packages/offline/bin/lockstep.mjs', import.meta.url));
const REPO = fileURLToPath(new URL('../examples/sponsored-ads/lockstep.config.ts', import.meta.url));

const { haveRedis, servers } = useStoreServers();
let root = '';

beforeAll(async () => {
  if (!haveRedis) return;
  root = await mkdtemp(join(tmpdir(), 'lockstep-materialize-cli-'));
  await generate({ out: root, impressions: 20_000, users: 400, ads: 60, advertisers: 6, days: 3, start: '2026-01-01', seed: 5 });
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** Run `lockstep materialize …` (from `cwd`, default this process's) and parse its JSON result. */
async function cli(args: string[], cwd?: string) {
  const { stdout, stderr } = await run(process.execPath, [BIN, 'materialize', '--json', '--no-progress', ...args], {
    env: { ...process.env, LOCKSTEP_STORE_TOKEN: servers().token },
    cwd,
  });
  return { result: JSON.parse(stdout) as MaterializeResult, stderr };
}

describe.skipIf(!haveRedis)('lockstep materialize', () => {
  // Both tests use the generated data and the view tables the first run builds.
  const data = () => join(root, 'data');
  const work = () => join(root, 'work');

  it('builds the view tables, publishes them over RESP, then runs incrementally over the gateway', async () => {

    const full = await cli(['--repo', REPO, '--data', data(), '--work', work(), '--target', servers().redis.url, '--as-of', '2026-01-02T12:00:00Z']);
    expect(full.result.mode).toBe('full');
    expect(full.stderr).toMatch(/full run of project sponsored_ads as of 2026-01-02T12:00:00.000Z/);
    const userStats = full.result.views.find((v) => v.view === 'user_stats')!;
    expect(userStats.written).toBeGreaterThan(100);

    // Without --repo, the lockstep.config.ts of the folder it runs in.
    const inc = await cli(['--work', work(), '--target', servers().gateway.url, '--as-of', '2026-01-03T12:00:00Z', '--incremental'], dirname(REPO));
    expect(inc.result.mode).toBe('incremental');
    expect(inc.result.views.find((v) => v.view === 'user_stats')!.version).toBe(userStats.version);
    expect(inc.result.views.reduce((n, v) => n + v.written, 0)).toBeGreaterThan(0);

    // What the online store now holds is exactly the engine's latest rows as of the second as-of.
    const engine = await FeatureStore.open(REPO, { dataDir: data(), workDir: work() });
    const reader = new ValkeyStore({ url: servers().redis.url });
    try {
      const view = engine.servingSpec('user_stats');
      const latest = await engine.latestFeatures('user_stats', '2026-01-03T12:00:00Z').toArrow();
      const ids = latest.getChild('user_id')!.toArray() as ArrayLike<number | bigint>;
      const entities = Array.from(ids, (id) => [Number(id)]);
      const [rows] = await reader.readRows([{ view, entities }], { project: 'sponsored_ads' });
      for (let i = 0; i < entities.length; i++) {
        expect(rows[i]?.eventTimeMs).toBe(Number(latest.getChild('event_time')!.get(i)));
        const expected = view.features.map((f) => {
          const v = latest.getChild(f.name)!.get(i) as number | bigint | null;
          return v === null ? null : Number(v);
        });
        expect(rows[i]?.values).toEqual(expected);
      }
      // An older as-of is refused before anything is written.
      const refused = await cli(['--repo', REPO, '--work', work(), '--target', servers().redis.url, '--as-of', '2026-01-02T00:00:00Z']).catch((e: { code: number; stderr: string }) => e);
      expect(refused).toMatchObject({ code: 1 });
      expect((refused as { stderr: string }).stderr).toMatch(/STORE_ERROR: the published snapshot of .* is as of 2026-01-03T12:00:00.000Z, newer than/);
    } finally {
      engine.close();
      await reader.close();
    }
  }, 120_000);

  it("publishes a bundle's feature snapshot; rolling back to an older one needs --force", async () => {
    // A bundle trained on the same data, its snapshot as of the training end (older than what is published).
    const bundle = join(root, 'bundle');
    await run(process.execPath, [BIN, 'train', '--repo', REPO, '--data', data(), '--work', work(), '--model', 'ads-ctr',
      '--train-start', '2026-01-02', '--train-end', '2026-01-03', '--eval-start', '2026-01-03', '--eval-end', '2026-01-04', '--out', bundle]);
    const refused = await cli(['--bundle', bundle, '--target', servers().gateway.url]).catch((e: { code: number; stderr: string }) => e);
    expect((refused as { stderr: string }).stderr).toMatch(/is as of 2026-01-03T12:00:00.000Z, newer than 2026-01-03T00:00:00.000Z: .*--force/);

    // Bad options fail at once with exit code 1 (an unknown view used to leave the store's connection open: the
    // process printed the error and never exited).
    for (const [args, message] of [
      [['--views', 'nosuch'], /INVALID_INPUT: unknown view\(s\) nosuch \(known: user_stats/],
      [['--batch-rows', '0'], /--batch-rows must be a positive integer/],
    ] as const) {
      const bad = await run(process.execPath, [BIN, 'materialize', '--no-progress', '--bundle', bundle, '--target', servers().redis.url, ...args], { timeout: 20_000 })
        .catch((e: { code: number | null; killed: boolean; stderr: string }) => e);
      expect(bad).toMatchObject({ code: 1, killed: false });
      expect((bad as { stderr: string }).stderr).toMatch(message);
    }

    // As of much later, every row is past its TTL: an empty snapshot is published, with a warning.
    const late = await cli(['--bundle', bundle, '--target', servers().redis.url, '--as-of', '2027-01-01T00:00:00Z']);
    expect(late.result.views.every((v) => v.written === 0 && v.expired > 0)).toBe(true);
    expect(late.stderr).toMatch(/warning: every row of user_stats, ad_stats, advertiser_stats, user_category_stats was already past its TTL as of 2027-01-01T00:00:00.000Z/);

    const { result } = await cli(['--bundle', bundle, '--target', servers().gateway.url, '--force']);
    expect(result).toMatchObject({ project: 'sponsored_ads', mode: 'full', asOfMs: Date.parse('2026-01-03T00:00:00Z') });
    const snapshot = tableFromIPC(await readFile(join(bundle, 'features', 'ad_stats.arrow')));
    expect(result.views.find((v) => v.view === 'ad_stats')!.written).toBe(snapshot.numRows);

    const reader = new ValkeyStore({ url: servers().redis.url });
    try {
      const view = (await snapshotSource(bundle)).manifest.featureViews.find((v) => v.name === 'ad_stats')!;
      const ids = Array.from(snapshot.getChild('ad_id')!.toArray() as ArrayLike<number | bigint>, (id) => [Number(id)]);
      const [rows] = await reader.readRows([{ view, entities: ids }], { project: 'sponsored_ads' });
      rows.forEach((row, i) => {
        expect(row?.eventTimeMs).toBe(Number(snapshot.getChild('event_time')!.get(i)));
        expect(row?.values).toEqual(view.features.map((f) => snapshot.getChild(f.name)!.get(i) as number | null));
      });
    } finally {
      await reader.close();
    }
  }, 120_000);
});
