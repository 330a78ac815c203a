/** `lockstep features` and `lockstep dataset` as a user runs them: the real CLI in a child process, on tiny data. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, T0, randomLog, testRepo, writeLog } from '../../engine/test-support/fixtures.ts';

const BIN = join(import.meta.dirname, '../../../bin/lockstep.mjs');

async function lockstep(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('lockstep features / dataset', () => {
  let dir: string;
  let repoFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockstep-cli-features-'));
    await writeLog(join(dir, 'data'), randomLog({ seed: 4, impressions: 200 }));
    repoFile = join(dir, 'repo.json');
    await writeFile(repoFile, JSON.stringify(testRepo()));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('validate prints the views and models', async () => {
    const r = await lockstep(['features', 'validate', '--repo', repoFile]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { project: string; views: Array<{ name: string; features: string[] }>; models: Array<{ name: string }> };
    expect(summary.project).toBe('test');
    expect(summary.views.map((v) => v.name)).toEqual(['u', 'a', 'uc']);
    expect(summary.views[1].features).toEqual(['a__n_30m', 'a__n_2h', 'a__ctr_1h']);
    expect(summary.models.map((m) => m.name)).toEqual(['m']);
  });

  it('build writes the view tables, then dataset build writes a training set', async () => {
    const work = join(dir, 'work');
    const build = await lockstep(['features', 'build', '--repo', repoFile, '--data', join(dir, 'data'), '--work', work]);
    expect(build.code, build.stderr).toBe(0);
    const built = JSON.parse(build.stdout) as { views: Array<{ name: string; rows: number; built: boolean; path: string }> };
    expect(built.views.map((v) => [v.name, v.built])).toEqual([['u', true], ['a', true], ['uc', true]]);
    for (const v of built.views) {
      expect(v.rows).toBeGreaterThan(0);
      expect(existsSync(v.path)).toBe(true);
    }
    // Not a terminal: one log line per finished step on stderr.
    expect(build.stderr).toMatch(/lockstep: view u done in [\d.]+ s, \d+ rows/);
    // Built again: nothing to do. A table deleted or cut short is built again, though its metadata is current.
    const builtFlags = async () => {
      const again = await lockstep(['features', 'build', '--repo', repoFile, '--data', join(dir, 'data'), '--work', work]);
      expect(again.code, again.stderr).toBe(0);
      return (JSON.parse(again.stdout) as { views: Array<{ name: string; built: boolean }> }).views.map((v) => [v.name, v.built]);
    };
    expect(await builtFlags()).toEqual([['u', false], ['a', false], ['uc', false]]);
    await rm(built.views[1].path);
    await truncate(built.views[2].path, 100);
    expect(await builtFlags()).toEqual([['u', false], ['a', true], ['uc', true]]);

    const out = join(dir, 'train.parquet');
    const ds = await lockstep([
      'dataset', 'build', '--repo', repoFile, '--data', join(dir, 'data'), '--work', work,
      '--model', 'm', '--start', new Date(T0 + 2 * HOUR).toISOString(), '--end', '2026-01-01T20:00:00', '--out', out,
    ]);
    expect(ds.code, ds.stderr).toBe(0);
    const result = JSON.parse(ds.stdout) as { rows: number; digest: string; features: string[]; end: string };
    expect(result.rows).toBeGreaterThan(50);
    expect(result.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(result.features).toEqual(['u__ctr_3h', 'u__seen_3h', 'a__n_2h', 'uc__ctr_1d']);
    expect(result.end).toBe('2026-01-01T20:00:00.000Z'); // no zone → UTC
    expect(existsSync(out)).toBe(true);

    // A window outside the log: an empty file, exit 0, and a warning saying why it is empty.
    const empty = await lockstep([
      'dataset', 'build', '--repo', repoFile, '--data', join(dir, 'data'), '--work', work,
      '--model', 'm', '--start', '2027-01-01', '--end', '2027-01-02', '--out', join(dir, 'empty.parquet'),
    ]);
    expect(empty.code, empty.stderr).toBe(0);
    expect((JSON.parse(empty.stdout) as { rows: number }).rows).toBe(0);
    expect(empty.stderr).toContain('lockstep dataset build: warning: no impressions in [2027-01-01T00:00:00.000Z, 2027-01-02T00:00:00.000Z)');
    // A folder as --out: one line saying so, not DuckDB's failed COPY and its SQL.
    const folder = await lockstep([
      'dataset', 'build', '--repo', repoFile, '--data', join(dir, 'data'), '--work', work, '--model', 'm', '--start', '2026-01-01', '--end', '2026-01-02', '--out', work,
    ]);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toBe(`lockstep: INVALID_INPUT: out ${work} is a folder: give the training set's file path (…/train.parquet)\n`);
  });

  it('reports a bad repo and bad input as errors with a non-zero exit', async () => {
    const bad = join(dir, 'bad.json');
    const def = testRepo();
    def.views[0].interval = '1x' as never;
    await writeFile(bad, JSON.stringify(def));
    const r = await lockstep(['features', 'validate', '--repo', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('lockstep: INVALID_DEFINITION: invalid definition:\n  - views.u.interval: "1x" is not a duration');

    const unknown = await lockstep(['dataset', 'build', '--repo', repoFile, '--data', join(dir, 'data'), '--model', 'zz', '--start', '2026-01-01', '--end', '2026-01-02', '--out', join(dir, 'x.parquet')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('lockstep: INVALID_INPUT: unknown model "zz" (models: m)');
  });
});
