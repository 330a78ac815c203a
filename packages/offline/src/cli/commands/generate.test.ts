import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = resolve(fileURLToPath(import.meta.url), '../../../../bin/lockstep.mjs');
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lockstep-cli-generate-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('lockstep generate', () => {
  it('writes the data set and prints a summary', async () => {
    const out = join(root, 'ok');
    const args = ['generate', '--out', out, '--impressions', '20_000', '--users', '500', '--ads', '50', '--advertisers', '5', '--days', '2', '--seed', '9'];
    const { stdout } = await run(process.execPath, [bin, ...args]);
    expect(stdout).toContain('lockstep generate: 20000 impressions');
    expect(stdout).toContain('data/impressions.parquet');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ seed: 9, rows: { impressions: 20_000, users: 500, ads: 50, advertisers: 5 } });
  });

  it('fails with a typed error for a bad option', async () => {
    const err = await run(process.execPath, [bin, 'generate', '--out', join(root, 'bad'), '--start', '2026-13-01']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain('INVALID_INPUT');
    expect((err as { stderr: string }).stderr).toContain('"start"');
  });
});
