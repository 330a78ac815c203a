/**
 * The MLflow client's HTTP behaviour against real HTTP servers on 127.0.0.1: bounded retries (only what may pass
 * next time), auth headers, typed errors for non-MLflow answers; and log-batch splitting under every limit.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MlflowError } from '@lockstep/sdk';
import { splitLogBatch, MLFLOW_BATCH_LIMITS } from './mlflow-batch.ts';
import { MlflowClient } from './mlflow-client.ts';
import { startFakeMlflowServer, type FakeMlflowServer } from './test-support/fake-mlflow-server.ts';

let server: Server | undefined;
let fake: FakeMlflowServer | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  await fake?.close();
  fake = undefined;
});

/** A server answering the i-th request with `answers[i]` (the last one repeats); records request headers. */
async function scripted(answers: Array<[number, string, Record<string, string>?]>): Promise<{ url: string; seen: IncomingMessage['headers'][] }> {
  const seen: IncomingMessage['headers'][] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.headers);
    const [status, body, headers] = answers[Math.min(seen.length - 1, answers.length - 1)];
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const EXPERIMENT = JSON.stringify({ experiment: { experiment_id: '7', name: 'e' } });

describe('MlflowClient HTTP', () => {
  it('retries gateway errors and 429 (honouring Retry-After), then succeeds', async () => {
    const { url, seen } = await scripted([
      [503, '<html>unavailable</html>'],
      [429, '{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}', { 'Retry-After': '0.05' }],
      [200, EXPERIMENT],
    ]);
    const client = new MlflowClient(url, { retryBaseMs: 1 });
    expect((await client.getExperiment('7')).experimentId).toBe('7');
    expect(seen).toHaveLength(3);
  });

  it('gives up after maxRetries with the last answer as a typed error, and never retries an MLflow error', async () => {
    const { url, seen } = await scripted([[502, 'bad gateway']]);
    const err = (await new MlflowClient(url, { retryBaseMs: 1, maxRetries: 2 }).getExperiment('7').catch((e: unknown) => e)) as MlflowError;
    expect(err).toBeInstanceOf(MlflowError);
    expect([err.status, err.errorCode, err.serverMessage, seen.length]).toEqual([502, 'INTERNAL_ERROR', 'bad gateway', 3]);

    const deterministic = await scripted([[500, '{"error_code":"INTERNAL_ERROR","message":"Changing param values is not allowed."}']]);
    const e2 = (await new MlflowClient(deterministic.url, { retryBaseMs: 1 }).logParam('r', 'k', 'v').catch((e: unknown) => e)) as MlflowError;
    expect([e2.status, e2.errorCode, deterministic.seen.length]).toEqual([500, 'INTERNAL_ERROR', 1]);
  });

  it('reports an unreachable server as NETWORK_ERROR after bounded retries', async () => {
    const { url } = await scripted([[200, '{}']]);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const client = new MlflowClient(url, { retryBaseMs: 1, maxRetries: 2 });
    const err = (await client.getExperiment('1').catch((e: unknown) => e)) as MlflowError;
    expect([err.status, err.errorCode, client.requestCount]).toEqual([0, 'NETWORK_ERROR', 3]);
    expect(err.message).toContain('could not reach');
  });

  it('does not retry a server that takes the request and never answers: one timeout, one NETWORK_ERROR', async () => {
    const seen: IncomingMessage['headers'][] = [];
    server = createServer((req) => void seen.push(req.headers)); // reads the request, never answers
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new MlflowClient(url, { retryBaseMs: 1, maxRetries: 3, timeoutMs: 200 });
    const err = (await client.getExperiment('1').catch((e: unknown) => e)) as MlflowError;
    expect([err.status, err.errorCode, client.requestCount, seen.length]).toEqual([0, 'NETWORK_ERROR', 1, 1]);
    expect(err.message).toContain(`no answer from ${url} within 200 ms`);
    server.closeAllConnections();
  });

  it('sends bearer or basic auth and maps an auth failure to a typed error', async () => {
    const { url, seen } = await scripted([[200, EXPERIMENT]]);
    await new MlflowClient(url, { token: 't0k' }).getExperiment('7');
    const withUser = url.replace('http://', 'http://al%40ice:p%3Ass@');
    await new MlflowClient(withUser, { token: undefined, username: undefined }).getExperiment('7');
    expect(seen[0].authorization).toBe('Bearer t0k');
    expect(seen[1].authorization).toBe(`Basic ${btoa('al@ice:p:ss')}`);
    expect(seen[0]['user-agent']).toBe('lockstep-tracking');

    fake = await startFakeMlflowServer({ authorization: 'Basic dTpw' });
    const denied = (await new MlflowClient(fake.url, { maxRetries: 0 }).createExperiment('x').catch((e: unknown) => e)) as MlflowError;
    expect([denied.status, denied.errorCode]).toEqual([401, 'UNAUTHENTICATED']);
    expect(await new MlflowClient(fake.url, { username: 'u', password: 'p' }).createExperiment('x')).toBe('1');
  });

  it('refuses a non-http URI with a clear error', () => {
    expect(() => new MlflowClient('databricks')).toThrow(/invalid MLflow tracking URI/);
    expect(() => new MlflowClient('ftp://x')).toThrow(/must be http/);
  });
});

