import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, run, useTempRoot } from '../test-support/cli-harness.ts';

const root = useTempRoot('generate');

describe('lockstep generate', () => {
  it('writes the data set and prints a summary', async () => {
    const out = join(root(), 'ok');
    const args = ['generate', '--out', out, '--impressions', '20_000', '--users', '500', '--ads', '50', '--advertisers', '5', '--days', '2', '--seed', '9'];
    const { stdout } = await run(process.execPath, [BIN, ...args]);
    expect(stdout).toContain('lockstep generate: 20000 impressions');
    expect(stdout).toContain('data/impressions.parquet');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ seed: 9, rows: { impressions: 20_000, users: 500, ads: 50, advertisers: 5 } });
  });

  it('does not replace a data set already in --out unless told to (--overwrite)', async () => {
    const out = join(root(), 'existing');
    await mkdir(join(out, 'data'), { recursive: true });
    await writeFile(join(out, 'data/impressions.parquet'), 'mine');
    const args = ['generate', '--out', out, '--impressions', '1000', '--users', '50', '--ads', '10', '--advertisers', '2', '--days', '1', '--no-progress'];
    const err = (await run(process.execPath, [BIN, ...args]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toBe(`lockstep: INVALID_INPUT: ${out} already holds data/impressions.parquet: --overwrite replaces them\n`);
    expect(await readFile(join(out, 'data/impressions.parquet'), 'utf8')).toBe('mine');
    await run(process.execPath, [BIN, ...args, '--overwrite']);
    expect((await readFile(join(out, 'data/impressions.parquet'))).subarray(0, 4).toString()).toBe('PAR1');
  });

  it('fails with a typed error for a bad option', async () => {
    const err = await run(process.execPath, [BIN, 'generate', '--out', join(root(), 'bad'), '--start', '2026-13-01']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain('INVALID_INPUT');
    expect((err as { stderr: string }).stderr).toContain('"start"');
  });
});
