/**
 * The tracking commands: through the real `lockstep` binary for the wiring (registration, exit codes, ui), and
 * in-process through the same `register` functions for the rest (a binary start costs seconds on a busy machine).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seedStore, type SeededStore } from '../../tracking/test-support/seed-store.ts';
import { startFakeMlflowServer, type FakeMlflowServer } from '../../tracking/test-support/fake-mlflow-server.ts';
import { openTracker } from '../../tracking/tracker.ts';
import { register as models } from './models.ts';
import { register as runs } from './runs.ts';
import { register as sync } from './sync.ts';
import { freePort } from '../../../../../test/support/redis-server.ts';

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../../bin/lockstep.mjs');
let dir: string;
let store: string;
let seeded: SeededStore;
let fake: FakeMlflowServer;

const lockstep = async (...args: string[]) => (await run(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, LOCKSTEP_TRACKING_URI: '' } })).stdout;

/** Run a command in this process; answers what it printed on stdout. */
async function cli(...args: string[]): Promise<string> {
  const program = new Command('lockstep').exitOverride();
  for (const register of [runs, models, sync]) register(program);
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    await program.parseAsync(['node', 'lockstep', ...args]);
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
  return `${out.join('\n')}\n`;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lockstep-cli-tracking-'));
  store = path.join(dir, '.lockstep', 'tracking');
  seeded = await seedStore(await openTracker(store, { cwd: dir }), dir);
  fake = await startFakeMlflowServer();
});
afterAll(async () => {
  await fake?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('lockstep runs / models / sync / ui', () => {
  it('lists and shows runs', async () => {
    // The binary, from the project folder (default store), and in-process with --tracking-uri.
    const list = await lockstep('runs', 'list', '--experiment', 'ads-ctr', '--order-by', 'metrics.test_auc DESC');
    const json = await cli('runs', 'show', seeded.championRunId, '--json', '--tracking-uri', store);
    const experiments = await cli('runs', 'experiments', '--tracking-uri', store);
    const lines = list.trim().split('\n');
    expect(lines[0]).toMatch(/^RUN ID\s+NAME\s+STATUS\s+STARTED\s+auc\s+loss\s+test_auc\s+test_logloss$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/)[1])).toEqual(['lr=0.2', 'lr=0.05', 'lr=0.01', 'lr-sweep']);
    const shown = JSON.parse(json) as { info: { runId: string }; artifacts: Array<{ path: string }> };
    expect(shown.info.runId).toBe(seeded.championRunId);
    expect(shown.artifacts.map((a) => a.path)).toContain('model/model.onnx');
    expect(experiments).toMatch(/1\s+ads-ctr/);
    const compared = await cli('runs', 'compare', ...seeded.trialIds.slice(0, 2), '--tracking-uri', store);
    expect(compared).toMatch(/\* params\.lr\s+0\.01\s+0\.05/);
    expect(compared).toMatch(/ {2}params\.epochs\s+6\s+6/);
  });

  it('refuses a --tracking-uri folder that does not exist, and creates nothing there', async () => {
    const typo = path.join(dir, '.lockstep', 'trakcing');
    for (const args of [['runs', 'list'], ['models', 'list']]) {
      const err = await cli(...args, '--tracking-uri', typo).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TRACKING_ERROR', message: `no tracking store at ${typo}: nothing has been tracked there (check --tracking-uri)` });
    }
    expect(existsSync(typo)).toBe(false);
  });

  it('registers, moves aliases and resolves models', async () => {
    const at = ['--tracking-uri', store];
    const registered = await cli('models', 'register', 'ads-ctr', '--run', seeded.trialIds[0], '--alias', 'staging', ...at);
    expect(registered).toMatch(/^ads-ctr version 4 \(@staging\) ← runs:\//);
    expect(await cli('models', 'alias', 'ads-ctr', 'champion', '4', ...at)).toContain('ads-ctr@champion → version 4');
    const resolved = (await cli('models', 'resolve', 'models:/ads-ctr@champion', ...at)).trim();
    expect(existsSync(path.join(resolved, 'model.onnx'))).toBe(true);
    expect(resolved).toContain(seeded.trialIds[0]);
    const list = await cli('models', 'list', ...at);
    expect(list).toMatch(/ads-ctr\s+4\s+@champion @staging/);
    await cli('models', 'alias', 'ads-ctr', 'staging', '--delete', ...at);
    // The binary turns a typed error into exit code 1 and a one-line message.
    const err = (await lockstep('models', 'resolve', 'ads-ctr@staging').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toContain('TRACKING_ERROR: Registered model alias staging not found.');
  });

  it('syncs the local store to an MLflow server', async () => {
    const out = await cli('sync', '--to', fake.url, '--from', store);
    expect(out).toMatch(/^copied 4 runs \(0 completed, 0 skipped\), 42 metric values, 9 artifacts, \d model versions, \d aliases → http/);
    expect(await cli('sync', '--to', fake.url, '--from', store)).toMatch(/^copied 0 runs \(0 completed, 4 skipped\)/);
    const remote = JSON.parse(await cli('runs', 'list', '--tracking-uri', fake.url, '--json')) as unknown[];
    expect(remote).toHaveLength(4);
    await expect(cli('sync', '--from', store, '--to', 'local:x')).rejects.toThrow('sync needs an MLflow server');
    // A mistyped source is refused, and no empty store is left behind there.
    const typo = path.join(dir, 'no-such-store');
    await expect(cli('sync', '--to', fake.url, '--from', typo)).rejects.toThrow(/no local tracking store at .*no-such-store/);
    expect(existsSync(typo)).toBe(false);
    // Nothing new to copy still means reaching the server: one that is down is an error, not "copied 0 runs".
    const down = `http://127.0.0.1:${await freePort()}`;
    await expect(cli('sync', '--to', down, '--from', store)).rejects.toMatchObject({ code: 'REMOTE_ERROR', message: expect.stringContaining(`could not reach ${down}`) });
  }, 30_000);

  it('serves the UI on the chosen port', async () => {
    const child = spawn(process.execPath, [bin, 'ui', '--port', '0', '--tracking-uri', store], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => resolve(d.toString().trim()));
        child.on('exit', (code) => reject(new Error(`ui exited ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const page = await (await fetch(`${url}/models`)).text();
      expect(page).toContain('Model registry');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
