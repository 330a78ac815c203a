/**
 * Serving the gateway app on Node with `@hono/node-server`, owning its Redis connection.
 *
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'iovalkey';
import type { Hono } from 'hono';
import { createGatewayApp, type GatewayAppOptions } from './app.ts';
import { createGatewayListener } from './node-listener.ts';
import { GatewayResp, gatewayRespOptions } from './gateway-resp.ts';
import { connectGatewayRedis, whenReady, type GatewayRedisOptions } from './redis-connection.ts';

/** Options for {@link startGateway}. */
export interface StartGatewayOptions extends Omit<GatewayAppOptions, 'redis'> {
  /**
   * Port to listen on; 0 picks a free one (read it back from `url`).
   * @default 8079
   */
  port?: number;
  /**
   * Interface to listen on. Use `0.0.0.0` to accept connections from other machines.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Redis/Valkey to front, e.g. `redis://127.0.0.1:6379` or `rediss://user:pass@host:6380/0`.
   * @default 'redis://127.0.0.1:6379'
   */
  redisUrl?: string;
  /**
   * Extra iovalkey options (TLS, password, timeouts); see {@link connectGatewayRedis} for the defaults.
   * @default {}
   */
  redisOptions?: GatewayRedisOptions;
  /**
   * How long to wait for Redis before listening anyway. When Redis is not up yet the gateway still starts,
   * answers 503 and connects as soon as Redis appears.
   * @default 5000
   */
  redisWaitMs?: number;
  /**
   * The Redis connection: `'lockstep'`, the gateway's own ({@link GatewayResp}: one write per request,
   * replies transcoded straight to JSON), or `'iovalkey'`, the reference path, which also takes every iovalkey
   * option (`redisOptions` beyond host, port, path, family, tls, username, password, db, connectTimeout,
   * commandTimeout and connectionName need it).
   * @default 'lockstep'
   */
  redisClient?: 'lockstep' | 'iovalkey';
}

/** A running gateway. */
export interface RunningGateway {
  /** Base URL for `@upstash/redis`, e.g. `http://127.0.0.1:8079`. */
  url: string;
  port: number;
  app: Hono;
  /** The Redis connection: the gateway's own, or iovalkey's with `redisClient: 'iovalkey'`. */
  redis: GatewayResp | Redis;
  /** Stop accepting requests, close open connections and the Redis connection. */
  close(): Promise<void>;
}

/** Default port of `lockstep gateway`. */
export const DEFAULT_GATEWAY_PORT = 8079;

/** Start the gateway: connect to Redis, build the app, listen. */
export async function startGateway(options: StartGatewayOptions = {}): Promise<RunningGateway> {
  const host = options.host ?? '127.0.0.1';
  const url = options.redisUrl ?? 'redis://127.0.0.1:6379';
  // Every failed (re)connect reports an error: log one every 5 s at most.
  let lastLogged = 0;
  const logError = (err: Error) => {
    const now = Date.now();
    if (now - lastLogged > 5000) {
      lastLogged = now;
      options.onError?.(err);
    }
  };
  let redis: GatewayResp | Redis;
  if (options.redisClient === 'iovalkey') {
    redis = connectGatewayRedis(url, options.redisOptions);
    // Without an 'error' listener Node would treat iovalkey's connection errors as fatal.
    redis.on('error', logError);
  } else {
    redis = new GatewayResp({ ...gatewayRespOptions(url, options.redisOptions), onError: logError });
  }
  let app: Hono;
  try {
    app = createGatewayApp({ ...options, redis });
  } catch (err) {
    await disconnect(redis);
    throw err;
  }
  const waitMs = options.redisWaitMs ?? 5000;
  await (redis instanceof GatewayResp ? redis.whenReady(waitMs) : whenReady(redis, waitMs)).catch((err: unknown) => options.onError?.(err));

  const server: Server = createServer(createGatewayListener({ ...options, redis }, app));
  // Outlive the idle timeouts of load balancers in front (60 s on common ones), or they meet closed sockets.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? DEFAULT_GATEWAY_PORT, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // Not listening (port taken, no such address): let go of Redis too, or its reconnect attempts keep the process
    // alive after the error.
    await disconnect(redis);
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  return {
    url: `http://${shownHost}:${port}`,
    port,
    app,
    redis,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open until their clients go away.
        server.closeAllConnections();
      });
      await disconnect(redis);
    },
  };
}

async function disconnect(redis: GatewayResp | Redis): Promise<void> {
  if (redis instanceof GatewayResp) await redis.close();
  else await redis.quit().catch(() => redis.disconnect());
}
