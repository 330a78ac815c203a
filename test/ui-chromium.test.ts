/**
 * `lockstep ui` in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): the runs table,
 * sorting, selecting runs to compare, a metric chart and the registry render. Screenshots go to test-output/.
 * Skipped when Chromium is absent, except under CI=true, where it must run.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { openTracker } from '@lockstep/offline';
import { startUi } from '../packages/offline/src/ui/app.ts';
import { seedStore, type SeededStore } from '../packages/offline/src/tracking/test-support/seed-store.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const OUTPUT = path.join(import.meta.dirname, '..', 'test-output');
const available = existsSync(CHROMIUM);
if (!available && process.env.CI !== 'true') console.warn(`ui-chromium: skipped, ${CHROMIUM} not found (apt-get install -y chromium)`);

describe.skipIf(!available && process.env.CI !== 'true')('lockstep ui in headless Chromium', () => {
  let dir: string;
  let ui: { url: string; close: () => Promise<void> };
  let browser: Browser;
  let seeded: SeededStore;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lockstep-ui-chromium-'));
    const tracker = await openTracker(path.join(dir, 'store'), { cwd: dir });
    seeded = await seedStore(tracker, dir);
    ui = await startUi(tracker, { port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    await fs.mkdir(OUTPUT, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await ui?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('renders runs, sorts them, compares two, draws charts and shows the registry', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

    await page.goto(`${ui.url}/`);
    const rows = page.locator('#runs-table tbody tr');
    expect(await rows.count()).toBe(4);
    expect(await page.locator('#runs-table thead th.metric').allTextContents()).toEqual(['auc', 'loss', 'test_auc', 'test_logloss']);

    // Sorting by a metric column happens in the page (ui.js), missing values last.
    const aucHeader = page.locator('#runs-table thead th.metric', { hasText: /^test_auc$/ });
    await aucHeader.click();
    const runNames = () => page.locator('#runs-table tbody tr td:nth-child(2) a').allTextContents();
    expect(await runNames()).toEqual(['lr=0.01', 'lr=0.05', 'lr=0.2', 'lr-sweep']);
    await aucHeader.click();
    expect(await aucHeader.getAttribute('aria-sort')).toBe('descending');
    expect(await runNames()).toEqual(['lr=0.2', 'lr=0.05', 'lr=0.01', 'lr-sweep']);
    await page.screenshot({ path: path.join(OUTPUT, 'ui.png'), fullPage: true });

    // Select two trials and compare them: overlaid curves, two series per chart.
    expect(await page.locator('#compare').isDisabled()).toBe(true);
    for (const id of seeded.trialIds.slice(0, 2)) await page.locator(`input.select-run[value="${id}"]`).check();
    await page.locator('#compare').click();
    await page.waitForURL(/\/compare\?runs=/);
    expect(await page.locator('h1').textContent()).toBe('Compare 2 runs');
    const lossChart = page.locator('svg.chart[aria-label="loss"]');
    expect(await lossChart.locator('path.series').count()).toBe(2);
    await page.screenshot({ path: path.join(OUTPUT, 'ui-compare.png'), fullPage: true });

    // A run page: its curves are drawn with a real size, and the report is embedded.
    await page.goto(`${ui.url}/runs/${seeded.championRunId}`);
    const chart = page.locator('svg.chart[aria-label="auc"]');
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(150);
    expect(await chart.locator('circle').count()).toBe(6);
    const report = page.frameLocator('iframe.report');
    expect(await report.locator('h1').textContent()).toContain('Training report');
    await page.screenshot({ path: path.join(OUTPUT, 'ui-run.png'), fullPage: true });
    // The sandboxed report frame renders in its own process, which full-page shots leave blank: shoot it in view.
    await page.locator('iframe.report').scrollIntoViewIfNeeded();
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(OUTPUT, 'ui-run-report.png') });

    // The registry: three versions, champion and challenger aliases.
    await page.goto(`${ui.url}/models`);
    expect(await page.locator('tr[data-version]').count()).toBe(3);
    expect(await page.locator('section#ads-ctr h2 .alias').allTextContents()).toEqual(['@challenger → v2', '@champion → v3']);
    await page.screenshot({ path: path.join(OUTPUT, 'ui-models.png'), fullPage: true });

    expect(errors).toEqual([]);
    await page.close();
  });
});
