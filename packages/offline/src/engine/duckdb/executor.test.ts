import { describe, expect, it } from 'vitest';
import { DuckDBExecutor } from './executor.ts';

describe('DuckDBExecutor.open', () => {
  it('takes memory limits as DuckDB writes them', async () => {
    for (const memoryLimit of ['2.5GB', '512 MB', '3GiB']) {
      const executor = await DuckDBExecutor.open({ memoryLimit, threads: 1 });
      executor.close();
    }
  });

  it('names a bad memory limit instead of DuckDB\'s "Failed to set config"', async () => {
    const err = await DuckDBExecutor.open({ memoryLimit: 'lots' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_INPUT', field: 'memoryLimit' });
    expect((err as Error).message).toMatch(/invalid memory limit "lots": a number and a unit, e\.g\. "2\.5GB"/);
  });
});
