/**
 * ValkeyStore's read fast path (its own connection, RESP encoded and decoded by hand) against the reference
 * (iovalkey: `MGET` as strings, decoded with `decodeFeatureValue`) on a real redis-server: random keys and
 * values of every kind, replies split at every byte, refusals, a restart, a server gone mid-read, aborts.
 */
import { Redis } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.ts';
import { decodeFeatureValue, encodeFeatureValue, type FeatureRow } from '../online-format.ts';
import { featureViewSchemaHash, type FeatureViewSpec } from '../spec/feature-view.ts';
import type { PrefixedRead } from '../store/store-core.ts';
import { requireBinary, startRedisServer, type RedisServer } from '../../../../test/support/redis-server.ts';
import { TcpProxy } from '../../../../test/support/tcp-proxy.ts';
import { RespReader } from './resp-reader.ts';
import { ValkeyStore } from './valkey-store.ts';

const haveRedis = requireBinary('redis-server');
let server: RedisServer;
let redis: Redis;
const readers: RespReader[] = [];
const reader = (options: ConstructorParameters<typeof RespReader>[0] = { port: server.port }) => {
  const r = new RespReader(options);
  readers.push(r);
  return r;
};

beforeAll(async () => {
  if (!haveRedis) return;
  server = (await startRedisServer())!;
  redis = new Redis(server.url);
});
afterAll(async () => {
  for (const r of readers) await r.close();
  redis?.disconnect();
  await server?.stop();
});

let seed = 42;
const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);

/** A value of one of the kinds a key can hold: rows of the expected width or another, text, garbage, huge. */
function randomValue(width: number): string {
  const kind = rand(10);
  const number = () => [0, -0.5, rand(1e6) / 7, 1e21 * rand(9), rand(100), -rand(1e9) / 1e3, 0.1 + 0.2][rand(7)];
  const row = (w: number) => encodeFeatureValue(Date.now() - rand(1e6), Array.from({ length: w }, () => (rand(5) === 0 ? null : number())));
  if (kind < 6) return row(width);
  if (kind === 6) return row(width + 1);
  if (kind === 7) return ['', 'ü😀', '[1,2', 'null', '[1, 2]', `[${rand(9)},"x"]`][rand(6)];
  if (kind === 8) return `[${Date.now()}${',1.5'.repeat(width)}]${' '.repeat(rand(3))}`;
  return encodeFeatureValue(rand(1e9), Array.from({ length: width }, () => Math.PI / (1 + rand(9)))); // 17-digit numbers
}

/** Random reads over `parts` of `prefixes`, some entities missing, some reads empty. */
function randomReads(prefixes: string[], parts: string[], widths: number[]): PrefixedRead[] {
  return prefixes.map((prefix, r) => {
    const n = rand(4) === 0 ? 0 : 1 + rand(60);
    const ps = Array.from({ length: n }, () => (rand(8) === 0 ? `missing${rand(1000)}` : parts[rand(parts.length)]));
    return { prefix, parts: ps, entities: ps.map((p) => [p]), width: widths[r], rows: new Array<FeatureRow | undefined>(n) };
  });
}

/** What the reference path reads: iovalkey's MGET as strings, decoded as text. */
async function reference(first: string, reads: readonly PrefixedRead[]): Promise<{ first: string | null; rows: Array<Array<FeatureRow | undefined>> }> {
  const keys = [first, ...reads.flatMap((r) => r.parts.map((p) => r.prefix + p))];
  const values = (await redis.mget(keys)) as Array<string | null>;
  let at = 1;
  return { first: values[0], rows: reads.map((r) => r.parts.map(() => decodeFeatureValue(values[at++], r.width))) };
}

/** Keys under two prefixes (one beyond ASCII), entity parts beyond ASCII too, random values; one huge value. */
async function fillRandom(project: string): Promise<{ first: string; prefixes: string[]; parts: string[]; widths: number[] }> {
  const prefixes = [`ls:${project}:a:v1:`, `ls:${project}:ü😀:v2:`, `ls:${project}:c:v1:`];
  const widths = [3, 1, 8];
  const parts = Array.from({ length: 200 }, (_, i) => (i % 13 === 0 ? `é${i}|😀` : String(i)));
  const first = `ls:${project}:_published`;
  const pipe = redis.pipeline();
  pipe.set(first, JSON.stringify({ 'a:1': 1, 'ü:2': 2 }));
  for (const [r, prefix] of prefixes.entries()) for (const part of parts) if (rand(10) > 0) pipe.set(prefix + part, randomValue(widths[r]));
  pipe.del(prefixes[0] + parts[5]).rpush(prefixes[0] + parts[5], 'a list, not a string');
  // Longer than the 64 KiB read buffer: split across chunks whatever the socket does.
  pipe.set(prefixes[2] + parts[7], encodeFeatureValue(1, Array.from({ length: 8 }, (_, i) => i)) + ' '.repeat(200_000));
  pipe.set(prefixes[2] + parts[8], encodeFeatureValue(1, Array.from({ length: 8 }, (_, i) => i / 3)));
  await pipe.exec();
  return { first, prefixes, parts, widths };
}

