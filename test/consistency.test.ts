/**
 * Training/serving consistency, end to end: generated logs → features → point-in-time training set → LR and FM
 * models → bundles; then the evaluation day is replayed through the real online path (incremental
 * materialization into a real redis-server on each view's cadence, `score()` over RESP) and every impression's
 * served input vector is compared with its training-set row (bit for bit) and its score with the offline model's
 * (within 1e-6). The target mismatch rate is zero.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@lockstep/sdk';
import { ValkeyStore } from '@lockstep/sdk/node';
import { generate } from '@lockstep/offline';
import { trainBundle } from '../packages/offline/src/train/training-run.ts';
import { verifyConsistency, type ConsistencyReport, type VerifyConsistencyOptions } from '../packages/offline/src/consistency/verify-consistency.ts';
import { REPO_PATH } from './support/score-fixture.ts';
import { startRedisServer, type RedisServer } from './support/redis-server.ts';

let root: string;
let redis: RedisServer | null;
const windows = { trainStart: '2026-01-01', trainEnd: '2026-01-08', evalStart: '2026-01-08', evalEnd: '2026-01-09' };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lockstep-consistency-test-'));
  redis = await startRedisServer();
  if (!redis) return;
  await generate({ out: join(root, 'gen'), impressions: 100_000, users: 3_000, ads: 300, advertisers: 30, days: 9, seed: 11 });
  for (const family of ['lr', 'fm'] as const) {
    await trainBundle({
      repo: REPO_PATH,
      dataDir: join(root, 'gen/data'),
      workDir: join(root, 'work'),
      model: 'ads-ctr',
      ...windows,
      out: join(root, `bundle-${family}`),
      training: { family },
      snapshot: false,
    });
  }
}, 600_000);

afterAll(async () => {
  await redis?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** verifyConsistency on the generated data through a fresh ValkeyStore connection. */
async function replay(options: Pick<VerifyConsistencyOptions, 'bundles' | 'start' | 'end' | 'cadenceMs' | 'maxExamples'>): Promise<ConsistencyReport> {
  const store = new ValkeyStore({ url: redis!.url });
  try {
    return await verifyConsistency({ repo: REPO_PATH, dataDir: join(root, 'gen/data'), workDir: join(root, 'work'), store, ...options });
  } finally {
    await store.close();
  }
}

describe('training/serving consistency', () => {
  it('replays ≥ 10,000 evaluation impressions through redis-server with zero mismatches', async (ctx) => {
    if (!redis) return ctx.skip();
    const report = await replay({ bundles: [join(root, 'bundle-lr'), join(root, 'bundle-fm')], start: windows.evalStart, end: windows.evalEnd });
    const summary = report.models.map((m) => ({ name: `${m.name}/${m.family}`, engine: m.engine, reference: m.reference, impressions: m.impressions, vectorMismatches: m.vectorMismatches, scoreMismatches: m.scoreMismatches, mismatchRate: m.mismatchRate, maxScoreDiff: m.maxScoreDiff, byField: m.byField }));
    console.log(`consistency: ${report.impressions} impressions in ${report.requests} requests, ${report.materializations} materializations, ${report.seconds.toFixed(1)} s`, JSON.stringify(summary, null, 1));
    for (const m of report.models) if (m.examples.length) console.log(JSON.stringify(m.examples.slice(0, 3), null, 1));

    expect(report.impressions).toBeGreaterThanOrEqual(10_000);
    expect(report.materializations).toBeGreaterThan(20);
    for (const m of report.models) {
      expect(m.impressions).toBe(report.impressions);
      expect(m.engine).toBe(`builtin/fused-${m.family}`);
      expect(m.vectorMismatches).toBe(0);
      expect(m.scoreMismatches).toBe(0);
      expect(m.maxScoreDiff).toBeLessThanOrEqual(1e-6);
    }
  });

  it('detects and explains the skew of a slower materialization schedule', async (ctx) => {
    if (!redis) return ctx.skip();
    // Materializing every 6 hours while training assumes the views' hourly cadence: served features are older.
    await redis.restart();
    const report = await replay({ bundles: [join(root, 'bundle-lr')], start: windows.evalStart, end: '2026-01-08T12:00:00', cadenceMs: 6 * 3_600_000, maxExamples: 5 });
    const [m] = report.models;
    console.log('6h schedule:', JSON.stringify({ impressions: m.impressions, mismatchRate: m.mismatchRate, byField: m.byField, example: m.examples[0]?.slots[0] }, null, 1));
    expect(m.vectorMismatches).toBeGreaterThan(0);
    expect(m.mismatchRate).toBeGreaterThan(0.1);
    expect(Object.keys(m.byField)).toContain('user_impressions_1d');
    const slot = m.examples[0].slots[0];
    expect(slot.training.index !== slot.served.index || slot.training.value !== slot.served.value).toBe(true);
    expect(slot.inputs.length).toBeGreaterThan(0);
    expect(slot.reason).toMatch(/__/);
  });

  it("refuses a bundle of another project (its keys are not the ones the replay writes)", async (ctx) => {
    if (!redis) return ctx.skip();
    const other = join(root, 'bundle-other-project');
    await cp(join(root, 'bundle-lr'), other, { recursive: true });
    const manifest = JSON.parse(await readFile(join(other, 'manifest.json'), 'utf8')) as { project: string };
    await writeFile(join(other, 'manifest.json'), JSON.stringify({ ...manifest, project: 'another_project' }));
    const err = await replay({ bundles: [other], start: windows.evalStart, end: windows.evalEnd }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(`bundle ${other} is of project "another_project", the repo is "sponsored_ads"`);
  });

  it('runs as `lockstep verify-consistency`, exit code 0 when consistent and 1 with the skew explained', async (ctx) => {
    if (!redis) return ctx.skip();
    const bin = new URL('../packages/offline/bin/lockstep.mjs', import.meta.url).pathname;
    const args = ['verify-consistency', '--repo', REPO_PATH, '--data', join(root, 'gen/data'), '--work', join(root, 'work')];
    args.push('--bundle', join(root, 'bundle-fm'), '--target', redis.url, '--eval-start', '2026-01-08T06:00:00', '--eval-end', '2026-01-08T12:00:00');
    args.push('--limit', '600', '--force', '--no-progress');
    const run = promisify(execFile);
    const ok = await run(process.execPath, [bin, ...args, '--json']);
    const report = JSON.parse(ok.stdout) as ConsistencyReport;
    expect(report.impressions).toBe(600);
    expect(report.models[0]).toMatchObject({ family: 'fm', vectorMismatches: 0, scoreMismatches: 0, mismatchRate: 0 });
    expect(ok.stderr).toMatch(/^OK {3}ads-ctr \(fm, builtin\/fused-fm\)/m);

    const skewed = await run(process.execPath, [bin, ...args, '--cadence', '6h']).catch((e: unknown) => e as { code: number; stderr: string });
    expect(skewed).toMatchObject({ code: 1 });
    expect((skewed as { stderr: string }).stderr).toMatch(/^FAIL ads-ctr/m);
    expect((skewed as { stderr: string }).stderr).toMatch(/the store served .*, training had/);
  });
});
