/**
 * `npm run bench -- materialize [--entities 1000000] [--repeats 3] [--features 8] [--batch-rows 2000] [--concurrency 4]`
 *
 * Full materialization throughput (write every row under a new version, then publish) into a real redis-server
 * over RESP (ValkeyStore) and over HTTP (UpstashStore → `lockstep gateway` in its own process → the same
 * redis-server): `http` is the Node entry's UpstashStore (node:http keep-alive, what `lockstep materialize` uses),
 * `http_fetch` the core's (global `fetch`, what Workers and browsers get), side by side. Rows are synthetic (one view, `--features` float features, integer entity ids) and generated
 * batch by batch as they are consumed, like a streaming source. Each repeat starts from an empty server; the
 * clean-up of old versions is not timed (it runs after readers already see the new snapshot).
 * Prints `{"bench":"materialize","entities":…,"resp_entities_per_s":…,"http_entities_per_s":…}` plus details:
 * CPU seconds per run of this process (all of it, and the synthetic source's share) and of redis-server (less
 * sensitive to a shared machine than the rates), and the 1-minute load average before and after.
 */
import { loadavg } from 'node:os';
import { ValkeyStore } from '@lockstep/sdk/node';
import { UpstashStore as FetchUpstashStore, featureViewSchemaHash, type FeatureViewSpec, type OnlineStoreCore, type WriteRow } from '@lockstep/sdk';
import { UpstashStore } from '@lockstep/sdk/node';
import { materialize, memorySource } from '@lockstep/offline';
import { benchArgs, median } from './args.ts';
import { startBenchServers } from './_store-servers.ts';

/** A synthetic view of `features` float features keyed by ad id. */
export function syntheticView(features: number, name = 'ad_stats'): FeatureViewSpec {
  const base = {
    name,
    entity: 'ad',
    joinKeys: ['ad_id'],
    features: Array.from({ length: features }, (_, i) => ({ name: `f${i}`, dtype: 'float64' as const, default: 0 })),
    ttlSeconds: 7 * 86400,
    lagSeconds: 0,
    intervalSeconds: 3600,
  };
  return { ...base, schemaHash: featureViewSchemaHash(base) };
}

/** Deterministic rows with realistic values (rates, counts) for entities `from` … `from + n - 1`. */
export function syntheticRows(n: number, features: number, nowMs: number, from = 0): WriteRow[] {
  const rows = new Array<WriteRow>(n);
  let seed = 12345 + from;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < n; i++) {
    const values = new Array<number>(features);
    for (let f = 0; f < features; f++) values[f] = f % 2 ? Math.floor(rand() * 10_000) : Math.round(rand() * 1e6) / 1e6;
    rows[i] = { entity: [from + i], eventTimeMs: nowMs - Math.floor(rand() * 86_400_000), values };
  }
  return rows;
}

/** The same rows, generated batch by batch as a streaming source would deliver them (the heap stays small). */
export function* syntheticBatches(n: number, features: number, nowMs: number, batchRows = 10_000): Iterable<WriteRow[]> {
  for (let from = 0; from < n; from += batchRows) yield syntheticRows(Math.min(batchRows, n - from), features, nowMs, from);
}

/** `batches`, adding the CPU seconds spent producing them to `cpu.seconds`. */
function* timed<T>(batches: Iterable<T>, cpu: { seconds: number }): Iterable<T> {
  const it = batches[Symbol.iterator]();
  for (;;) {
    const start = process.cpuUsage();
    const next = it.next();
    const used = process.cpuUsage(start);
    cpu.seconds += (used.user + used.system) / 1e6;
    if (next.done) return;
    yield next.value;
  }
}

