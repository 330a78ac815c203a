/**
 * Requests (good and bad) and the data they read, for tests that compare two ways of serving the gateway
 * byte for byte: the Node listener against the Hono app, the own RESP connection against iovalkey.
 *
 * @module
 */
import { request } from 'node:http';
import type { Hono } from 'hono';
import type { Redis } from 'iovalkey';
import { expect } from 'vitest';

export interface CorpusRequest {
  path: string;
  method?: string;
  headers: Record<string, string>;
  body?: string;
}

/** The data every corpus request starts from (after a FLUSHDB). */
export async function SEED(redis: Redis): Promise<void> {
  await redis.mset('a', '1', 'text', 'ünïcödé "quoted" \\ back\nslash\u0001', 'ok', 'OK', 'bin', Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]));
  await redis.hset('h', 'f1', 'v1', 'f2', '2');
  await redis.rpush('l', 'x', 'y', 'z');
  await redis.zadd('z', 1, 'a', 2.5, 'b');
  await redis.set('big', 'v'.repeat(3000));
  await redis.mset(...Array.from({ length: 100 }, (_, i) => [`row:${i}`, JSON.stringify({ ctr: i / 1000, seg: `s${i % 7}` })]).flat());
}

const AUTH = { authorization: 'Bearer test-token', 'content-type': 'application/json' };
const B64 = { ...AUTH, 'upstash-encoding': 'base64' };

const commands: unknown[][] = [
  ['ping'], ['get', 'a'], ['get', 'text'], ['get', 'ok'], ['get', 'bin'], ['get', 'missing'], ['get', 'big'],
  ['set', 'k', 'v'], ['set', 'k', true, 'ex', 100], ['set', 'a', 'x', 'nx'], ['incr', 'a'], ['incrby', 'a', -41],
  ['hgetall', 'h'], ['hgetall', 'none'], ['hmget', 'h', 'f1', 'nope'], ['lrange', 'l', 0, -1], ['zrange', 'z', 0, -1, 'withscores'],
  ['type', 'h'], ['lpush', 'a', 'x'], ['nosuchcommand', 'x'], ['get'], ['mget', ...Array.from({ length: 100 }, (_, i) => `row:${i}`), 'missing'],
  ['exists', 'a', 'h', 'nope'], ['echo', ''], ['ttl', 'a'], ['scan', 0], ['xadd', 's', '1-1', 'f', 'v'], ['object', 'encoding', 'a'],
  ['incrbyfloat', 'a', 0.5], ['eval', "return {1, 'two', {3, false}, redis.error_reply('nested')}", 0],
  ['eval', 'return 9007199254740993', 0], ['eval', "return redis.status_reply('STATUS')", 0], ['eval', "return {}", 0],
];

function entries(): CorpusRequest[] {
  const out: CorpusRequest[] = [];
  for (const headers of [AUTH, B64]) {
    for (const c of commands) out.push({ path: '/', headers, body: JSON.stringify(c) });
    out.push({ path: '/pipeline', headers, body: JSON.stringify(commands) });
    out.push({ path: '/multi-exec', headers, body: JSON.stringify(commands.filter((c) => c[0] !== 'nosuchcommand' && c.length > 1)) });
    out.push({ path: '/multi-exec', headers, body: JSON.stringify([['set', 'u', '1'], ['nosuchcommand'], ['get']]) });
    out.push({ path: '/pipeline', headers: { ...headers, 'upstash-sync-token': 'tok-1' }, body: '[["get","a"]]' });
    out.push({ path: '/', headers, body: '\ufeff["get","a"]' });
  }
  const bad: Array<[string, string, Record<string, string>?]> = [
    ['/', '["get", "k"'], ['/', '{"cmd":"get"}'], ['/', '[]'], ['/', '[1, "k"]'], ['/', '["set","k",{"a":1}]'],
    ['/', '["set","k",null]'], ['/pipeline', '["get","k"]'], ['/pipeline', '[]'], ['/', '["flushall"]'], ['/', '["keys","*"]'],
    ['/pipeline', '[["ping"],["config","set","maxmemory","1"]]'], ['/', '["select","1"]'], ['/', '["multi"]'],
    ['/', '["xread","block","0","streams","s","$"]'], ['/multi-exec', '[["ping"],["subscribe","c"]]'],
    ['/', JSON.stringify(['set', 'huge', 'x'.repeat(5000)])], ['/get/a', '["get","a"]'], ['/?x=1', '["get","a"]'],
    ['/', '["get","a"]', { authorization: 'Bearer nope' }], ['/', '["get","a"]', { authorization: 'Bearer second' }],
    ['/', '["get","a"]', {}], ['/', '', {}], ['/', ''],
  ];
  for (const [path, body, headers] of bad) out.push({ path, body, headers: headers ?? AUTH });
  out.push({ path: '/pipeline', method: 'GET', headers: AUTH });
  out.push({ path: '/', method: 'PUT', headers: AUTH, body: '["get","a"]' });
  return out;
}

/** Every request, in a fixed order. */
export const GATEWAY_CORPUS: readonly CorpusRequest[] = entries();

/** The answer's status, the headers the protocol sets, and its body bytes (base64). */
export interface SeenAnswer {
  status: number;
  headers: Record<string, string | null>;
  body: string;
}

function pick(get: (name: string) => string | null): Record<string, string | null> {
  return Object.fromEntries(['content-type', 'upstash-sync-token', 'allow'].map((n) => [n, get(n)]));
}

/** Send `r` over real HTTP to the server at `base`. */
export function httpAnswer(base: string, r: CorpusRequest): Promise<SeenAnswer> {
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    const req = request(
      `${base}${r.path}`,
      { method: r.method ?? 'POST', headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...r.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: pick((name) => (res.headers[name] as string | undefined) ?? null),
            body: Buffer.concat(chunks).toString('base64'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Expect the server at `base` to answer every corpus request exactly as `reference` does through
 * `app.request()`, each from the seeded data.
 */
export async function expectCorpusAnswers(redis: Redis, reference: Hono, base: string): Promise<void> {
  for (const r of GATEWAY_CORPUS) {
    await redis.flushdb();
    await SEED(redis);
    const res = await reference.request(r.path, { method: r.method ?? 'POST', headers: r.headers, body: r.body });
    const want: SeenAnswer = { status: res.status, headers: pick((n) => res.headers.get(n)), body: Buffer.from(await res.arrayBuffer()).toString('base64') };
    await redis.flushdb();
    await SEED(redis);
    expect(await httpAnswer(base, r), `${r.method ?? 'POST'} ${r.path} ${r.body?.slice(0, 80)}`).toEqual(want);
  }
}
