import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect } from 'node:net';
import { freePort, requireBinary, startRedisServer } from './support/redis-server.ts';

/** One RESP command over a fresh socket; resolves with the raw reply line. */
function send(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.endsWith('\r\n')) {
        socket.destroy();
        resolve(reply.trim());
      }
    });
  });
}

describe('test/support/redis-server', () => {
  const ci = process.env.CI;
  afterEach(() => {
    process.env.CI = ci;
    vi.restoreAllMocks();
  });

  it('freePort gives a bindable port', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
  });

  it('requireBinary skips with a message outside CI and throws in CI', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    process.env.CI = 'false';
    expect(requireBinary('lockstep-no-such-binary')).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/skipping tests that need lockstep-no-such-binary/));
    process.env.CI = 'true';
    expect(() => requireBinary('lockstep-no-such-binary')).toThrow(/CI=true/);
    expect(requireBinary('sh')).toBe(true);
  });

  it.skipIf(!requireBinary('redis-server'))('starts, stops and restarts redis-server on the same port', async () => {
    const server = (await startRedisServer())!;
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await send(server.port, 'SET k v')).toBe('+OK');
    await server.stop();
    await expect(send(server.port, 'PING')).rejects.toThrow(/ECONNREFUSED/);
    await server.restart();
    expect(await send(server.port, 'PING')).toBe('+PONG');
    expect(await send(server.port, 'GET k')).toBe('$-1'); // no persistence: a restart starts empty
    await server.stop();
    await server.stop(); // twice is fine
  });
});
