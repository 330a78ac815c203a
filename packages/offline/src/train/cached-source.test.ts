import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arraySource } from './batch-source.ts';
import { cachedSource } from './cached-source.ts';
import { syntheticClicks } from './synthetic.ts';
import { train } from './trainer.ts';

describe('cachedSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-cache-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replays exactly the rows of the first pass: training on it gives the same model', async () => {
    const d = syntheticClicks({ rows: 30_000, fields: 7, hashBits: 14, seed: 4 });
    // Odd batch sizes on both sides, so replayed batches do not line up with the original ones.
    const inner = arraySource({ ...d, batchSize: 3_001 });
    const cached = cachedSource(inner, { dir, batchSize: 4_096 });
    const a = await train(inner, { family: 'fm', epochs: 3, seed: 2, negativeSampling: 0.7 });
    const b = await train(cached, { family: 'fm', epochs: 3, seed: 2, negativeSampling: 0.7 });
    expect(Buffer.from(b.params.weights.buffer).equals(Buffer.from(a.params.weights.buffer))).toBe(true);
    expect(b.params.bias).toBe(a.params.bias);
    expect(readdirSync(dir)).toHaveLength(1);
    cached.close();
    expect(readdirSync(dir)).toHaveLength(0);
  });
});
