import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../generator/index.ts';
import { openTracker } from '../../tracking/index.ts';
import { BIN, useTempRoot } from '../test-support/cli-harness.ts';

const REPO = join(import.meta.dirname, '../../../../../examples/sponsored-ads/lockstep.config.ts');
const root = useTempRoot('train');

describe('lockstep train', () => {
  it('ends its tracked run KILLED when interrupted, and stops as a killed process does (130)', async () => {
    await generate({ out: join(root(), 'gen'), impressions: 300_000, users: 5_000, ads: 300, advertisers: 30, days: 6, seed: 3 });
    const tracking = join(root(), 'tracking');
    const args = ['train', '--repo', REPO, '--data', join(root(), 'gen/data'), '--model', 'ads-ctr', '--family', 'fm', '--epochs', '20',
      '--train-start', '2026-01-01', '--train-end', '2026-01-06', '--eval-start', '2026-01-06', '--eval-end', '2026-01-07',
      '--out', join(root(), 'bundle'), '--tracking-uri', tracking, '--no-progress'];
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Interrupted while it trains (20 epochs: many seconds), i.e. once the run is recorded.
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (b: Buffer) => {
        stderr += b;
        if (/training fm on/.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`lockstep train exited before training: ${stderr}`)));
    });
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/lockstep train: SIGINT: stopping; run [0-9a-f]{32} ends KILLED/);
    const runs = await (await openTracker(tracking)).searchRuns();
    expect(runs.map((r) => r.info.status)).toEqual(['KILLED']);
    expect(runs[0].info.endTime).toBeGreaterThan(runs[0].info.startTime);
  }, 120_000);
});