/** CPU seconds redis-server has used so far (INFO cpu). */
async function redisCpuSeconds(store: OnlineStoreCore): Promise<number> {
  const [info] = await store.transport.send([['INFO', 'cpu']]);
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(String(info))?.[1] ?? Number.NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const args = benchArgs(argv, {
    entities: { type: 'string', default: '1000000' },
    repeats: { type: 'string', default: '3' },
    features: { type: 'string', default: '8' },
    'batch-rows': { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
  });
  const entities = Number(args.entities);
  const repeats = Number(args.repeats);
  const view = syntheticView(Number(args.features));
  const now = Date.now();
  // Rows are generated as they are consumed, like a streaming source (DuckDB, Arrow files) delivers them.
  const sourceCpu = { seconds: 0 };
  const source = memorySource({ [view.name]: () => timed(syntheticBatches(entities, view.features.length, now), sourceCpu) });
  const loadBefore = loadavg()[0];

  const servers = await startBenchServers();
  const resp = new ValkeyStore({ url: servers.redisUrl });
  const stores: Record<'resp' | 'http' | 'http_fetch', OnlineStoreCore> = {
    resp,
    http: new UpstashStore({ url: servers.gatewayUrl, token: servers.token }),
    http_fetch: new FetchUpstashStore({ url: servers.gatewayUrl, token: servers.token }),
  };
  const rates: Record<keyof typeof stores, number[]> = { resp: [], http: [], http_fetch: [] };
  const cpuCost: Record<string, Array<{ bench_cpu_s: number; source_cpu_s: number; redis_cpu_s: number }>> = {};
  try {
    for (let r = 0; r < repeats; r++) {
      for (const [leg, store] of Object.entries(stores)) {
        await resp.transport.send([['FLUSHALL']]);
        const cpu = process.cpuUsage();
        sourceCpu.seconds = 0;
        const redisCpu = await redisCpuSeconds(resp);
        const result = await materialize({
          store,
          project: 'bench',
          views: [view],
          source,
          asOfMs: now,
          batchRows: Number(args['batch-rows']),
          concurrency: Number(args.concurrency),
          cleanup: false,
        });
        const seconds = result.seconds.write + result.seconds.publish;
        const written = result.views[0].written;
        if (written !== entities) throw new Error(`${leg}: wrote ${written} of ${entities} rows`);
        rates[leg as keyof typeof stores].push(entities / seconds);
        // CPU time per side: on a shared machine it tells what the wall clock cannot (who waited for whom).
        const used = process.cpuUsage(cpu);
        const cost = {
          bench_cpu_s: (used.user + used.system) / 1e6,
          source_cpu_s: sourceCpu.seconds,
          redis_cpu_s: (await redisCpuSeconds(resp)) - redisCpu,
        };
        (cpuCost[leg] ??= []).push(cost);
        console.error(
          `repeat ${r + 1}/${repeats} ${leg}: ${Math.round(entities / seconds)} entities/s (write ${result.seconds.write.toFixed(2)} s, ` +
            `publish ${(result.seconds.publish * 1000).toFixed(1)} ms; CPU: this process ${cost.bench_cpu_s.toFixed(2)} s ` +
            `(source ${cost.source_cpu_s.toFixed(2)} s), redis-server ${cost.redis_cpu_s.toFixed(2)} s; load ${loadavg()[0].toFixed(2)})`,
        );
      }
    }
  } finally {
    for (const store of Object.values(stores)) await store.close();
    await servers.stop();
  }
  return {
    bench: 'materialize',
    entities,
    resp_entities_per_s: Math.round(median(rates.resp)),
    http_entities_per_s: Math.round(median(rates.http)),
    http_fetch_entities_per_s: Math.round(median(rates.http_fetch)),
    features: view.features.length,
    repeats,
    batch_rows: Number(args['batch-rows']),
    concurrency: Number(args.concurrency),
    runs: Object.fromEntries(Object.entries(rates).map(([leg, r]) => [leg, r.map(Math.round)])),
    // Median CPU seconds per run of this process (all: source, encoding, client), of the synthetic source within
    // it, and of redis-server. The gateway's own process (HTTP leg) is not counted.
    cpu_s: Object.fromEntries(
      Object.entries(cpuCost).map(([leg, runs]) => [
        leg,
        {
          bench: round2(median(runs.map((c) => c.bench_cpu_s))),
          source: round2(median(runs.map((c) => c.source_cpu_s))),
          redis: round2(median(runs.map((c) => c.redis_cpu_s))),
        },
      ]),
    ),
    load_avg_1m: { before: round2(loadBefore), after: round2(loadavg()[0]) },
  };
}
