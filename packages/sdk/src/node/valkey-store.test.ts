/**
 * ValkeyStore's errors when the server cannot be reached: they name the server (password masked) and why, where
 * iovalkey alone says only "Reached the max retries per request limit". No server needed: a port nobody listens on.
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
      const err = await store.publishedVersions('ads').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toBe(`RESP: not connected to redis://***@127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port})`);
      expect((err as Error).message).not.toContain('secret');
    } finally {
      await store.close();
    }
  });
});
