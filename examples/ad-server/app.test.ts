/**
 * The ad server against real things: the score fixture's bundle (the sponsored-ads spec), a real redis-server
 * through ValkeyStore and the MemoryStore, and main.ts as a real process on a free port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore, rankCandidates, type Scorer } from '@lockstep/sdk';
import { ValkeyStore, createScorer } from '@lockstep/sdk/node';
import { startGateway } from '@lockstep/offline';
import { scoreFixture, type ScoreFixture } from '../../test/support/score-fixture.ts';
import { requireBinary, startRedisServer, type RedisServer } from '../../test/support/redis-server.ts';
import { createAdServer, type RankAnswer } from './app.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Small enough to fill a store in well under a second; the request shape is the real one.
const FIXTURE = { family: 'lr', users: 200, ads: 500, advertisers: 50, candidates: 20 } as const;

function post(app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, body: unknown): Promise<Response> {
  return Promise.resolve(
    app.request('/rank', { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  );
}

/** main.ts as a real process, with its output collected. */
function runMain(args: string[]): { out: () => string; err: () => string; exit: Promise<number | null>; kill: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/ad-server/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { out: () => out, err: () => err, exit, kill: () => child.kill('SIGTERM') };
}

/** What the answer must be: the scorer's scores, ranked by the SDK's rank helper. */
async function expected(scorer: Scorer, request: ReturnType<ScoreFixture['request']>, reserve: number, limit?: number) {
  const { scores } = await scorer.score(request);
  const { ranked } = rankCandidates({ candidates: request.candidates, scores, bidField: 'bid', idField: 'ad_id', reserve, limit: limit ?? Infinity });
  return ranked.map((w, i) => ({ ad_id: w.candidate.ad_id, p_click: w.pctr, bid: w.bid, expected_value: w.expectedValue, price: w.price, rank: i + 1 }));
}

let fx: ScoreFixture;
beforeAll(async () => {
  fx = await scoreFixture(FIXTURE);
});

describe('ad server on the MemoryStore', () => {
  let scorer: Scorer;
  let store: MemoryStore;
  beforeAll(async () => {
    store = new MemoryStore();
    await fx.fill(store);
    scorer = await createScorer({ bundle: fx.bundle, store, deadlineMs: Infinity });
  });
  afterAll(() => scorer?.close());

  it('ranks a page exactly as score() + rankCandidates, with reserve and limit', async () => {
    const app = createAdServer({ scorer, modelVersion: 3 });
    for (const [i, reserve, limit] of [[0, 0, undefined], [1, 0.01, 5]] as const) {
      const request = fx.request(i);
      const res = await post(app, { ...request, reserve, limit });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as RankAnswer;
      expect(answer.ads).toEqual(await expected(scorer, request, reserve, limit));
      expect(answer.ads.length).toBeGreaterThan(0);
      if (limit) expect(answer.ads.length).toBeLessThanOrEqual(limit);
      expect(answer.model).toEqual({ name: 'ads-ctr', id: scorer.model.id, version: 3 });
      expect(answer.degraded).toBe(false);
      expect(answer.defaulted_count).toBe(0);
    }
  });

  it('answers 400 with the SDK error code for bad input, never 500', async () => {
    const app = createAdServer({ scorer });
    const good = fx.request(2);
    const cases: Array<[unknown, string, string | undefined]> = [
      ['{"user": ', 'INVALID_REQUEST', undefined],
      ['[1,2]', 'INVALID_INPUT', 'request'],
      [{ context: good.context, candidates: good.candidates }, 'INVALID_INPUT', 'user'],
      [{ ...good, user: {} }, 'INVALID_INPUT', 'user.user_id'],
      [{ ...good, candidates: 'ads' }, 'INVALID_INPUT', 'candidates'],
      [{ ...good, candidates: [good.candidates[0], { ...good.candidates[1], bid: undefined }] }, 'INVALID_INPUT', 'candidates[1].bid'],
      [{ ...good, candidates: [{ ...good.candidates[0], bid: 'high' }] }, 'INVALID_INPUT', 'candidates[0].bid'],
      [{ ...good, reserve: -1 }, 'INVALID_INPUT', 'reserve'],
      [{ ...good, limit: 0 }, 'INVALID_INPUT', 'limit'],
    ];
    for (const [body, code, field] of cases) {
      const res = await post(app, body);
      const answer = (await res.json()) as { error: { code: string; message: string; field?: string } };
      expect({ status: res.status, code: answer.error.code, field: answer.error.field }).toEqual({ status: 400, code, field });
      expect(answer.error.message.length).toBeGreaterThan(0);
    }
    const tooBig = await createAdServer({ scorer, maxBodyBytes: 100 }).request('/rank', { method: 'POST', body: JSON.stringify(good) });
    expect(tooBig.status).toBe(413);
    // Not JSON by its content type: 415, even when the text would parse. The path with another method: 405.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await app.request('/rank', { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(good) });
      expect([type, res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([type, 415, 'UNSUPPORTED_MEDIA_TYPE']);
    }
    expect((await app.request('/rank', { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(good) })).status).toBe(200);
    const get = await app.request('/rank');
    expect([get.status, get.headers.get('allow'), ((await get.json()) as { error: { code: string } }).error.code]).toEqual([405, 'POST', 'METHOD_NOT_ALLOWED']);
  });

  it('answers /healthz and /readyz', async () => {
    const app = createAdServer({ scorer });
    expect((await app.request('/healthz')).status).toBe(200);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, model: { name: 'ads-ctr', id: scorer.model.id } });
  });
});

