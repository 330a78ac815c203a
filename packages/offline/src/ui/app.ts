/**
 * `lockstep ui`: a Hono app over a {@link Tracker} (the local store by default). HTML pages for people, the same
 * data as JSON under /api/ for scripts. No front-end build: server-rendered HTML, inline SVG charts, one small
 * script and one stylesheet served from this folder.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { MlflowError, TrackingError } from '@lockstep/sdk';
import type { Tracker } from '../tracking/tracker.ts';
import type { ArtifactEntry, Metric, RunRecord } from '../tracking/types.ts';
import { comparePage, errorPage, modelsPage, runPage, runsPage } from './pages.ts';

const STATIC: Record<string, { type: string; body: string }> = {
  'ui.css': { type: 'text/css; charset=utf-8', body: readFileSync(path.join(import.meta.dirname, 'static', 'ui.css'), 'utf8') },
  'ui.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(path.join(import.meta.dirname, 'static', 'ui.js'), 'utf8') },
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.yaml': 'text/plain; charset=utf-8',
  '.yml': 'text/plain; charset=utf-8',
};

/** Artifact names taken as the training report, best first. */
const REPORT_NAMES = ['report.html', 'training-report.html', 'report/index.html', 'index.html'];

async function histories(tracker: Tracker, run: RunRecord): Promise<Record<string, Metric[]>> {
  const keys = Object.keys(run.data.metrics);
  const all = await Promise.all(keys.map((k) => tracker.metricHistory(run.info.runId, k)));
  return Object.fromEntries(keys.map((k, i) => [k, all[i]]));
}

function findReport(artifacts: ArtifactEntry[]): string | undefined {
  for (const name of REPORT_NAMES) {
    const hit = artifacts.find((a) => a.path === name) ?? artifacts.find((a) => a.path.endsWith(`/${name}`));
    if (hit) return hit.path;
  }
  return artifacts.find((a) => /report[^/]*\.html?$/i.test(a.path))?.path;
}

