/**
 * The UI's routes through Hono's app.request(), over a local store seeded through the tracking API.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeMlflowServer } from '../tracking/test-support/fake-mlflow-server.ts';
import { seedStore, type SeededStore } from '../tracking/test-support/seed-store.ts';
import { openTracker, type Tracker } from '../tracking/tracker.ts';
import { createUiApp, startUi } from './app.ts';
import { lineChart, niceTicks } from './charts.ts';

let dir: string;
let tracker: Tracker;
let seeded: SeededStore;
let app: ReturnType<typeof createUiApp>;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lockstep-ui-'));
  tracker = await openTracker(path.join(dir, 'store'), { cwd: dir });
  seeded = await seedStore(tracker, dir);
  app = createUiApp(tracker);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const page = async (url: string, status = 200) => {
  const res = await app.request(url);
  expect(res.status, url).toBe(status);
  return res.text();
};

describe('UI pages', () => {
  it('lists experiments and the latest experiment’s runs with params and final metrics, sortable', async () => {
    const body = await page('/');
    expect(body).toContain('<h1>ads-ctr</h1>');
    expect(body).toContain('id="runs-table"');
    expect(body.match(/<tr data-run-id=/g)).toHaveLength(4);
    for (const name of ['lr-sweep', 'lr=0.01', 'lr=0.05', 'lr=0.2']) expect(body).toContain(`>${name}</a>`);
    expect(body).toContain('<th class="param">lr</th>');
    expect(body).toContain('<th class="metric">test_auc</th>');
    expect(body).toMatch(/class="metric num" data-sort="0\.6\d+">0\.6\d+<\/td>/);
    expect(body).toContain('<script src="/static/ui.js" defer></script>');
  });

  it('filters with MLflow syntax and reports a bad filter', async () => {
    const body = await page(`/?experiment=1&filter=${encodeURIComponent("params.lr = '0.05'")}`);
    expect(body.match(/<tr data-run-id=/g)).toHaveLength(1);
    const bad = await page(`/?experiment=1&filter=${encodeURIComponent('metrics.auc >> 1')}`);
    expect(bad).toContain('class="error"');
  });

  it('shows a run: params, lineage, metric charts, artifacts, the report and its registered versions', async () => {
    const body = await page(`/runs/${seeded.championRunId}`);
    expect(body).toContain('<svg class="chart"');
    expect(body).toContain('aria-label="loss"');
    expect(body).toContain('sha256:5f1c0ffee');
    expect(body).toContain(`/artifacts/${seeded.championRunId}/model/model.onnx`);
    expect(body).toContain(`<iframe class="report" title="Training report" sandbox="allow-scripts" src="/artifacts/${seeded.championRunId}/report.html">`);
    expect(body).toMatch(/ads-ctr v\d<\/a> <span class="alias">@champion<\/span>/);
    expect(body).toContain(`href="/runs/${seeded.parentId}"`);
    const report = await app.request(`/artifacts/${seeded.championRunId}/report.html`);
    expect(report.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await report.text()).toContain('Training report');
    expect((await app.request(`/artifacts/${seeded.championRunId}/nope.bin`)).status).toBe(404);
  });

  it('compares runs side by side with overlaid curves', async () => {
    const body = await page(`/compare?runs=${seeded.trialIds.join(',')}`);
    expect(body).toContain('<h1>Compare 3 runs</h1>');
    expect(body).toContain('<tr class="diff"><th>lr</th>');
    expect(body.match(/<path class="series"/g)!.length).toBe(3 * 4); // 3 runs × 4 metrics
    await page('/compare', 400);
  });

  it('shows the registry with versions and aliases', async () => {
    const body = await page('/models');
    expect(body).toContain('id="ads-ctr"');
    expect(body.match(/<tr data-version=/g)).toHaveLength(3);
    expect(body).toContain('<span class="alias">@champion</span>');
    expect(body).toContain('<span class="alias">@challenger</span>');
  });

  it('answers unknown runs and pages with 404', async () => {
    expect(await page('/runs/ffffffffffffffffffffffffffffffff', 404)).toContain('not found');
    await page('/nope', 404);
  });
});

describe('UI JSON API', () => {
  it('serves experiments, runs, a run with histories, comparisons and models', async () => {
    const experiments = (await (await app.request('/api/experiments')).json()) as { experiments: Array<{ name: string }> };
    expect(experiments.experiments.map((e) => e.name)).toEqual(['Default', 'ads-ctr']);
    const runs = (await (await app.request('/api/runs?experiment=1')).json()) as { runs: unknown[] };
    expect(runs.runs).toHaveLength(4);
    const run = (await (await app.request(`/api/runs/${seeded.championRunId}`)).json()) as { histories: Record<string, unknown[]>; report: string };
    expect(run.histories.loss).toHaveLength(6);
    expect(run.report).toBe('report.html');
    const models = (await (await app.request('/api/models')).json()) as { models: Array<{ aliases: Record<string, string> }> };
    expect(Object.keys(models.models[0].aliases).sort()).toEqual(['challenger', 'champion']);
    const bad = await app.request('/api/runs?filter=nonsense');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error_code: string }).error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await app.request('/api/runs/ffffffffffffffffffffffffffffffff')).status).toBe(404);
  });

  it('serves over a real socket', async () => {
    const ui = await startUi(tracker, { port: 0 });
    try {
      const res = await fetch(`${ui.url}/static/ui.css`);
      expect(res.headers.get('content-type')).toContain('text/css');
      expect((await fetch(`${ui.url}/models`)).status).toBe(200);
    } finally {
      await ui.close();
    }
  });
});

describe('UI over an MLflow server', () => {
  it('shows the same pages from the mlflow backend', async () => {
    const server = await startFakeMlflowServer();
    try {
      const remote = await openTracker(server.url, { cwd: dir });
      const ids = await seedStore(remote, path.join(dir, 'remote'));
      const ui = createUiApp(remote);
      const home = await (await ui.request('/')).text();
      expect(home.match(/<tr data-run-id=/g)).toHaveLength(4);
      const runPage = await ui.request(`/runs/${ids.championRunId}`);
      expect(runPage.status).toBe(200);
      expect(await runPage.text()).toContain('aria-label="auc"');
      expect(await (await ui.request(`/artifacts/${ids.championRunId}/report.html`)).text()).toContain('Training report');
      expect(await (await ui.request('/models')).text()).toContain('@champion');
    } finally {
      await server.close();
    }
  });

  it('answers 502 naming the server and why when it cannot be reached', async () => {
    const server = await startFakeMlflowServer();
    const url = server.url;
    await server.close(); // nothing listens there any more
    const ui = createUiApp(await openTracker(url, { cwd: dir, maxRetries: 0 }));
    const logged: unknown[] = [];
    const log = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void logged.push(...a));
    try {
      const page = await ui.request('/');
      expect(page.status).toBe(502);
      expect(await page.text()).toMatch(/could not reach http:\/\/127\.0\.0\.1:\d+: fetch failed \(connect ECONNREFUSED/);
      const api = await ui.request('/api/experiments');
      expect(api.status).toBe(502);
      expect(await api.json()).toMatchObject({ error_code: 'NETWORK_ERROR' });
      // One line per failed request, no stack trace.
      expect(logged).toHaveLength(2);
      expect(logged.every((l) => typeof l === 'string' && l.startsWith('lockstep ui: MLflow '))).toBe(true);
    } finally {
      log.mockRestore();
    }
  });
});

describe('charts', () => {
  it('picks round ticks and draws finite points only', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 3).length).toBeGreaterThan(1);
    const svg = lineChart([{ label: 'a', points: [[0, 1], [1, Number.NaN], [2, 3]] }], { title: 'm' });
    expect(svg.match(/<circle/g)).toHaveLength(2);
    expect(lineChart([{ label: 'a', points: [[0, Number.NaN]] }], { title: 'm' })).toContain('no finite values');
  });
});
