/**
 * The three online store legs the contract tests and benchmarks run: `memory` (always), `resp` (ValkeyStore
 * against a real redis-server) and `http` (UpstashStore → a real `lockstep gateway` → the same redis-server).
 *
 * ```ts
 * const { haveRedis, servers } = useStoreServers();   // started before the file's tests, stopped after
 * const store = openStoreLeg('http', servers);
 * ```
 *
 * @module
 */
import { MemoryStore, UpstashStore, type OnlineStoreCore } from '@lockstep/sdk';
import { ValkeyStore } from '@lockstep/sdk/node';
import { startGateway, type RunningGateway } from '@lockstep/offline';
import { afterAll, beforeAll } from 'vitest';
import { requireBinary, startRedisServer, type RedisServer } from './redis-server.ts';

export type StoreLeg = 'memory' | 'resp' | 'http';
export const STORE_LEGS: readonly StoreLeg[] = ['memory', 'resp', 'http'];

/** A redis-server and a gateway in front of it. */
export interface StoreServers {
  redis: RedisServer;
  gateway: RunningGateway;
  /** The gateway's bearer token. */
  token: string;
  stop(): Promise<void>;
}

/** Start redis-server and the gateway; null (with a message) when redis-server is absent outside CI. */
export async function startStoreServers(): Promise<StoreServers | null> {
  const redis = await startRedisServer();
  if (!redis) return null;
  const token = `test-token-${Math.random().toString(36).slice(2)}`;
  const gateway = await startGateway({ port: 0, redisUrl: redis.url, token });
  return {
    redis,
    gateway,
    token,
    async stop() {
      await gateway.close();
      await redis.stop();
    },
  };
}

/**
 * For a test file: start redis-server and the gateway before its tests and stop them after. `haveRedis` is false
 * (after a message saying why) when redis-server is absent outside CI; in CI a missing binary fails the run.
 */
export function useStoreServers(): { haveRedis: boolean; servers: () => StoreServers } {
  const haveRedis = requireBinary('redis-server');
  let running: StoreServers | null = null;
  beforeAll(async () => {
    if (haveRedis) running = await startStoreServers();
  });
  afterAll(async () => {
    await running?.stop();
  });
  return {
    haveRedis,
    servers: () => {
      if (!running) throw new Error('redis-server and the gateway are not running (is redis-server installed?)');
      return running;
    },
  };
}

/**
 * Open a store of the given leg (`resp` and `http` ask for the servers). Memory stores see the data of
 * `sameDataAs` when given (each server-backed store sees the server's data anyway).
 */
export function openStoreLeg(leg: StoreLeg, getServers: () => StoreServers, options: { sameDataAs?: OnlineStoreCore } = {}): OnlineStoreCore {
  if (leg === 'memory') return options.sameDataAs instanceof MemoryStore ? options.sameDataAs.connect() : new MemoryStore();
  const servers = getServers();
  if (leg === 'resp') return new ValkeyStore({ url: servers.redis.url });
  return new UpstashStore({ url: servers.gateway.url, token: servers.token });
}
