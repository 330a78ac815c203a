/** `lockstep gateway` as a user runs it: a real process, a real port, a real redis-server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { requireBinary, startRedisServer, type RedisServer } from './support/redis-server.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

function lockstep(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'packages/offline/src/cli/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, LOCKSTEP_GATEWAY_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): { out: () => string; err: () => string; exit: Promise<number | null> } {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { out: () => out, err: () => err, exit };
}

describe.skipIf(!requireBinary('redis-server'))('lockstep gateway (CLI)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = (await startRedisServer())!;
  });
  afterAll(() => server?.stop());

  it('lets a script go on after `await gateway.close()` when nothing else keeps it alive', async () => {
    // The idle Redis connection is unref'd; close() used to wait for its 'close' event without holding the event
    // loop, so Node exited first (code 13, "unsettled top-level await") and nothing after the await ran.
    const script = [
      "import { startGateway } from '@lockstep/offline';",
      `const gateway = await startGateway({ port: 0, redisUrl: ${JSON.stringify(server.url)}, token: 't' });`,
      "const answer = await fetch(gateway.url, { method: 'POST', headers: { authorization: 'Bearer t' }, body: '[\"ping\"]' });",
      'await answer.text();',
      'await gateway.close();',
      "console.log('after close');",
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const run = collect(child);
    expect(await run.exit).toBe(0);
    expect(run.out()).toBe('after close\n');
  });

  it('refuses to start without a token', async () => {
    const run = collect(lockstep(['gateway', '--port', '0', '--redis-url', server.url]));
    expect(await run.exit).toBe(1);
    expect(run.err()).toMatch(/INVALID_INPUT: no token: pass --token/);
  });

  it('serves with the token from LOCKSTEP_GATEWAY_TOKEN and stops on SIGTERM', async () => {
    const child = lockstep(['gateway', '--port', '0', '--redis-url', server.url], { LOCKSTEP_GATEWAY_TOKEN: 'cli-token' });
    const run = collect(child);
    const deadline = Date.now() + 30_000;
    while (!run.out().includes('http://') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const url = run.out().trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ok = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer cli-token' }, body: '["ping"]' });
    expect(await ok.json()).toEqual({ result: 'PONG' });
    const denied = await fetch(url, { method: 'POST', body: '["ping"]' });
    expect(denied.status).toBe(401);
    child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.err()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ → redis:\/\/127\.0\.0\.1/);
  });
});

describe('lockstep gateway (CLI) without Redis', () => {
  it('exits 1 when it cannot listen, even while Redis is unreachable (its reconnects do not keep it alive)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const runs = ['lockstep', 'iovalkey'].map((client) =>
        collect(lockstep(['gateway', '--port', String(port), '--token', 'sometoken123456', '--redis-url', 'redis://127.0.0.1:1', '--redis-client', client])),
      );
      for (const run of runs) {
        expect(await run.exit).toBe(1);
        expect(run.err()).toContain(`lockstep: EADDRINUSE: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
      }
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  }, 30_000);
});
