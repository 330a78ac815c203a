import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.ts';
import { freePort } from '../../../../test/support/redis-server.ts';
import { NodeHttpRequester } from './http-requester.ts';

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

const servers: http.Server[] = [];
const requesters: NodeHttpRequester[] = [];
afterEach(async () => {
  for (const r of requesters.splice(0)) r.close();
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve).closeAllConnections());
});

/** A real HTTP server on 127.0.0.1 answering with `handler`. */
async function serve(handler: Handler): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => handler(req, body, res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function requester(url: string, options: Partial<ConstructorParameters<typeof NodeHttpRequester>[0]> = {}): NodeHttpRequester {
  const r = new NodeHttpRequester({ url, token: 'tok', ...options });
  requesters.push(r);
  return r;
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

describe('NodeHttpRequester', () => {
  it('POSTs the body as JSON to <url>/<path> with the bearer token and answers the parsed JSON, over one kept-alive connection', async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string; type?: string; body: string; port: number }> = [];
    const url = await serve((req, body, res) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, type: req.headers['content-type'], body, port: req.socket.remotePort! });
      json(res, 200, [{ result: 'OK' }, { result: 'ü' }]);
    });
    const r = requester(`${url}/`);
    for (let i = 0; i < 3; i++) {
      expect(await r.request({ path: ['pipeline'], body: [['SET', 'k', 'ü', 'PX', 5]] })).toEqual([{ result: 'OK' }, { result: 'ü' }]);
    }
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/pipeline', auth: 'Bearer tok', type: 'application/json', body: '[["SET","k","ü","PX",5]]' });
    expect(new Set(seen.map((s) => s.port)).size).toBe(1);
  });

  it('keeps a path prefix of the URL', async () => {
    const url = await serve((req, _body, res) => json(res, 200, { result: req.url }));
    expect(await requester(`${url}/redis/`).request({ path: [], body: ['PING'] })).toEqual({ result: '/redis/' });
  });

  it('rejects an HTTP error with a StoreError quoting the server error, and a body that is not JSON', async () => {
    const url = await serve((req, _body, res) => (req.url === '/pipeline' ? json(res, 401, { error: 'Unauthorized' }) : json(res, 200, '<html>')));
    const r = requester(url);
    const unauthorized = await r.request({ path: ['pipeline'], body: [] }).catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(StoreError);
    expect((unauthorized as StoreError).message).toBe(`Upstash REST ${url}: HTTP 401: Unauthorized`);
    await expect(r.request({ path: [], body: [] })).rejects.toThrow(/HTTP 200, not a JSON answer: <html>/);
  });

  it('times out with STORE_TIMEOUT, and stops at once when the signal aborts', async () => {
    const url = await serve(() => {}); // never answers
    const slow = await requester(url, { timeoutMs: 50 }).request({ body: [] }).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(StoreError);
    expect((slow as StoreError).code).toBe('STORE_TIMEOUT');
    expect((slow as StoreError).message).toMatch(/no answer within 50 ms/);
    const started = Date.now();
    const aborted = await requester(url).request({ body: [], signal: AbortSignal.timeout(30) }).catch((e: unknown) => e);
    expect((aborted as StoreError).code).toBe('STORE_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails fast with a StoreError when nothing listens, after its retries', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const err = await requester(url, { retry: { retries: 2, backoff: () => 10 } }).request({ body: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(/ECONNREFUSED.*\(after 3 tries\)/);
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(requester(url, { retry: false }).request({ body: [] })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('replaces a kept-alive connection the server closed while idle', async () => {
    let sockets = 0;
    const url = await serve((_req, _body, res) => json(res, 200, { result: 1 }));
    servers[0].on('connection', () => sockets++);
    const r = requester(url, { retry: false });
    expect(await r.request({ body: [] })).toEqual({ result: 1 });
    servers[0].closeIdleConnections();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await r.request({ body: [] })).toEqual({ result: 1 });
    expect(sockets).toBe(2);
  });

  it('sends once more on a fresh connection when a reused one is reset before any answer (the idle-close race)', async () => {
    let requests = 0;
    const url = await serve((req, _body, res) => (++requests === 2 ? req.socket.destroy() : json(res, 200, { result: requests })));
    const r = requester(url, { retry: false });
    expect(await r.request({ body: [] })).toEqual({ result: 1 });
    expect(await r.request({ body: [] })).toEqual({ result: 3 });
  });

  it('refuses other URLs and requests after close', async () => {
    expect(() => new NodeHttpRequester({ url: 'redis://127.0.0.1:6379', token: 't' })).toThrow(/http:\/\/ or https:\/\//);
    expect(() => new NodeHttpRequester({ url: 'not a url', token: 't' })).toThrow(StoreError);
    const r = requester('http://127.0.0.1:1');
    r.close();
    await expect(r.request({ body: [] })).rejects.toThrow(/is closed/);
  });
});
