/**
 * `npm run bench -- gateway [--calls 10000] [--repeats 3] [--keys 100] [--in-process] [--redis-client iovalkey]`
 *
 * What the HTTP gateway costs over speaking RESP directly, for the read lockstep does at serving time: one
 * MGET of `--keys` keys, `--calls` sequential calls per peer and repeat, peers interleaved within each repeat so
 * they share the machine's noise. Peers:
 * - `resp`: iovalkey straight to redis-server (`mget`, strings decoded).
 * - `gateway_fetch`: global `fetch` POSTing `["mget",…]` to the gateway's `/` (no base64), `res.json()`.
 * - `gateway_http`: the same request through `node:http` with a keep-alive agent: the HTTP client's floor, so
 *   the gateway's own share can be told from `fetch`'s.
 * - `gateway_sdk_node`: the same request through `NodeHttpRequester` of `@lockstep/sdk/node` (node:http keep-alive,
 *   timeouts, retries): the HTTP client the Node `UpstashStore` uses.
 * - `gateway_upstash_client`: unmodified `@upstash/redis` (`redis.mget(...)`: auto-pipelined, base64).
 * - `floor_fetch`, `floor_http`: the same two HTTP clients against a bare `node:http` server (own process) that
 *   answers the gateway's exact response bytes without asking anything: the cost of the HTTP hop alone, which
 *   no gateway can go below. `gateway_* − floor_*` is then the RESP leg plus the gateway's own work.
 * The gateway runs in its own process (`lockstep gateway`), as it would in production, unless `--in-process`.
 * `--redis-client iovalkey` serves it over the iovalkey reference connection instead of its own.
 * Reports p50/p99 in ms, medians over repeats, and `overhead_p50_ms` = gateway_fetch p50 − resp p50 (the
 * overhead with the global `fetch`); `overhead_http_client_p50_ms` and `overhead_sdk_node_p50_ms` are the same
 * difference with node:http (bare, and the SDK's Node requester). `load_average[_start]`: the machine's 1-minute
 * load at the end (and before the first repeat): tails on a shared machine follow it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { Redis as Valkey } from 'iovalkey';
import { Redis as Upstash } from '@upstash/redis';
import { loadavg } from 'node:os';
import { NodeHttpRequester } from '@lockstep/sdk/node';
import { startGateway } from '@lockstep/offline';
import { startRedisServer } from '../test/support/redis-server.ts';
import { benchArgs, median, quantile } from './args.ts';

const TOKEN = 'bench-token';

type Call = () => Promise<unknown>;

async function timeCalls(call: Call, calls: number): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(1000, calls); i++) await call();
  const times = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await call();
    times[i] = performance.now() - t0;
  }
  const xs = Array.from(times);
  return { p50: quantile(xs, 0.5), p99: quantile(xs, 0.99) };
}

/** A bare node:http server answering `body` to every request, in its own process (the HTTP floor). */
const CANNED_SERVER = `
const http = require('node:http');
const body = Buffer.from(process.env.CANNED_BODY, 'base64');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); res.end(body); });
});
server.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + server.address().port));
`;

/** Spawn a server process and read its URL from the first stdout line that starts with http://. */
async function spawnServer(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('http://'));
      if (line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { url, child };
}

