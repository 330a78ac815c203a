/**
 * A small stateful MLflow tracking server (REST API 2.0 subset, in memory) for tests that need a server that
 * remembers: sync, the Tracker on the `mlflow` backend, the batch splitter's limits. Answers follow the recorded
 * exchanges' shapes and messages (MLflow 2.22, sqlite store, artifacts through the mlflow-artifacts proxy), and
 * `fake-mlflow-server.test.ts` checks it against those recordings. It is ours, not MLflow: the contract itself is
 * tested against the recordings (mlflow-contract.test.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { decodeMetricValue, encodeMetricValue, latestOf } from '../metric-values.ts';
import { matchesFilter, parseFilter, parseOrderBy, sortRuns } from '../search-filter.ts';
import type { RunRecord, RunStatus } from '../types.ts';

type KV = { key: string; value: string };
interface WireMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

interface FakeRun {
  info: {
    run_uuid: string;
    experiment_id: string;
    run_name: string;
    user_id: string;
    status: RunStatus;
    start_time: number;
    end_time?: number;
    artifact_uri: string;
    lifecycle_stage: string;
    run_id: string;
  };
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: Map<string, WireMetric[]>;
  inputs: unknown[];
}

interface FakeVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: 'None';
  description: string;
  source: string;
  run_id: string;
  status: 'READY';
  run_link: '';
  tags: KV[];
}

interface FakeModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  tags: KV[];
  aliases: Map<string, string>;
  versions: FakeVersion[];
}

/** Options of {@link startFakeMlflowServer}. */
export interface FakeMlflowOptions {
  /** Cut over-long params and tags like a default server (true) or refuse them like MLFLOW_TRUNCATE_LONG_VALUES=false. @default true */
  truncateLongValues?: boolean;
  /** Require this `Authorization` header value; others get a 401. */
  authorization?: string;
  /**
   * Store artifacts in this local folder (a server started with a local `--default-artifact-root` on this machine):
   * runs get a plain path as artifact_uri and clients write there themselves. @default the mlflow-artifacts proxy
   */
  artifactRoot?: string;
}

