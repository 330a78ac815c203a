/**
 * The SDK core's size budget: scorer, built-in evaluator and stores, bundled and minified, at most 50 KB gzipped
 * (50,000 bytes). Prints the figures, with and without @upstash/redis (the UpstashStore's client, the largest part).
 */
import { expect, it } from 'vitest';
import { measureCoreSize } from '../packages/sdk/scripts/core-size.ts';

const BUDGET_GZIP_BYTES = 50_000;

it(`the SDK core bundles to at most ${BUDGET_GZIP_BYTES} bytes gzipped, without onnxruntime-web`, async () => {
  const core = await measureCoreSize();
  const lean = await measureCoreSize(undefined, ['@upstash/redis']);
  console.log(
    `sdk core: ${core.minified} B minified, ${core.gzip} B gzipped (${lean.gzip} B gzipped without @upstash/redis); largest inputs:`,
    core.inputs.slice(0, 5).map((i) => `${i.path} ${i.bytes} B`).join(', '),
  );
  expect(core.inputs.some((i) => i.path.includes('onnxruntime'))).toBe(false);
  expect(core.inputs.some((i) => i.path.includes('src/engine/builtin/'))).toBe(true);
  expect(core.gzip).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
});