async function stopServer(server: { child: ChildProcess } | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

/** One POST through node:http with a keep-alive agent, JSON-parsed. */
function httpPost(agent: http.Agent, url: string, headers: Record<string, string>, body: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const args = benchArgs(argv, {
    calls: { type: 'string', default: '10000' },
    repeats: { type: 'string', default: '3' },
    keys: { type: 'string', default: '100' },
    'in-process': { type: 'boolean', default: false },
    'redis-client': { type: 'string', default: 'lockstep' },
  });
  const redisClient = args['redis-client'];
  if (redisClient !== 'lockstep' && redisClient !== 'iovalkey') throw new Error(`--redis-client must be lockstep or iovalkey, got ${redisClient}`);
  const calls = Number(args.calls);
  const repeats = Number(args.repeats);
  const nKeys = Number(args.keys);

  const server = await startRedisServer();
  if (!server) throw new Error('redis-server is not installed: apt-get install -y redis-server');
  const direct = new Valkey(server.url);
  const keys = Array.from({ length: nKeys }, (_, i) => `bench:user:${i}`);
  // Feature rows of the size lockstep stores: a few dozen bytes of JSON each.
  await direct.mset(...keys.flatMap((k, i) => [k, JSON.stringify({ ctr_7d: i / 1000, clicks_7d: i, seg: `s${i % 7}` })]));

  const gatewayArgs = ['--import', 'tsx', 'packages/offline/src/cli/main.ts', 'gateway', '--port', '0', '--redis-url', server.url, '--token', TOKEN, '--redis-client', redisClient];
  const spawned = args['in-process'] ? undefined : await spawnServer(gatewayArgs);
  const inProcess = args['in-process'] ? await startGateway({ port: 0, redisUrl: server.url, token: TOKEN, redisClient }) : undefined;
  const url = spawned?.url ?? inProcess!.url;
  console.error(`gateway at ${url} (${spawned ? 'own process' : 'in process'}, ${redisClient} connection), redis at ${server.url}`);

  const body = JSON.stringify(['mget', ...keys]);
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const upstash = new Upstash({ url, token: TOKEN, retry: false, enableTelemetry: false });
  const sdkNode = new NodeHttpRequester({ url, token: TOKEN });
  const mget = ['mget', ...keys];

  const answer = await (await fetch(url, { method: 'POST', headers, body })).text();
  const canned = await spawnServer(['-e', CANNED_SERVER], { ...process.env, CANNED_BODY: Buffer.from(answer).toString('base64') });
  const cannedAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  const peers: Record<string, Call> = {
    resp: () => direct.mget(keys),
    gateway_fetch: async () => (await fetch(url, { method: 'POST', headers, body })).json(),
    gateway_http: () => httpPost(agent, url, headers, body),
    gateway_sdk_node: () => sdkNode.request({ path: [], body: mget }),
    gateway_upstash_client: () => upstash.mget(...keys),
    floor_fetch: async () => (await fetch(canned.url, { method: 'POST', headers, body })).json(),
    floor_http: () => httpPost(cannedAgent, canned.url, headers, body),
  };

  // Same answer from every peer before timing anything.
  const expected = JSON.stringify(await direct.mget(keys));
  for (const [name, call] of Object.entries(peers)) {
    const got = await call();
    const values = (got as { result?: unknown }).result ?? got;
    const normalised = JSON.stringify((values as unknown[]).map((v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v)));
    if (normalised !== expected) throw new Error(`${name} answered differently: ${normalised.slice(0, 200)}`);
  }

  const runs: Record<string, { p50: number[]; p99: number[] }> = {};
  const loadStart = loadavg()[0];
  for (let r = 0; r < repeats; r++) {
    for (const [name, call] of Object.entries(peers)) {
      const { p50, p99 } = await timeCalls(call, calls);
      (runs[name] ??= { p50: [], p99: [] }).p50.push(p50);
      runs[name].p99.push(p99);
      console.error(`repeat ${r + 1}/${repeats} ${name}: p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms`);
    }
  }

  const round = (x: number) => Math.round(x * 1000) / 1000;
  const summary = Object.fromEntries(
    Object.entries(runs).map(([name, { p50, p99 }]) => [name, { p50_ms: round(median(p50)), p99_ms: round(median(p99)) }]),
  ) as Record<string, { p50_ms: number; p99_ms: number }>;

  direct.disconnect();
  sdkNode.close();
  agent.destroy();
  cannedAgent.destroy();
  await inProcess?.close();
  await stopServer(spawned);
  await stopServer(canned);
  await server.stop();

  return {
    bench: 'gateway',
    mget_keys: nKeys,
    calls,
    repeats,
    gateway_process: spawned ? 'separate' : 'in-process',
    resp: summary.resp,
    gateway_fetch: summary.gateway_fetch,
    gateway_http: summary.gateway_http,
    gateway_sdk_node: summary.gateway_sdk_node,
    gateway_upstash_client: summary.gateway_upstash_client,
    overhead_p50_ms: round(summary.gateway_fetch.p50_ms - summary.resp.p50_ms),
    overhead_http_client_p50_ms: round(summary.gateway_http.p50_ms - summary.resp.p50_ms),
    overhead_sdk_node_p50_ms: round(summary.gateway_sdk_node.p50_ms - summary.resp.p50_ms),
    overhead_upstash_client_p50_ms: round(summary.gateway_upstash_client.p50_ms - summary.resp.p50_ms),
    floor_fetch: summary.floor_fetch,
    floor_http: summary.floor_http,
    // What the gateway adds beyond an HTTP hop that does nothing: its RESP leg plus its own work.
    beyond_http_floor_fetch_p50_ms: round(summary.gateway_fetch.p50_ms - summary.floor_fetch.p50_ms),
    beyond_http_floor_http_p50_ms: round(summary.gateway_http.p50_ms - summary.floor_http.p50_ms),
    load_average_start: round(loadStart),
    load_average: round(loadavg()[0]),
  };
}