describe('log-batch splitting', () => {
  const kv = (p: string, n: number, size = 1) => Array.from({ length: n }, (_, i) => ({ key: `${p}${i}`, value: 'v'.repeat(size) }));
  const metrics = (n: number) => Array.from({ length: n }, (_, i) => ({ key: 'm', value: i, timestamp: 1_700_000_000_000 + i, step: i }));
  const bytes = (x: unknown) => new TextEncoder().encode(JSON.stringify(x)).length;

  it('respects every limit and keeps each kind in order', () => {
    const chunks = splitLogBatch('r', { metrics: metrics(2500), params: kv('p', 250), tags: kv('t', 250) });
    for (const c of chunks) {
      const [m, p, t] = [c.metrics?.length ?? 0, c.params?.length ?? 0, c.tags?.length ?? 0];
      expect(m).toBeLessThanOrEqual(1000);
      expect(p).toBeLessThanOrEqual(100);
      expect(t).toBeLessThanOrEqual(100);
      expect(m + p + t).toBeLessThanOrEqual(1000);
      expect(bytes(c)).toBeLessThanOrEqual(MLFLOW_BATCH_LIMITS.maxBytes);
    }
    expect(chunks.flatMap((c) => c.metrics ?? []).map((m) => m.value)).toEqual(metrics(2500).map((m) => m.value));
    expect(chunks.flatMap((c) => c.params ?? []).map((p) => p.key)).toEqual(kv('p', 250).map((p) => p.key));
    expect(chunks.flatMap((c) => c.tags ?? []).map((p) => p.key)).toEqual(kv('t', 250).map((p) => p.key));
  });

  it('splits on bytes: 1 MB per request, counting UTF-8 bytes', () => {
    // 100 params + 100 tags fit one request by count, not by size (1.4 MB).
    const mixed = splitLogBatch('r', { params: kv('p', 100, 6000), tags: kv('t', 100, 8000) });
    expect(mixed.length).toBe(2);
    // 100 tags of 8000 '€' (3 bytes each): 2.4 MB.
    const euros = splitLogBatch('r', { tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: '€'.repeat(8000) })) });
    expect(euros.length).toBe(3);
    for (const c of [...mixed, ...euros]) expect(bytes(c)).toBeLessThanOrEqual(1_000_000);
    expect(euros.flatMap((c) => c.tags ?? [])).toHaveLength(100);
  });

  it('encodes NaN and ±Infinity as MLflow’s strings and omits an absent step', () => {
    const [c] = splitLogBatch('r', {
      metrics: [
        { key: 'a', value: Number.NaN, timestamp: 1 },
        { key: 'b', value: Infinity, timestamp: 1, step: 2 },
        { key: 'c', value: -Infinity, timestamp: 1, step: 0 },
      ],
    });
    expect(JSON.stringify(c)).toBe(
      '{"run_id":"r","metrics":[{"key":"a","value":"NaN","timestamp":1},{"key":"b","value":"Infinity","timestamp":1,"step":2},{"key":"c","value":"-Infinity","timestamp":1,"step":0}]}',
    );
    expect(splitLogBatch('r', {})).toEqual([]);
  });

  it('logs a batch past every limit to a server that enforces them: nothing lost, no request refused', async () => {
    fake = await startFakeMlflowServer();
    const client = new MlflowClient(fake.url);
    const experimentId = await client.createExperiment('big');
    const { runId } = (await client.createRun({ experimentId })).info;
    const before = fake.requests.length;
    await client.logBatch(runId, { metrics: metrics(2500), params: kv('p', 250, 5000), tags: kv('t', 250, 7000) });
    const sent = fake.requests.slice(before);
    expect(sent.every((r) => r.bytes <= 1_000_000)).toBe(true);
    expect(sent.length).toBeGreaterThanOrEqual(5);
    const run = await client.getRun(runId);
    expect(Object.keys(run.data.params)).toHaveLength(250);
    expect(Object.keys(run.data.tags).filter((k) => k.startsWith('t'))).toHaveLength(250);
    expect((await client.getMetricHistory(runId, 'm')).map((m) => m.value)).toEqual(metrics(2500).map((m) => m.value));
  });
});
