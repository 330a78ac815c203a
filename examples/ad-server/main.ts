/**
 * Runs the ad server:
 *
 * ```
 * npx tsx examples/ad-server/main.ts --bundle <dir> --store <redis://…|http(s)://…> [--token T] [--port 8080]
 *   [--host 127.0.0.1] [--deadline-ms 5] [--model-version V]
 * ```
 *
 * Loads and verifies the bundle, connects to the online store (RESP for `redis://`/`rediss://`, the Upstash REST
 * protocol for `http(s)://`, e.g. `lockstep gateway`), warms up (connection and publication pointer) before
 * listening, prints one line when it listens, and closes the server, scorer and store on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { InputError, LockstepError, type OnlineStore } from '@lockstep/sdk';
import { UpstashStore, ValkeyStore, createScorer } from '@lockstep/sdk/node';
import { createAdServer } from './app.ts';

const USAGE = 'usage: main.ts --bundle <dir> --store <redis://…|http(s)://…> [--token T] [--port 8080] [--host 127.0.0.1] [--deadline-ms 5] [--model-version V] [--grace-ms 5000]';

function numberOption(value: string, name: string, ok: (n: number) => boolean): number {
  const n = Number(value);
  if (value.trim() === '' || !ok(n)) throw new InputError(`--${name} must be a valid number, got "${value}"`, name);
  return n;
}

/** A store URL without credentials, for the log line. */
function where(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

/** The store for a URL: RESP for redis(s)://, Upstash REST (token required) for http(s)://. */
function openStore(url: string, token: string | undefined): OnlineStore {
  if (/^rediss?:\/\//i.test(url)) return new ValkeyStore({ url });
  if (/^https?:\/\//i.test(url)) {
    if (!token) throw new InputError('an http(s):// store needs a token: pass --token or set LOCKSTEP_STORE_TOKEN', 'token');
    return new UpstashStore({ url, token });
  }
  throw new InputError(`--store must be a redis://, rediss://, http:// or https:// URL, got "${url}"`, 'store');
}

const OPTIONS = {
  bundle: { type: 'string' },
  store: { type: 'string' },
  token: { type: 'string' },
  port: { type: 'string', default: '8080' },
  host: { type: 'string', default: '127.0.0.1' },
  'deadline-ms': { type: 'string', default: '5' },
  'model-version': { type: 'string' },
  // After SIGINT/SIGTERM, how long requests in flight get before their connections are cut.
  'grace-ms': { type: 'string', default: '5000' },
} as const;

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true }).values;
  } catch (cause) {
    // node:util's own message ("Unknown option '--bogus'") plus what the options are.
    throw new InputError(`${(cause as Error).message}\n${USAGE}`, 'argv', { cause });
  }
}

async function main(argv: string[]): Promise<void> {
  const values = parse(argv);
  if (!values.bundle) throw new InputError(`--bundle is required\n${USAGE}`, 'bundle');
  const storeUrl = values.store ?? process.env.LOCKSTEP_STORE_URL;
  if (!storeUrl) throw new InputError(`--store is required (or LOCKSTEP_STORE_URL)\n${USAGE}`, 'store');
  const port = numberOption(values.port, 'port', (n) => Number.isInteger(n) && n >= 0 && n < 65536);
  const deadlineMs = numberOption(values['deadline-ms'], 'deadline-ms', (n) => n > 0);
  const graceMs = numberOption(values['grace-ms'], 'grace-ms', (n) => n >= 0);

  const store = openStore(storeUrl, values.token ?? process.env.LOCKSTEP_STORE_TOKEN);
  let scorer;
  try {
    scorer = await createScorer({ bundle: values.bundle, store, deadlineMs });
    // Without it the first requests open the connection and read the pointer inside their deadline (degraded).
    await scorer.warmup();
  } catch (err) {
    await scorer?.close();
    await store.close();
    throw err;
  }

  const app = createAdServer({
    scorer,
    modelVersion: values['model-version'],
    onError: (err) => console.error('ad-server:', err),
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: values.host, port }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const host = values.host.includes(':') ? `[${values.host}]` : values.host;
  console.log(`ad-server listening on http://${host}:${bound} (model ${scorer.model.name} ${scorer.model.id.slice(0, 12)}, ${scorer.model.family} via ${scorer.model.backend}; store ${where(storeUrl)})`);

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    // Stop accepting, let requests in flight finish, then free the engine and the store connection. Idle
    // keep-alive connections are closed at once; after a grace period (a client that stalls mid-request, or one
    // that keeps sending on its connection) the rest are cut, so a shutdown cannot be held off indefinitely.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // serve() without createServer options makes a node:http server.
    const http = server as import('node:http').Server;
    http.closeIdleConnections();
    const grace = setTimeout(() => http.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(grace);
    await scorer.close();
    await store.close();
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof LockstepError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