describe.skipIf(!requireBinary('redis-server'))('ad server on redis-server (ValkeyStore)', () => {
  let redis: RedisServer;
  let store: ValkeyStore;
  let scorer: Scorer;
  let dir: string;
  beforeAll(async () => {
    redis = (await startRedisServer())!;
    store = new ValkeyStore({ url: redis.url });
    await fx.fill(store);
    // A generous deadline: a loaded 2-core machine must not turn the exactness test into a degraded answer.
    scorer = await createScorer({ bundle: fx.bundle, store, deadlineMs: 1000 });
    await scorer.warmup();
    dir = await mkdtemp(join(tmpdir(), 'ad-server-'));
    for (const [name, bytes] of fx.bundle) await writeFile(join(dir, name), bytes);
  });
  afterAll(async () => {
    await scorer?.close();
    await store?.close();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ranks a page exactly as score() + rankCandidates', async () => {
    const app = createAdServer({ scorer });
    const request = fx.request(4);
    const answer = (await (await post(app, request)).json()) as RankAnswer;
    expect(answer.degraded).toBe(false);
    expect(answer.ads).toEqual(await expected(scorer, request, 0));
  });

  /** Starts main.ts against `store` (its arguments), checks /readyz, /rank and a 400, stops it with SIGTERM. */
  async function servesThroughMain(store: string[]): Promise<void> {
    const run = runMain(['--bundle', dir, ...store, '--port', '0', '--deadline-ms', '1000']);
    let exited = false;
    void run.exit.then(() => (exited = true));
    try {
      const deadline = Date.now() + 30_000;
      while (!/http:\/\/\S+:\d+/.test(run.out()) && !exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const url = run.out().match(/http:\/\/127\.0\.0\.1:\d+/)?.[0];
      expect(url, `no listening line; stderr: ${run.err()}`).toBeDefined();
      expect(run.out().trim().split('\n')).toHaveLength(1);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const request = fx.request(5);
      const res = await fetch(`${url}/rank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...request, limit: 4 }) });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as RankAnswer;
      expect(answer.ads).toEqual(await expected(scorer, request, 0, 4));
      expect((await fetch(`${url}/rank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'nope' })).status).toBe(400);
    } finally {
      run.kill();
    }
    expect(await run.exit).toBe(0);
  }

  it('main.ts serves /rank as a process on a free port and stops on SIGTERM', async () => {
    await servesThroughMain(['--store', redis.url]);
  });

  it('main.ts serves /rank over HTTP too, through lockstep gateway (the Upstash REST protocol)', async () => {
    const gateway = await startGateway({ port: 0, redisUrl: redis.url, token: 'ad-server-test' });
    try {
      await servesThroughMain(['--store', gateway.url, '--token', 'ad-server-test']);
    } finally {
      await gateway.close();
    }
  });

  it('main.ts stops on SIGTERM within its grace period even while a client stalls mid-request', async () => {
    const run = runMain(['--bundle', dir, '--store', redis.url, '--port', '0', '--grace-ms', '300']);
    const deadline = Date.now() + 30_000;
    while (!/http:\/\/\S+:\d+/.test(run.out()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const [, port] = run.out().match(/http:\/\/127\.0\.0\.1:(\d+)/) ?? [];
    expect(port, `no listening line; stderr: ${run.err()}`).toBeDefined();
    // Headers and half a body, then nothing: Node's own request timeout would wait minutes for the rest.
    const stalled = connect(Number(port), '127.0.0.1');
    await once(stalled, 'connect');
    stalled.write('POST /rank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user":');
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    run.kill();
    expect(await run.exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    stalled.destroy();
  });

  it('refuses to start on a bad argument (exit 1, the error on stderr)', async () => {
    const run = runMain(['--bundle', dir, '--store', 'ftp://x']);
    expect(await run.exit).toBe(1);
    expect(run.err()).toMatch(/INVALID_INPUT: --store must be a redis:\/\//);
  });

  // Last: it stops the server.
  it('stays 200 with degraded: true while redis is down, /readyz says 503, and recovers after a restart', async () => {
    const app = createAdServer({ scorer, readyTimeoutMs: 2000 });
    const request = fx.request(6);
    await redis.stop();
    const down = await post(app, request);
    expect(down.status).toBe(200);
    const answer = (await down.json()) as RankAnswer;
    expect(answer.degraded).toBe(true);
    expect(answer.defaulted_count).toBeGreaterThan(0);
    expect(answer.ads.length).toBeGreaterThan(0);
    const notReady = await app.request('/readyz');
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { reason: string }).reason).toMatch(/^store unreachable: /);

    await redis.restart(); // empty: the materialization writes the rows again
    await fx.fill(store);
    const deadline = Date.now() + 10_000;
    let back: RankAnswer | undefined;
    while (Date.now() < deadline) {
      back = (await (await post(app, request)).json()) as RankAnswer;
      if (!back.degraded) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(back?.degraded).toBe(false);
    expect(back?.ads).toEqual(await expected(scorer, request, 0));
    expect((await app.request('/readyz')).status).toBe(200);
  });
});