export interface FakeMlflowServer {
  url: string;
  /** Every request: method, path and body size, for tests of batching. */
  requests: Array<{ method: string; path: string; bytes: number }>;
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new ApiError(400, 'INVALID_PARAMETER_VALUE', message);
const notFound = (message: string) => new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', message);

/** Build the fake's Hono app (exported for tests that do not need a socket). */
export function createFakeMlflowApp(options: FakeMlflowOptions = {}): Hono {
  const truncate = options.truncateLongValues ?? true;
  const experiments = new Map<string, { experiment_id: string; name: string; artifact_location: string; lifecycle_stage: string; creation_time: number; last_update_time: number; tags: KV[] }>();
  const runs = new Map<string, FakeRun>();
  const artifacts = new Map<string, Uint8Array>();
  const models = new Map<string, FakeModel>();
  let nextExperiment = 0;
  const createExperiment = (name: string, tags: KV[] = []) => {
    const id = String(nextExperiment++);
    const now = Date.now();
    experiments.set(id, { experiment_id: id, name, artifact_location: `mlflow-artifacts:/${id}`, lifecycle_stage: 'active', creation_time: now, last_update_time: now, tags });
    return id;
  };
  createExperiment('Default');

  const run = (id: unknown): FakeRun => {
    const r = typeof id === 'string' ? runs.get(id) : undefined;
    if (r === undefined) throw notFound(`Run with id=${String(id)} not found`);
    return r;
  };
  const model = (name: unknown): FakeModel => {
    const m = typeof name === 'string' ? models.get(name) : undefined;
    if (m === undefined) throw notFound(`Registered Model with name=${String(name)} not found`);
    return m;
  };
  const wireRun = (r: FakeRun, withOutputs = true) => ({
    info: r.info,
    data: {
      ...(r.metrics.size > 0 ? { metrics: [...r.metrics.values()].map((h) => latest(h)) } : {}),
      ...(r.params.size > 0 ? { params: [...r.params].map(([key, value]) => ({ key, value })) } : {}),
      ...(r.tags.size > 0 ? { tags: [...r.tags].map(([key, value]) => ({ key, value })) } : {}),
    },
    inputs: r.inputs.length > 0 ? { dataset_inputs: r.inputs } : {},
    ...(withOutputs ? { outputs: {} } : {}),
  });
  const latest = (history: WireMetric[]): WireMetric => {
    const decoded = history.map((m) => ({ ...m, value: decodeMetricValue(m.value) }));
    const l = latestOf(decoded)!;
    return { ...l, value: encodeMetricValue(l.value) as number | string };
  };
  const asRecord = (r: FakeRun): RunRecord => ({
    info: {
      runId: r.info.run_id,
      experimentId: r.info.experiment_id,
      runName: r.info.run_name,
      userId: r.info.user_id,
      status: r.info.status,
      startTime: r.info.start_time,
      ...(r.info.end_time === undefined ? {} : { endTime: r.info.end_time }),
      artifactUri: r.info.artifact_uri,
      lifecycleStage: 'active',
    },
    data: {
      params: Object.fromEntries(r.params),
      tags: Object.fromEntries(r.tags),
      metrics: Object.fromEntries([...r.metrics].map(([k, h]) => [k, { ...latest(h), value: decodeMetricValue(latest(h).value) }])),
    },
    inputs: [],
  });
  const versionOut = (m: FakeModel, v: FakeVersion, withAliases: boolean) => {
    const aliases = [...m.aliases].filter(([, ver]) => ver === v.version).map(([a]) => a);
    const { tags, ...rest } = v;
    return { ...rest, ...(tags.length > 0 ? { tags } : {}), ...(withAliases && aliases.length > 0 ? { aliases } : {}) };
  };
  const modelOut = (m: FakeModel) => ({
    name: m.name,
    creation_timestamp: m.creation_timestamp,
    last_updated_timestamp: m.last_updated_timestamp,
    ...(m.description ? { description: m.description } : {}),
    ...(m.versions.length > 0 ? { latest_versions: [versionOut(m, m.versions[m.versions.length - 1], true)] } : {}),
    ...(m.tags.length > 0 ? { tags: m.tags } : {}),
    ...(m.aliases.size > 0 ? { aliases: [...m.aliases].map(([alias, version]) => ({ alias, version })) } : {}),
  });

  const checkValue = (what: 'param' | 'tag', value: string, field: string): string => {
    const max = what === 'param' ? 6000 : 8000;
    if (value.length <= max) return value;
    if (truncate) return value.slice(0, max);
    throw invalid(`'${field}' exceeds the maximum length of ${max} characters`);
  };
  const logParams = (r: FakeRun, params: KV[]) => {
    params.forEach((p) => {
      if (p.key.length > 250) throw invalid("'Param key' exceeds the maximum length of 250 characters");
      const value = checkValue('param', p.value, 'Param value');
      const old = r.params.get(p.key);
      if (old !== undefined && old !== value) {
        throw invalid(
          `Changing param values is not allowed. Params were already logged='[{'key': '${p.key}', 'old_value': '${old}', 'new_value': '${value}'}]' for run ID='${r.info.run_id}'.`,
        );
      }
    });
    for (const p of params) r.params.set(p.key, checkValue('param', p.value, 'Param value'));
  };
  const setTags = (r: FakeRun, tags: KV[], field: (i: number) => string) => {
    const checked = tags.map((t, i) => ({ key: t.key, value: checkValue('tag', t.value, field(i)) }));
    for (const t of checked) {
      r.tags.set(t.key, t.value);
      if (t.key === 'mlflow.runName') r.info.run_name = t.value;
    }
  };
  const logMetrics = (r: FakeRun, metrics: Array<Partial<WireMetric>>) => {
    for (const m of metrics) {
      const h = r.metrics.get(m.key!) ?? [];
      h.push({ key: m.key!, value: encodeMetricValue(decodeMetricValue(m.value)), timestamp: m.timestamp ?? 0, step: m.step ?? 0 });
      r.metrics.set(m.key!, h);
    }
  };

  const app = new Hono();
  const requests: FakeMlflowServer['requests'] = [];
  (app as Hono & { requests?: typeof requests }).requests = requests;
  app.use('*', async (c, next) => {
    const bytes = Number(c.req.header('content-length') ?? 0);
    requests.push({ method: c.req.method, path: c.req.path, bytes });
    if (options.authorization !== undefined && c.req.header('authorization') !== options.authorization) {
      return c.text('You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html', 401);
    }
    await next();
  });
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json({ error_code: err.errorCode, message: err.message }, err.status as 400);
    return c.json({ error_code: 'INTERNAL_ERROR', message: String(err) }, 500);
  });
  const body = async (c: Context): Promise<Record<string, any>> => {
    try {
      return (await c.req.json()) as Record<string, any>;
    } catch {
      throw new ApiError(400, 'MALFORMED_REQUEST', 'request body is not JSON');
    }
  };
  const api = '/api/2.0/mlflow';

  app.post(`${api}/experiments/create`, async (c) => {
    const b = await body(c);
    if ([...experiments.values()].some((e) => e.name === b.name)) {
      throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Experiment '${b.name}' already exists.`);
    }
    return c.json({ experiment_id: createExperiment(b.name, b.tags ?? []) });
  });
  app.get(`${api}/experiments/get`, (c) => {
    const e = experiments.get(c.req.query('experiment_id') ?? '');
    if (!e) throw notFound(`No Experiment with id=${c.req.query('experiment_id')} exists`);
    return c.json({ experiment: e });
  });
  app.get(`${api}/experiments/get-by-name`, (c) => {
    const e = [...experiments.values()].find((x) => x.name === c.req.query('experiment_name'));
    if (!e) throw notFound(`Could not find experiment with name '${c.req.query('experiment_name')}'`);
    return c.json({ experiment: e });
  });
  app.post(`${api}/experiments/search`, (c) => c.json({ experiments: [...experiments.values()] }));

  app.post(`${api}/runs/create`, async (c) => {
    const b = await body(c);
    if (!experiments.has(b.experiment_id)) throw notFound(`No Experiment with id=${b.experiment_id} exists`);
    const id = crypto.randomUUID().replace(/-/g, '');
    const tags: KV[] = b.tags ?? [];
    const name: string = b.run_name ?? tags.find((t) => t.key === 'mlflow.runName')?.value ?? `run-${id.slice(0, 6)}`;
    const r: FakeRun = {
      info: {
        run_uuid: id,
        experiment_id: b.experiment_id,
        run_name: name,
        user_id: '',
        status: 'RUNNING',
        start_time: b.start_time ?? Date.now(),
        artifact_uri: options.artifactRoot ? path.join(options.artifactRoot, b.experiment_id, id, 'artifacts') : `mlflow-artifacts:/${b.experiment_id}/${id}/artifacts`,
        lifecycle_stage: 'active',
        run_id: id,
      },
      params: new Map(),
      tags: new Map([...tags.map((t): [string, string] => [t.key, t.value]), ['mlflow.runName', name]]),
      metrics: new Map(),
      inputs: [],
    };
    runs.set(id, r);
    return c.json({ run: wireRun(r, false) });
  });
  app.get(`${api}/runs/get`, (c) => c.json({ run: wireRun(run(c.req.query('run_id'))) }));
  app.post(`${api}/runs/update`, async (c) => {
    const b = await body(c);
    const r = run(b.run_id);
    if (b.status) r.info.status = b.status;
    if (b.end_time !== undefined) r.info.end_time = b.end_time;
    if (b.run_name) setTags(r, [{ key: 'mlflow.runName', value: b.run_name }], () => 'run_name');
    return c.json({ run_info: r.info });
  });
  app.post(`${api}/runs/log-batch`, async (c) => {
    const b = await body(c);
    const r = run(b.run_id);
    const metrics = b.metrics ?? [];
    const params = b.params ?? [];
    const tags = b.tags ?? [];
    for (const [what, list, max] of [['metrics', metrics, 1000], ['params', params, 100], ['tags', tags, 100]] as const) {
      if (list.length > max) {
        throw invalid(`A batch logging request can contain at most ${max} ${what}. Got ${list.length} ${what}. Please split up ${what} across multiple requests and try again.`);
      }
    }
    if (metrics.length + params.length + tags.length > 1000) {
      throw invalid(`A batch logging API request must contain at most 1000 total metrics, params, and tags. Got ${metrics.length + params.length + tags.length}.`);
    }
    logParams(r, params);
    setTags(r, tags, (i) => `tags[${i}].value`);
    logMetrics(r, metrics);
    return c.json({});
  });
  app.post(`${api}/runs/log-metric`, async (c) => {
    const b = await body(c);
    logMetrics(run(b.run_id), [b]);
    return c.json({});
  });
  app.post(`${api}/runs/log-parameter`, async (c) => {
    const b = await body(c);
    logParams(run(b.run_id), [{ key: b.key, value: b.value }]);
    return c.json({});
  });
  app.post(`${api}/runs/set-tag`, async (c) => {
    const b = await body(c);
    setTags(run(b.run_id), [{ key: b.key, value: b.value }], () => 'value');
    return c.json({});
  });
  app.post(`${api}/runs/log-inputs`, async (c) => {
    const b = await body(c);
    if (!b.run_id) throw invalid("Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.");
    const r = run(b.run_id);
    for (const d of b.datasets ?? []) {
      r.inputs.push({ ...(d.tags ? { tags: d.tags } : {}), dataset: { digest: '', source_type: '', source: '', ...d.dataset } });
    }
    return c.json({});
  });
  app.get(`${api}/metrics/get-history`, (c) => {
    const r = run(c.req.query('run_id'));
    return c.json({ metrics: r.metrics.get(c.req.query('metric_key') ?? '') ?? [] });
  });
  app.post(`${api}/runs/search`, async (c) => {
    const b = await body(c);
    const ids = new Set<string>(b.experiment_ids ?? []);
    const clauses = parseFilter(b.filter);
    const matching = [...runs.values()].filter((r) => ids.has(r.info.experiment_id) && matchesFilter(asRecord(r), clauses));
    const order = sortRuns(matching.map(asRecord), parseOrderBy(b.order_by)).map((rec) => runs.get(rec.info.runId)!);
    const offset = Number(b.page_token ?? 0);
    const max = b.max_results ?? 1000;
    const page = order.slice(offset, offset + max);
    return c.json({
      ...(page.length > 0 ? { runs: page.map((r) => ({ ...wireRun(r, false) })) } : {}),
      ...(offset + max < order.length ? { next_page_token: String(offset + max) } : {}),
    });
  });

  const listUnder = (prefix: string, relativeTo: string) => {
    const seen = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
    for (const [key, bytes] of artifacts) {
      if (!key.startsWith(`${prefix}/`)) continue;
      const rest = key.slice(prefix.length + 1);
      const slash = rest.indexOf('/');
      const name = slash < 0 ? rest : rest.slice(0, slash);
      const p = relativeTo === '' ? name : `${relativeTo}/${name}`;
      seen.set(name, slash < 0 ? { path: p, is_dir: false, file_size: bytes.length } : { path: p, is_dir: true });
    }
    return [...seen.values()].sort((a, b) => a.path.localeCompare(b.path));
  };
  app.get(`${api}/artifacts/list`, async (c) => {
    const r = run(c.req.query('run_id'));
    const rel = c.req.query('path') ?? '';
    if (options.artifactRoot) {
      const dir = path.join(r.info.artifact_uri, rel);
      const names = await fs.readdir(dir).catch(() => [] as string[]);
      const files = await Promise.all(
        names.sort().map(async (name) => {
          const stat = await fs.stat(path.join(dir, name));
          const p = rel ? `${rel}/${name}` : name;
          return stat.isDirectory() ? { path: p, is_dir: true } : { path: p, is_dir: false, file_size: stat.size };
        }),
      );
      return c.json({ root_uri: r.info.artifact_uri, ...(files.length > 0 ? { files } : {}) });
    }
    const root = r.info.artifact_uri.slice('mlflow-artifacts:/'.length);
    const files = listUnder(rel ? `${root}/${rel}` : root, rel);
    return c.json({ root_uri: r.info.artifact_uri, ...(files.length > 0 ? { files } : {}) });
  });
  const proxy = '/api/2.0/mlflow-artifacts/artifacts';
  app.get(proxy, (c) => {
    const files = listUnder((c.req.query('path') ?? '').replace(/\/+$/, ''), '');
    return c.json(files.length > 0 ? { files } : {});
  });
  app.put(`${proxy}/*`, async (c) => {
    artifacts.set(decodeURIComponent(c.req.path.slice(proxy.length + 1)), new Uint8Array(await c.req.arrayBuffer()));
    return c.json({});
  });
  app.get(`${proxy}/*`, (c) => {
    const key = decodeURIComponent(c.req.path.slice(proxy.length + 1));
    const bytes = artifacts.get(key);
    if (!bytes) throw new ApiError(500, 'INTERNAL_ERROR', `[Errno 2] No such file or directory: '${key}'`);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'application/octet-stream' });
  });

  app.post(`${api}/registered-models/create`, async (c) => {
    const b = await body(c);
    if (models.has(b.name)) throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${b.name}) already exists.`);
    const now = Date.now();
    const m: FakeModel = { name: b.name, creation_timestamp: now, last_updated_timestamp: now, description: b.description ?? '', tags: b.tags ?? [], aliases: new Map(), versions: [] };
    models.set(b.name, m);
    return c.json({ registered_model: modelOut(m) });
  });
  app.get(`${api}/registered-models/get`, (c) => c.json({ registered_model: modelOut(model(c.req.query('name'))) }));
  app.get(`${api}/registered-models/search`, (c) => c.json({ registered_models: [...models.values()].map(modelOut) }));
  app.post(`${api}/model-versions/create`, async (c) => {
    const b = await body(c);
    const m = model(b.name);
    if (String(b.source).split('/').includes('..')) {
      throw invalid(`Invalid model version source: '${b.source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`);
    }
    const now = Date.now();
    const v: FakeVersion = {
      name: m.name,
      version: String(m.versions.length + 1),
      creation_timestamp: now,
      last_updated_timestamp: now,
      current_stage: 'None',
      description: b.description ?? '',
      source: b.source,
      run_id: b.run_id ?? '',
      status: 'READY',
      run_link: '',
      tags: b.tags ?? [],
    };
    m.versions.push(v);
    m.last_updated_timestamp = now;
    return c.json({ model_version: versionOut(m, v, false) });
  });
  const version = (name: unknown, ver: unknown) => {
    const m = model(name);
    const v = m.versions.find((x) => x.version === String(ver));
    if (!v) throw notFound(`Model Version (name=${String(name)}, version=${String(ver)}) not found`);
    return { m, v };
  };
  app.get(`${api}/model-versions/get`, (c) => {
    const { m, v } = version(c.req.query('name'), c.req.query('version'));
    return c.json({ model_version: versionOut(m, v, true) });
  });
  app.get(`${api}/model-versions/get-download-uri`, (c) => c.json({ artifact_uri: version(c.req.query('name'), c.req.query('version')).v.source }));
  app.get(`${api}/model-versions/search`, (c) => {
    const name = /^name\s*=\s*'(.*)'$/.exec(c.req.query('filter') ?? '')?.[1]?.replace(/\\'/g, "'");
    const list = [...models.values()].filter((m) => name === undefined || m.name === name).flatMap((m) => m.versions.map((v) => versionOut(m, v, true)));
    return c.json({ model_versions: list });
  });
  app.post(`${api}/registered-models/alias`, async (c) => {
    const b = await body(c);
    const { m } = version(b.name, b.version);
    m.aliases.set(b.alias, String(b.version));
    return c.json({});
  });
  app.delete(`${api}/registered-models/alias`, async (c) => {
    const b = await body(c);
    model(b.name).aliases.delete(b.alias);
    return c.json({});
  });
  app.get(`${api}/registered-models/alias`, (c) => {
    const m = model(c.req.query('name'));
    const ver = m.aliases.get(c.req.query('alias') ?? '');
    if (ver === undefined) throw invalid(`Registered model alias ${c.req.query('alias')} not found.`);
    return c.json({ model_version: versionOut(m, version(m.name, ver).v, true) });
  });
  return app;
}

/** Start the fake on a free port of 127.0.0.1. */
export async function startFakeMlflowServer(options: FakeMlflowOptions = {}): Promise<FakeMlflowServer> {
  const app = createFakeMlflowApp(options);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: (app as Hono & { requests: FakeMlflowServer['requests'] }).requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
