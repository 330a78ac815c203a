/**
 * The SDK in workerd, the runtime of Cloudflare Workers (through miniflare, the local simulator): a Worker bundled
 * by esbuild as Workers are (format esm, the workerd/worker/browser conditions, the .wasm imported as a module)
 * fills a MemoryStore, loads a bundle and scores, with the built-in evaluator and with onnxruntime-web (its wasm
 * handed over precompiled, as workerd requires). Its scores equal Node's bit for bit on each engine, for both
 * model families; and reading the features from inside workerd over HTTP (the Upstash REST protocol, through
 * `lockstep gateway` to a real redis-server) gives the same scores. miniflare and its workerd binary come from npm
 * (a dev dependency), so only the gateway case skips, when redis-server is absent outside CI.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { MemoryStore, UpstashStore, createScorer } from '@lockstep/sdk';
import { onnxruntimeWebBackend } from '@lockstep/sdk/onnxruntime-web';
import { useStoreServers } from './support/online-stores.ts';
import { SMALL_SCORE_FIXTURE, scoreFixture } from './support/score-fixture.ts';
import { capturedRows } from './support/memory-store-rows.ts';
import type { WorkerInput } from './support/workerd-score-worker.ts';

const ORT_WASM = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm')), 'ort-wasm-simd-threaded.wasm');

let mf: Miniflare;
const { haveRedis, servers } = useStoreServers();

beforeAll(async () => {
  const worker = await build({
    entryPoints: [new URL('./support/workerd-score-worker.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['*.wasm'],
    write: false,
    logLevel: 'silent',
  });
  // The modules listed one by one: onnxruntime-web holds a non-literal import() that module discovery refuses.
  mf = new Miniflare({
    modulesRoot: '/',
    modules: [
      { type: 'ESModule', path: '/worker.mjs', contents: worker.outputFiles[0].text },
      { type: 'CompiledWasm', path: '/ort-wasm-simd-threaded.wasm', contents: await readFile(ORT_WASM) },
    ],
    compatibilityDate: '2026-04-01',
  });
}, 60_000);
afterAll(async () => {
  await mf?.dispose();
});

/** POST an input to the Worker; its answer (an error answer fails the test with the Worker's message). */
async function scoreInWorker(input: WorkerInput) {
  const res = await mf.dispatchFetch('http://worker/', { method: 'POST', body: JSON.stringify(input) });
  const got = (await res.json()) as { error?: string; model: { backend: string; mode: string }; scores: number[]; degraded: boolean };
  expect([input.engine, res.status, got.error]).toEqual([input.engine, 200, undefined]);
  return got;
}

const base64Files = (files: Map<string, Uint8Array>) => Object.fromEntries([...files].map(([name, bytes]) => [name, Buffer.from(bytes).toString('base64')]));

describe('scoring in workerd (Cloudflare Workers)', () => {
  for (const family of ['lr', 'fm'] as const) {
    it(`scores a ${family} bundle as Node does, bit for bit, on the built-in evaluator and on onnxruntime-web`, async () => {
      const fx = await scoreFixture({ family, ...SMALL_SCORE_FIXTURE });
      const views = await capturedRows((store) => fx.fill(store));
      const memory = new MemoryStore();
      await fx.fill(memory);
      const bundle = base64Files(fx.bundle);
      for (const engine of ['builtin', 'onnxruntime-web'] as const) {
        const got = await scoreInWorker({ bundle, project: fx.project, views, request: fx.request(2), engine });

        const engines = engine === 'builtin' ? ['builtin'] : [onnxruntimeWebBackend()];
        const node = await createScorer({ bundle: fx.bundle, store: memory, deadlineMs: Infinity, engines });
        const expected = await node.score(fx.request(2));
        expect(got.model).toMatchObject({ backend: engine, mode: node.model.mode });
        expect(got.degraded).toBe(false);
        expect(got.scores).toHaveLength(12);
        expect(got.scores).toEqual(expected.scores);
      }
    }, 60_000);
  }

  it('reads the features over HTTP from inside workerd (Upstash REST, lockstep gateway, redis-server)', async (ctx) => {
    if (!haveRedis) return ctx.skip();
    const fx = await scoreFixture({ family: 'fm', ...SMALL_SCORE_FIXTURE });
    const { gateway, token } = servers();
    const http = new UpstashStore({ url: gateway.url, token });
    await fx.fill(http);
    const got = await scoreInWorker({ bundle: base64Files(fx.bundle), project: fx.project, views: [], upstash: { url: gateway.url, token }, request: fx.request(1), engine: 'builtin' });
    const memory = new MemoryStore();
    await fx.fill(memory);
    const expected = await (await createScorer({ bundle: fx.bundle, store: memory, deadlineMs: Infinity })).score(fx.request(1));
    // Not degraded: every feature arrived from the gateway, none took its default.
    expect(got.degraded).toBe(false);
    expect(got.scores).toEqual(expected.scores);
  }, 60_000);
});