function statusOf(err: unknown): 400 | 404 | 500 | 502 {
  if (!(err instanceof TrackingError)) return 500;
  if (err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return 404;
  if (err.errorCode === 'INVALID_PARAMETER_VALUE') return 400;
  // The MLflow server behind the UI did not answer, or failed: its fault, not the UI's (no stack trace to log).
  if (err instanceof MlflowError && (err.status === 0 || err.status >= 500)) return 502;
  return 500;
}

/** Build the UI app over `tracker`. */
export function createUiApp(tracker: Tracker): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    const status = statusOf(err);
    if (status === 500) console.error(err);
    else if (status === 502) console.error(`lockstep ui: ${(err as Error).message}`);
    const message = err instanceof Error ? err.message : String(err);
    if (c.req.path.startsWith('/api/')) return c.json({ error_code: err instanceof TrackingError ? err.errorCode : 'INTERNAL_ERROR', message }, status);
    return c.html(errorPage(status, message), status);
  });
  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ error_code: 'ENDPOINT_NOT_FOUND', message: c.req.path }, 404) : c.html(errorPage(404, `no page ${c.req.path}`), 404)));

  app.get('/static/:file', (c) => {
    const file = STATIC[c.req.param('file')];
    return file ? c.body(file.body, 200, { 'Content-Type': file.type, 'Cache-Control': 'no-cache' }) : c.notFound();
  });

  /** Runs of the chosen experiment (or all), with the chosen filter. */
  async function runsData(c: Context) {
    const experiments = await tracker.listExperiments();
    const counts = await Promise.all(experiments.map((e) => tracker.searchRuns({ experimentIds: [e.experimentId], maxResults: 5000 })));
    const runCounts = Object.fromEntries(experiments.map((e, i) => [e.experimentId, counts[i].length]));
    let selected = c.req.query('experiment');
    if (selected === undefined || (selected !== 'all' && !experiments.some((e) => e.experimentId === selected))) {
      // Default to the experiment with the most recent run: what the user just trained.
      const latest = counts.flat().sort((a, b) => b.info.startTime - a.info.startTime)[0];
      selected = latest?.info.experimentId ?? experiments[0]?.experimentId ?? 'all';
    }
    const filter = c.req.query('filter')?.trim() ?? '';
    let runs: RunRecord[] = [];
    let filterError: string | undefined;
    try {
      runs = await tracker.searchRuns({
        ...(selected === 'all' ? {} : { experimentIds: [selected] }),
        ...(filter ? { filter } : {}),
        maxResults: 5000,
      });
    } catch (err) {
      if (!(err instanceof TrackingError && err.errorCode === 'INVALID_PARAMETER_VALUE')) throw err;
      filterError = err.message;
    }
    return { experiments, selected, filter, runs, runCounts, ...(filterError ? { filterError } : {}) };
  }

  async function runData(runId: string) {
    const run = await tracker.getRun(runId);
    const [experiment, hist, artifacts, models, children] = await Promise.all([
      tracker.backend.getExperiment(run.info.experimentId).catch(() => undefined),
      histories(tracker, run),
      tracker.listArtifactsRecursive(runId),
      tracker.listModels(),
      tracker.childRuns(runId),
    ]);
    const parentId = run.data.tags['mlflow.parentRunId'];
    const parent = parentId ? await tracker.getRun(parentId).catch(() => undefined) : undefined;
    const versions = models.flatMap((m) => m.versions.filter((v) => v.runId === runId));
    const report = findReport(artifacts);
    return {
      run,
      ...(experiment ? { experiment } : {}),
      histories: hist,
      artifacts,
      ...(report ? { report } : {}),
      ...(parent ? { parent } : {}),
      children,
      versions,
    };
  }

  async function compareData(c: Context) {
    const ids = (c.req.query('runs') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (ids.length === 0) throw new TrackingError('INVALID_PARAMETER_VALUE', 'choose runs to compare: /compare?runs=<id>,<id>');
    const runs = await Promise.all(ids.map((id) => tracker.getRun(id)));
    return { runs, histories: await Promise.all(runs.map((r) => histories(tracker, r))) };
  }

  app.get('/', async (c) => c.html(runsPage(await runsData(c))));
  app.get('/runs/:id', async (c) => c.html(runPage(await runData(c.req.param('id')))));
  app.get('/compare', async (c) => c.html(comparePage(await compareData(c))));
  app.get('/models', async (c) => c.html(modelsPage(await tracker.listModels())));

  app.get('/artifacts/:id/*', async (c) => {
    const runId = c.req.param('id');
    const rel = decodeURIComponent(c.req.path.slice(`/artifacts/${runId}/`.length));
    const bytes = await tracker.backend.downloadArtifact(runId, rel);
    const type = CONTENT_TYPES[path.extname(rel).toLowerCase()] ?? 'application/octet-stream';
    // Artifacts are files a training run wrote: show them, but sandboxed away from the UI's origin.
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': type, 'Content-Security-Policy': 'sandbox allow-scripts' });
  });

  // The same data as JSON (metric values as numbers; NaN and ±Infinity as MLflow's strings).
  const json = (c: Context, data: unknown) =>
    c.body(
      JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
      200,
      { 'Content-Type': 'application/json' },
    );
  app.get('/api/experiments', async (c) => json(c, { experiments: await tracker.listExperiments() }));
  app.get('/api/runs', async (c) => {
    const d = await runsData(c);
    if (d.filterError) throw new TrackingError('INVALID_PARAMETER_VALUE', d.filterError);
    return json(c, { experiment: d.selected, runs: d.runs });
  });
  app.get('/api/runs/:id', async (c) => {
    const d = await runData(c.req.param('id'));
    return json(c, d);
  });
  app.get('/api/compare', async (c) => json(c, await compareData(c)));
  app.get('/api/models', async (c) => json(c, { models: await tracker.listModels() }));
  return app;
}

/** Options of {@link startUi}. */
export interface StartUiOptions {
  /** @default 5050 */
  port?: number;
  /** @default '127.0.0.1' (the UI has no auth: keep it on this machine unless you put one in front) */
  host?: string;
}

/** Serve the UI; resolves once it listens, with its URL and a close function. */
export async function startUi(tracker: Tracker, options: StartUiOptions = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const app = createUiApp(tracker);
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 5050 }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
