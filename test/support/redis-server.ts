/**
 * Shared test harness: a real `redis-server` on a free loopback port, started and stopped by the test itself.
 *
 * ```ts
 * const redis = await startRedisServer();          // null (and a console message) when the binary is absent
 * if (!redis) return;                              // outside CI only: with CI=true a missing binary throws
 * // redis.url  -> 'redis://127.0.0.1:PORT'
 * await redis.stop();                              // simulate an outage (same port stays reserved for restart)
 * await redis.restart();                           // back on the same port, empty (no persistence)
 * await redis.stop();                              // in afterAll
 * ```
 *
 * The server runs with `--save "" --appendonly no` (nothing touches disk) and is killed when the test process
 * exits, even if a test forgets to call `stop()`.
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** A running redis-server owned by the calling test. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  host: string;
  port: number;
  /** Kill the server and wait until it has exited. Safe to call twice. */
  stop(): Promise<void>;
  /** Start the server again on the same port (after `stop()`), waiting until it answers PING. Data is gone. */
  restart(): Promise<void>;
}

/** Options for {@link startRedisServer}. */
export interface StartRedisServerOptions {
  /**
   * Port to listen on.
   * @default a free port chosen by the OS
   */
  port?: number;
  /**
   * Extra `redis-server` arguments, e.g. `['--maxmemory', '10mb']`.
   * @default []
   */
  args?: string[];
  /**
   * How long to wait for the server to answer PING.
   * @default 10000
   */
  timeoutMs?: number;
}

const HOST = '127.0.0.1';

/** True when tests must not skip for a missing binary: CI sets `CI=true`. */
export function inCI(): boolean {
  return process.env.CI === 'true';
}

/** Whether `name` is an executable on PATH. */
export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Check a system binary a test needs. Returns true when it is there; when it is absent, prints why the test
 * skips and returns false, except in CI (`CI=true`) where it throws so the run fails instead of skipping.
 * Use it with vitest's `describe.skipIf(!requireBinary('redis-server'))`.
 */
export function requireBinary(name: string, hint = `install it (Debian: apt-get install -y ${name})`): boolean {
  if (hasBinary(name)) return true;
  const message = `\`${name}\` is not on PATH: ${hint}`;
  if (inCI()) throw new Error(`${message}; CI=true, so tests that need it must run, not skip`);
  console.warn(`skipping tests that need ${name}: ${message}`);
  return false;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it; we release it at once). */
export function freePort(host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Send PING on a fresh connection; resolves true on `+PONG`. */
function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A crashed or forgetful test must not leave servers behind.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * Start a fresh `redis-server` on a free loopback port and wait until it answers PING.
 * Returns null (after printing why) when `redis-server` is not installed and `CI !== 'true'`; throws in CI.
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServer | null> {
  if (!requireBinary('redis-server')) return null;
  killAllOnExit();
  let port = options.port ?? (await freePort());
  const timeoutMs = options.timeoutMs ?? 10_000;
  const args = () => ['--bind', HOST, '--port', String(port), '--save', '', '--appendonly', 'no', ...(options.args ?? [])];
  let child: ChildProcess | null = null;

  async function launch(): Promise<void> {
    let output = '';
    const proc = spawn('redis-server', args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    live.add(proc);
    proc.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    proc.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    let exited = false;
    proc.once('exit', () => {
      exited = true;
      live.delete(proc);
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`redis-server exited during start-up on port ${port}:\n${output}`);
      if (await ping(HOST, port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server did not answer PING on port ${port} within ${timeoutMs} ms:\n${output}`);
  }

  async function stop(): Promise<void> {
    const proc = child as ChildProcess | null;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  }

  // Another process may take the free port between freePort() and redis-server's bind: pick another then.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (options.port !== undefined || attempt >= 3 || !String(err).includes('Address already in use')) throw err;
      port = await freePort();
    }
  }
  return {
    url: `redis://${HOST}:${port}`,
    host: HOST,
    port,
    stop,
    async restart() {
      await stop();
      await launch();
    },
  };
}
