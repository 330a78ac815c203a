import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, run, useTempRoot } from './test-support/cli-harness.ts';

const root = useTempRoot('main');

describe('lockstep --version', () => {
  it('prints the package version (and the commit inside a git checkout), exit 0', async () => {
    const pkg = JSON.parse(await readFile(resolve(BIN, '../../package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const { stdout } = await run(process.execPath, [BIN, flag]);
      expect(stdout.trim()).toMatch(new RegExp(`^${pkg.version.replaceAll('.', '\\.')}(\\+[0-9a-f]{12}(\\.dirty)?)?$`));
    }
  });
});

describe('lockstep | a reader that goes away', () => {
  it('stops quietly with 141 (as SIGPIPE would), no EPIPE stack trace', async () => {
    const child = spawn(process.execPath, [BIN, 'runs', 'list'], { cwd: root(), stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader is gone before the first line is written.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'close')) as [number];
    expect(stderr).toBe('');
    expect(code).toBe(141);
  });
});

describe('lockstep (errors)', () => {
  it('reports a system error (a path under a file) as one line with its code, no stack, exit 1', async () => {
    const file = join(root(), 'a-file');
    await writeFile(file, 'not a folder');
    const err = (await run(process.execPath, [BIN, 'generate', '--out', join(file, 'x'), '--impressions', '1000', '--no-progress']).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/^lockstep: ENOTDIR: .*a-file/m);
    expect(err.stderr).not.toMatch(/^\s+at /m);
  });

  it('answers a mistyped option with the error and a pointer to --help, not the whole help', async () => {
    const err = (await run(process.execPath, [BIN, 'generate', '--out', '/nonexistent-never-written', '--bogus']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/unknown option '--bogus'/);
    expect(err.stderr).toContain('(add --help for the options)');
    expect(err.stderr).not.toContain('Usage:');
  });

  it('checks time options when parsing, in the command line\'s terms', async () => {
    const train = ['train', '--data', root(), '--model', 'm', '--train-start', '2026-01-01', '--train-end', '2026-02-30', '--eval-start', '2026-03-01'];
    const err = (await run(process.execPath, [BIN, ...train, '--eval-end', '2026-03-02', '--out', join(root(), 'b')]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toContain("option '--train-end <time>' argument '2026-02-30' is invalid");
    expect(err.stderr).toContain('expected an ISO-8601 time');
    // Epoch milliseconds cannot be given to train: the message does not offer them.
    expect(err.stderr).not.toContain('epoch');
    const asOf = (await run(process.execPath, [BIN, 'materialize', '--target', 'redis://127.0.0.1:1', '--as-of', 'yesterday']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(asOf.code).toBe(1);
    expect(asOf.stderr).toContain("option '--as-of <time>' argument 'yesterday' is invalid");
    expect(asOf.stderr).toContain('or epoch milliseconds');
  });

  it('verify-consistency refuses a zero --cadence when parsing, naming the option', async () => {
    const err = (await run(process.execPath, [BIN, 'verify-consistency', '--cadence', '0h']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toContain("option '--cadence <duration>' argument '0h' is invalid. the cadence must be longer than 0 (e.g. 1h, 6h)");
  });

  it('materialize without --repo or --bundle, where there is no lockstep.config.ts, names both', async () => {
    const err = (await run(process.execPath, [BIN, 'materialize', '--target', 'redis://127.0.0.1:1'], { cwd: root() }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toBe('lockstep: INVALID_INPUT: give --repo <lockstep.config.ts> (with --work or --data) or --bundle <dir>: there is no lockstep.config.ts here\n');
  });
});
