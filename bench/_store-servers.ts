/**
 * Servers for the online store benchmarks: a redis-server on a free port (the test harness) and `lockstep gateway`
 * in front of it in its own process, as it runs in production (in-process, it would share the benchmark's event
 * loop and core).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { startRedisServer } from '../test/support/redis-server.ts';

export interface BenchServers {
  redisUrl: string;
  gatewayUrl: string;
  token: string;
  stop(): Promise<void>;
}

export async function startBenchServers(): Promise<BenchServers> {
  const redis = await startRedisServer();
  if (!redis) throw new Error('redis-server is not installed: apt-get install -y redis-server');
  const token = 'bench-token';
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'packages/offline/src/cli/main.ts', 'gateway', '--port', '0', '--redis-url', redis.url, '--token', token],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const gatewayUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('http://'));
      if (line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`lockstep gateway exited with ${code}`)));
  });
  console.error(`redis at ${redis.url}, gateway at ${gatewayUrl} (own process)`);
  return {
    redisUrl: redis.url,
    gatewayUrl,
    token,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await redis.stop();
    },
  };
}
