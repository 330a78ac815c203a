/**
 * `npm run bench -- store [--calls 10000] [--repeats 3] [--users 100000] [--ads 10000] [--features 8]`
 *
 * Serving-time read latency: one call reads one user plus 100 ads (two views, one round trip) through
 * - `memory`: MemoryStore,
 * - `resp`: ValkeyStore → redis-server,
 * - `http`: UpstashStore → `lockstep gateway` (own process) → the same redis-server, the store a Node user gets
 *   from `@lockstep/sdk/node` (node:http keep-alive connections),
 * - `http_fetch`: the same through the core's UpstashStore (`@lockstep/sdk`: `@upstash/redis`'s requester over
 *   the global `fetch`, what Workers and browsers use),
 * and, side by side in the same run, the bare clients reading the same 101 keys:
 * - `raw-iovalkey`: `redis.mget(keys)` with iovalkey,
 * - `raw-upstash-client`: `redis.mget(...keys)` with an unmodified `@upstash/redis` through the gateway.
 * Calls are sequential (latency, not throughput), each with another user and ads; peers are interleaved within
 * each repeat so they share the machine's noise. Reports p50/p99 in ms, medians over repeats, and the machine's
 * 1-minute load average before the first repeat and at the end (tails on a shared machine follow it).
 */
import { loadavg } from 'node:os';
import { Redis as Valkey } from 'iovalkey';
import { Redis as Upstash } from '@upstash/redis';
import { UpstashStore, ValkeyStore } from '@lockstep/sdk/node';
import { MemoryStore, UpstashStore as FetchUpstashStore, featureKey, type OnlineStoreCore, type ReadRequest } from '@lockstep/sdk';
import { materialize, memorySource } from '@lockstep/offline';
import { benchArgs, median, quantile } from './args.ts';
import { startBenchServers } from './_store-servers.ts';
import { syntheticRows, syntheticView } from './materialize.ts';

type Call = () => Promise<unknown>;

async function timeCalls(calls: Call[], n: number): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(1000, n); i++) await calls[i % calls.length]();
  const times = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await calls[i % calls.length]();
    times[i] = performance.now() - t0;
  }
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const args = benchArgs(argv, {
    calls: { type: 'string', default: '10000' },
    repeats: { type: 'string', default: '3' },
    users: { type: 'string', default: '100000' },
    ads: { type: 'string', default: '10000' },
    features: { type: 'string', default: '8' },
  });
  const calls = Number(args.calls);
  const repeats = Number(args.repeats);
  const nUsers = Number(args.users);
  const nAds = Number(args.ads);
  const width = Number(args.features);
  const userView = syntheticView(width, 'user_stats');
  const adView = syntheticView(width, 'ad_stats');
  const now = Date.now();
  const source = memorySource({ user_stats: syntheticRows(nUsers, width, now), ad_stats: syntheticRows(nAds, width, now) });
  const project = 'bench';

  const servers = await startBenchServers();
  const stores: Record<'memory' | 'resp' | 'http' | 'http_fetch', OnlineStoreCore> = {
    memory: new MemoryStore(),
    resp: new ValkeyStore({ url: servers.redisUrl }),
    http: new UpstashStore({ url: servers.gatewayUrl, token: servers.token }),
    http_fetch: new FetchUpstashStore({ url: servers.gatewayUrl, token: servers.token }),
  };
  await materialize({ store: stores.memory, project, views: [userView, adView], source, asOfMs: now });
  const { views } = await materialize({ store: stores.resp, project, views: [userView, adView], source, asOfMs: now });
  const version = views[0].version;

  // 1000 different requests, cycled: a user and 100 distinct ads each.
  let seed = 7;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const requests: ReadRequest[][] = [];
  const rawKeys: string[][] = [];
  for (let i = 0; i < 1000; i++) {
    const user = [rand(nUsers)];
    const ads = new Set<number>();
    while (ads.size < 100) ads.add(rand(nAds));
    const adEntities = [...ads].map((a) => [a]);
    requests.push([{ view: userView, entities: [user] }, { view: adView, entities: adEntities }]);
    rawKeys.push([featureKey(project, userView, version, user), ...adEntities.map((e) => featureKey(project, adView, version, e))]);
  }

  const valkey = new Valkey(servers.redisUrl);
  const upstash = new Upstash({ url: servers.gatewayUrl, token: servers.token, retry: false, enableTelemetry: false });
  const storeCalls = (store: OnlineStoreCore): Call[] => requests.map((r) => () => store.readRows(r, { project }));
  const peers: Record<string, Call[]> = {
    memory: storeCalls(stores.memory),
    resp: storeCalls(stores.resp),
    http: storeCalls(stores.http),
    http_fetch: storeCalls(stores.http_fetch),
    'raw-iovalkey': rawKeys.map((keys) => () => valkey.mget(keys)),
    'raw-upstash-client': rawKeys.map((keys) => () => upstash.mget(...keys)),
  };

  // Every peer reads the same rows before anything is timed.
  const [expected] = await stores.resp.readRows(requests[0], { project });
  if (!expected.every((row) => row !== undefined)) throw new Error('the materialized rows are not all there');
  for (const name of ['memory', 'http', 'http_fetch'] as const) {
    const got = await stores[name].readRows(requests[0], { project });
    if (JSON.stringify(got) !== JSON.stringify(await stores.resp.readRows(requests[0], { project }))) throw new Error(`${name} read other rows`);
  }

  const runs: Record<string, { p50: number[]; p99: number[] }> = {};
  const loadStart = loadavg()[0];
  try {
    for (let r = 0; r < repeats; r++) {
      for (const [name, peerCalls] of Object.entries(peers)) {
        const { p50, p99 } = await timeCalls(peerCalls, calls);
        (runs[name] ??= { p50: [], p99: [] }).p50.push(p50);
        runs[name].p99.push(p99);
        console.error(`repeat ${r + 1}/${repeats} ${name}: p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms`);
      }
    }
  } finally {
    valkey.disconnect();
    for (const store of Object.values(stores)) await store.close();
    await servers.stop();
  }
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    bench: 'store',
    reads: Object.fromEntries(Object.entries(runs).map(([name, { p50, p99 }]) => [name, { p50_ms: round(median(p50)), p99_ms: round(median(p99)) }])),
    entities_per_read: 101,
    features_per_view: width,
    calls,
    repeats,
    load_average_start: round(loadStart),
    load_average: round(loadavg()[0]),
  };
}
