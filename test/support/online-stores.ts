/**
 * The three online store legs the contract tests and benchmarks run: `memory` (always), `resp` (ValkeyStore
 * against a real redis-server) and `http` (UpstashStore → a real `lockstep gateway` → the same redis-server).
 *
 * ```ts
 * const servers = await startStoreServers();     // null when redis-server is absent (throws in CI)
 * const store = await openStoreLeg('http', servers);
 * ...
 * await servers?.stop();
 * ```
 *
 * @module
 */
import { MemoryStore, UpstashStore, type OnlineStoreCore } from '@lockstep/sdk';
import { ValkeyStore } from '@lockstep/sdk/node';
import { startGateway, type RunningGateway } from '@lockstep/offline';
import { startRedisServer, type RedisServer } from './redis-server.ts';

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
 * Open a store of the given leg (`resp` and `http` need the servers). Memory stores see the data of
 * `sameDataAs` when given (each server-backed store sees the server's data anyway).
 */
export function openStoreLeg(leg: StoreLeg, servers: StoreServers | null, options: { sameDataAs?: OnlineStoreCore } = {}): OnlineStoreCore {
  if (leg === 'memory') return options.sameDataAs instanceof MemoryStore ? options.sameDataAs.connect() : new MemoryStore();
  if (!servers) throw new Error(`the ${leg} leg needs redis-server`);
  if (leg === 'resp') return new ValkeyStore({ url: servers.redis.url });
  return new UpstashStore({ url: servers.gateway.url, token: servers.token });
}