/** Run `test` with a reader connected through a fresh {@link TcpProxy}. */
async function throughProxy(test: (proxy: TcpProxy, r: RespReader) => Promise<void>): Promise<void> {
  const proxy = await new TcpProxy(server.port).listen();
  try {
    await test(proxy, reader({ port: proxy.port }));
  } finally {
    await proxy.close();
  }
}

/** One read of `parts` under `prefix`, rows to fill. */
const oneRead = (prefix: string, parts: string[], width: number): PrefixedRead[] => [{ prefix, parts, entities: [], width, rows: [] }];

describe.skipIf(!haveRedis)('RespReader', () => {
  it('reads what the reference reads: random keys and values, non-ASCII keys, nulls, a list key, a value over 64 KiB', async () => {
    const { first, prefixes, parts, widths } = await fillRandom('rand');
    const r = reader();
    for (let round = 0; round < 30; round++) {
      const reads = randomReads(prefixes, parts, widths);
      if (round % 3 === 0) reads[2].parts = [...reads[2].parts, parts[7], parts[8]];
      for (const read of reads) read.rows = new Array(read.parts.length);
      const text = await r.mget(first, reads);
      const want = await reference(first, reads);
      expect(text).toBe(want.first);
      expect(reads.map((read) => read.rows)).toEqual(want.rows);
    }
  });

  it('pipelines concurrent reads and matches each reply to its read', async () => {
    const { first, prefixes, parts, widths } = await fillRandom('conc');
    const r = reader();
    const batches = Array.from({ length: 40 }, () => randomReads(prefixes, parts, widths));
    const texts = await Promise.all(batches.map((reads) => r.mget(first, reads)));
    for (const [i, reads] of batches.entries()) {
      const want = await reference(first, reads);
      expect(texts[i]).toBe(want.first);
      expect(reads.map((read) => read.rows)).toEqual(want.rows);
    }
  });

  it('parses replies split at every byte boundary, and byte by byte', async () => {
    await redis.mset('ls:split:_published', '{"ü":1}', 'ls:split:k1', '[5,1.5,null]', 'ls:split:k3', 'not a row');
    await throughProxy(async (proxy, r) => {
      const read = async () => {
        const reads: PrefixedRead[] = oneRead('ls:split:', ['k1', 'k2', 'k3'], 2);
        const text = await r.mget('ls:split:_published', reads);
        return { text, rows: reads[0].rows };
      };
      const want = { text: '{"ü":1}', rows: [{ eventTimeMs: 5, values: [1.5, null] }, undefined, undefined] };
      let length = 0;
      proxy.deliver = (chunk, client) => {
        length = chunk.length;
        client.write(chunk);
      };
      expect(await read()).toEqual(want);
      expect(length).toBeGreaterThan(40);
      for (let at = 1; at < length; at++) {
        proxy.deliver = (chunk, client) => {
          client.write(chunk.subarray(0, at));
          setTimeout(() => client.write(chunk.subarray(at)), 1);
        };
        expect(await read()).toEqual(want);
      }
      proxy.deliver = (chunk, client) => {
        let i = 0;
        const next = () => {
          if (i < chunk.length) client.write(chunk.subarray(i, ++i), () => setImmediate(next));
        };
        next();
      };
      expect(await read()).toEqual(want);
    });
  });

  it('fails a read in flight when the server goes away mid-reply, and reconnects for the next', async () => {
    await redis.mset('ls:cut:_published', '{}', 'ls:cut:k', '[1,2]');
    await throughProxy(async (proxy, r) => {
      const reads = (): PrefixedRead[] => oneRead('ls:cut:', ['k'], 1);
      proxy.deliver = (chunk, client) => {
        client.write(chunk.subarray(0, chunk.length >> 1));
        setTimeout(() => client.destroy(), 5);
      };
      const failed = await r.mget('ls:cut:_published', reads()).catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(StoreError);
      expect((failed as StoreError).message).toMatch(/^RESP: /);
      proxy.deliver = (chunk, client) => client.write(chunk);
      const again = reads();
      expect(await r.mget('ls:cut:_published', again)).toBe('{}');
      expect(again[0].rows).toEqual([{ eventTimeMs: 1, values: [2] }]);
    });
  });

  it('drops the connection on a reply that is not an MGET answer', async () => {
    await throughProxy(async (proxy, r) => {
      proxy.deliver = (_chunk, client) => client.write('+OK\r\n');
      const err = await r.mget('x', []).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).message).toMatch(/unexpected reply type "\+".*connection dropped/);
    });
  });

  it('gives up waiting on abort; the late reply is consumed in order and later reads are right', async () => {
    await redis.mset('ls:slow:_published', '{}', 'ls:slow:k', '[1,2]');
    await throughProxy(async (proxy, r) => {
      const reads = (): PrefixedRead[] => oneRead('ls:slow:', ['k', 'j'], 1);
      proxy.deliver = (chunk, client) => setTimeout(() => client.write(chunk), 50);
      const err = await r.mget('ls:slow:_published', reads(), AbortSignal.timeout(5)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).code).toBe('STORE_TIMEOUT');
      const next = reads();
      expect(await r.mget('ls:slow:_published', next)).toBe('{}');
      expect(next[0].rows).toEqual([{ eventTimeMs: 1, values: [2] }, undefined]);
    });
  });

  it("passes the server's refusal as a StoreError with the reply as cause, and keeps the connection in step", async () => {
    await redis.call('ACL', 'SETUSER', 'no-mget', 'on', '>secret', '~*', '+@all', '-mget');
    await redis.set('ls:acl:_published', '{}');
    const r = reader({ port: server.port, username: 'no-mget', password: 'secret' });
    for (let i = 0; i < 2; i++) {
      const err = await r.mget('ls:acl:_published', []).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).message).toMatch(/^RESP: MGET refused by the server: NOPERM/);
      expect(((err as StoreError).cause as Error).name).toBe('ReplyError');
    }
    const bad = reader({ port: server.port, username: 'no-mget', password: 'wrong' });
    const err = await bad.mget('ls:acl:_published', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(/set-up \(AUTH\/SELECT\) refused by the server: WRONGPASS/);
  });

  it('reads from the configured db (SELECT first)', async () => {
    const db5 = new Redis(server.url, { db: 5 });
    await db5.mset('ls:db:_published', 'in db 5', 'ls:db:k', '[3,4]');
    db5.disconnect();
    const reads: PrefixedRead[] = oneRead('ls:db:', ['k'], 1);
    expect(await reader({ port: server.port, db: 5 }).mget('ls:db:_published', reads)).toBe('in db 5');
    expect(reads[0].rows).toEqual([{ eventTimeMs: 3, values: [4] }]);
  });

  it('fails reads while the server is down (no hang) and reads again after it restarted', async () => {
    const r = reader();
    const reads = (): PrefixedRead[] => oneRead('ls:restart:', ['k'], 1);
    await redis.set('ls:restart:k', '[1,1]');
    await r.mget('ls:restart:_published', reads());
    await server.stop();
    const err = await r.mget('ls:restart:_published', reads()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    await server.restart();
    await redis.set('ls:restart:k', '[2,2]');
    const after = reads();
    expect(await r.mget('ls:restart:_published', after)).toBe(null);
    expect(after[0].rows).toEqual([{ eventTimeMs: 2, values: [2] }]);
  });
});

