/**
 * ValkeyStore's errors when the server cannot be reached: they name the server (password masked) and why, where
 * iovalkey alone says only "Reached the max retries per request limit". No server needed: a port nobody listens on,
 * or one that accepts connections and never answers.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../errors.ts';
import { ValkeyStore } from './valkey-store.ts';

/** A loopback port that was free a moment ago (and is closed now). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('ValkeyStore without a server', () => {
  it('fails commands with a StoreError naming the URL and the connection error', async () => {
    const port = await closedPort();
    const store = new ValkeyStore({ url: `redis://user:secret@127.0.0.1:${port}` });
    try {
      // A command over iovalkey (feature reads have a connection of their own, below).
      const err = await store.allocateVersion('ads').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toBe(`RESP: not connected to redis://***@127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port})`);
      expect((err as Error).message).not.toContain('secret');
    } finally {
      await store.close();
    }
  });

  it('refuses a URL it cannot parse with a StoreError naming it', () => {
    expect(() => new ValkeyStore({ url: 'redis://[zz' })).toThrow(new StoreError('ValkeyStore: redis://[zz is not a valid URL'));
  });

  it('fails feature reads at once, over their own connection: no back-off between attempts', async () => {
    const port = await closedPort();
    const store = new ValkeyStore({ url: `redis://127.0.0.1:${port}` });
    const view = { name: 'ads', schemaHash: 'h', features: [{ name: 'ctr', dtype: 'float64' as const, default: null }] };
    try {
      const ms: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        // The first read of a project loads its publication pointer: the read that iovalkey used to retry.
        const err = await store.readRows([{ view, entities: [[1]] }], { project: 'p' }).catch((e: unknown) => e);
        ms.push(performance.now() - t0);
        expect(err).toBeInstanceOf(StoreError);
        expect((err as Error).message).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
      }
      // iovalkey's back-off made these 60, 250, 450, 650, 850 ms; a refused connect on loopback takes ~1 ms.
      expect(ms.sort((a, b) => a - b)[2]).toBeLessThan(40);
    } finally {
      await store.close();
    }
  });

  it('fails a command or a read a server takes and never answers with STORE_TIMEOUT, instead of hanging; close does not hang', async () => {
    // A server that accepts connections and reads, but never writes a byte back.
    const sockets: import('node:net').Socket[] = [];
    /** The server side of the connections that were sent an MGET (the store's feature reads). */
    const readers = new Set<import('node:net').Socket>();
    const silent = createServer((socket) => void sockets.push(socket.on('data', (b: Buffer) => void (b.includes('MGET') && readers.add(socket)))));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const store = new ValkeyStore({ url: `redis://127.0.0.1:${port}`, redisOptions: { commandTimeout: 300 } });
    try {
      const t0 = performance.now();
      const err = await store.tryLock('ads', 'me', 1000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: 'STORE_TIMEOUT', message: `RESP redis://127.0.0.1:${port}: no answer within 300 ms` });
      expect(performance.now() - t0).toBeLessThan(3000);
      // Feature reads go over a connection of the store's own: the same bound, and a read whose caller stopped
      // waiting (its deadline) is not held forever either: the connection is dropped, the next read opens another.
      const view = { name: 'ads', schemaHash: 'h', features: [{ name: 'ctr', dtype: 'float64' as const, default: null }] };
      const read = () => store.readRows([{ view, entities: [[1]] }], { project: 'p' });
      const t2 = performance.now();
      expect(await read().catch((e: unknown) => e)).toMatchObject({ code: 'STORE_TIMEOUT', message: `RESP reader 127.0.0.1:${port}: no answer within 300 ms (connection dropped)` });
      expect(performance.now() - t2).toBeLessThan(3000);
      const late = await store.readRows([{ view, entities: [[2]] }], { project: 'p', signal: AbortSignal.timeout(20) }).catch((e: unknown) => e);
      expect(late).toMatchObject({ code: 'STORE_TIMEOUT' });
      await new Promise((r) => setTimeout(r, 500));
      // Every connection the reads were sent on has been dropped by the client (the late read's too).
      expect(readers.size).toBeGreaterThanOrEqual(2);
      expect([...readers].filter((socket) => !socket.closed)).toEqual([]);
      const t1 = performance.now();
      await store.close();
      expect(performance.now() - t1).toBeLessThan(1500);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
