/**
 * The SDK in a real browser (Debian's headless Chromium via playwright-core): `@lockstep/sdk/browser` bundled by
 * esbuild, a bundle fetched by URL, verified with WebCrypto, cached in IndexedDB by manifest checksum (a second
 * page load fetches only manifest.json), scores equal to Node's bit for bit.
 * Skipped when Chromium is absent, except under CI=true, where it must run.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { MemoryStore, createScorer, sha256Hex } from '@lockstep/sdk';
import { SMALL_SCORE_FIXTURE, scoreFixture, type ScoreFixture } from './support/score-fixture.ts';
import type { PageInput } from './support/browser-score-page.ts';
import { capturedRows } from './support/memory-store-rows.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const available = existsSync(CHROMIUM);
if (!available && process.env.CI !== 'true') console.warn(`scorer-browser: skipped, ${CHROMIUM} not found (apt-get install -y chromium)`);

describe.skipIf(!available && process.env.CI !== 'true')('scoring in headless Chromium', () => {
  let fx: ScoreFixture;
  let server: Server;
  let origin: string;
  let browser: Browser;
  const requested: string[] = [];
  let views: PageInput['views'];

  beforeAll(async () => {
    fx = await scoreFixture({ family: 'fm', ...SMALL_SCORE_FIXTURE });
    // The fixture's rows, handed to the page's own MemoryStore.
    views = await capturedRows((store) => fx.fill(store));
    const page = await build({
      entryPoints: [new URL('./support/browser-score-page.ts', import.meta.url).pathname],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const script = page.outputFiles[0].contents;
    server = createServer((req, res) => {
      const url = req.url ?? '/';
      requested.push(url);
      if (url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>');
      if (url === '/page.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      const bytes = fx.bundle.get(url.replace('/bundle/', ''));
      if (!bytes) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it('scores like Node, and loads the bundle from IndexedDB the second time', async () => {
    const context = await browser.newContext();
    const input: PageInput = { bundleUrl: `${origin}/bundle/manifest.json`, project: fx.project, views, request: fx.request(3) };
    const run = async () => {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => 'scoreInBrowser' in globalThis);
      const result = await page.evaluate((i) => (globalThis as unknown as { scoreInBrowser: (i: PageInput) => Promise<unknown> }).scoreInBrowser(i), input);
      await page.close();
      expect(errors).toEqual([]);
      return result as { model: { id: string; backend: string; mode: string }; scores: number[]; degraded: boolean };
    };

    requested.length = 0;
    const first = await run();
    expect(requested.filter((u) => u.startsWith('/bundle/'))).toEqual(['/bundle/manifest.json', '/bundle/model.onnx']);
    requested.length = 0;
    const second = await run();
    expect(requested.filter((u) => u.startsWith('/bundle/'))).toEqual(['/bundle/manifest.json']);

    const memory = new MemoryStore();
    await fx.fill(memory);
    const node = await (await createScorer({ bundle: fx.bundle, store: memory })).score(fx.request(3));
    expect(first.model).toMatchObject({ id: await sha256Hex(fx.bundle.get('manifest.json')!), backend: 'builtin', mode: 'fused-fm' });
    expect(first.degraded).toBe(false);
    expect(first.scores).toEqual(node.scores);
    expect(second.scores).toEqual(node.scores);
    await context.close();
  });
});