function makeView(name: string, width: number, joinKeys: string[]): FeatureViewSpec {
  const base = {
    name,
    entity: joinKeys.join('_'),
    joinKeys,
    features: Array.from({ length: width }, (_, i) => ({ name: `f${i}`, dtype: 'float64' as const, default: 0 })),
    ttlSeconds: 3600,
    lagSeconds: 0,
    intervalSeconds: 3600,
  };
  return { ...base, schemaHash: featureViewSchemaHash(base) };
}

describe.skipIf(!haveRedis)('ValkeyStore fastReads', () => {
  it('reads the same rows as the iovalkey path (fastReads: false), across a publication', async () => {
    const fast = new ValkeyStore({ url: server.url });
    const ref = new ValkeyStore({ url: server.url, fastReads: false });
    try {
      const users = makeView('users', 3, ['user_id']);
      const pairs = makeView('pairs', 2, ['user_id', 'category']);
      const project = 'fastreads';
      const now = Date.now();
      for (let run = 0; run < 2; run++) {
        const version = await fast.allocateVersion(project);
        await fast.writeRows(users, Array.from({ length: 300 }, (_, i) => ({ entity: [i], eventTimeMs: now - i, values: [i / 7 + run, i % 3 ? null : i, -i * 1e-9] })), { project, version });
        await fast.writeRows(pairs, Array.from({ length: 300 }, (_, i) => ({ entity: [i, ['a', 'ü|%', '😀'][i % 3]], eventTimeMs: now, values: [run, i] })), { project, version });
        await fast.publish([{ view: users, version, watermark: { version, asOfMs: now } }, { view: pairs, version, watermark: { version, asOfMs: now } }], { project });
        for (let round = 0; round < 20; round++) {
          const requests = [
            { view: users, entities: Array.from({ length: rand(120) }, () => [rand(330)]) },
            { view: pairs, entities: Array.from({ length: rand(120) }, () => [rand(330), ['a', 'ü|%', '😀', 'b'][rand(4)]]) },
          ];
          expect(await fast.readRows(requests, { project })).toEqual(await ref.readRows(requests, { project }));
        }
      }
    } finally {
      await fast.close();
      await ref.close();
    }
  });
});
