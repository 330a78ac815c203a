/**
 * The `mlflow` tracking backend: MLflow's REST API 2.0 over fetch, for any tracking server from MLflow 2.11 on
 * (self-hosted or Databricks). Bodies follow the recorded exchanges in shared/mlflow exactly: string ids, timestamps
 * in ms, params and tags as strings, NaN/±Infinity as "NaN"/"Infinity"/"-Infinity". Log-batches are split to respect
 * MLflow's limits. Errors come back as `MlflowError` carrying the server's `error_code`, HTTP status and message.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlflowError, TrackingError, excerpt } from '@lockstep/sdk';
import { MLFLOW_BATCH_LIMITS, splitLogBatch, type BatchLimits, type WireMetric } from './mlflow-batch.ts';
import { encodeMetricValue } from './metric-values.ts';
import {
  toArtifactEntry,
  toExperiment,
  toMetric,
  toModelVersion,
  toPairs,
  toRegisteredModel,
  toRunInfo,
  toRunRecord,
  type WireDatasetInput,
  type WireExperiment,
  type WireFileInfo,
  type WireModelVersion,
  type WireRegisteredModel,
  type WireRun,
  type WireRunInfo,
} from './mlflow-wire.ts';
import type {
  ArtifactEntry,
  CreateRunRequest,
  DatasetInput,
  Experiment,
  LogBatch,
  Metric,
  ModelVersion,
  RegisteredModel,
  RunInfo,
  RunRecord,
  SearchRunsPage,
  SearchRunsRequest,
  TrackingBackend,
  UpdateRunRequest,
} from './types.ts';
import { validateArtifactPath } from './validate.ts';

/** Options of {@link MlflowClient}. Credentials default to the environment, as MLflow's own client does. */
export interface MlflowClientOptions {
  /** Bearer token (Databricks personal access token, or a proxy's). @default env LOCKSTEP_TRACKING_TOKEN, then MLFLOW_TRACKING_TOKEN */
  token?: string;
  /** Basic-auth user (MLflow's `--app-name basic-auth`). @default env LOCKSTEP_TRACKING_USERNAME, then MLFLOW_TRACKING_USERNAME, then the URL's user */
  username?: string;
  /** Basic-auth password. @default env LOCKSTEP_TRACKING_PASSWORD, then MLFLOW_TRACKING_PASSWORD, then the URL's password */
  password?: string;
  /** Retries after a network error, a 429, or a 5xx that is not an MLflow error answer. @default 4 */
  maxRetries?: number;
  /** First backoff; doubles each retry, with jitter, capped at 5 s. @default 250 */
  retryBaseMs?: number;
  /** Per-attempt timeout. @default 60000 */
  timeoutMs?: number;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Per-request log-batch limits, for a server configured differently from stock MLflow. @default MLflow's: 1000 metrics, 100 params, 100 tags, 1000 items, 1 MB */
  batchLimits?: Partial<BatchLimits>;
}

/** Codes for answers that carry no MLflow error body (a proxy's 401, a load balancer's 503). */
function codeForStatus(status: number): string {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'ENDPOINT_NOT_FOUND';
  if (status === 429) return 'REQUEST_LIMIT_EXCEEDED';
  if (status === 503) return 'TEMPORARILY_UNAVAILABLE';
  return status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CallOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Raw bytes (artifact upload) instead of a JSON body. */
  bytes?: Uint8Array;
  /** Return the raw answer bytes (artifact download). */
  raw?: boolean;
}

/** undici's `fetch failed` hides why (refused, unknown host, a port fetch will not use): add the cause's message. */
function networkReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const why = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
  return why && !message.includes(why) ? `${message} (${why})` : message;
}

/** An MLflow tracking server. Construct it with the server's base URL (`http://host:5000`). */
export class MlflowClient implements TrackingBackend {
  readonly kind = 'mlflow' as const;
  readonly uri: string;
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;
  readonly #maxRetries: number;
  readonly #retryBaseMs: number;
  readonly #timeoutMs: number;
  readonly #batchLimits: BatchLimits;
  /** run id → artifact_uri, learnt from runs/create and runs/get, so uploads need no extra round trip. */
  readonly #artifactUris = new Map<string, string>();
  /** Number of HTTP requests sent (retries included): tests and benchmarks read it. */
  requestCount = 0;

  constructor(uri: string, options: MlflowClientOptions = {}) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch (err) {
      throw new TrackingError('INVALID_PARAMETER_VALUE', `invalid MLflow tracking URI "${uri}"`, { cause: err });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TrackingError('INVALID_PARAMETER_VALUE', `MLflow tracking URI must be http(s)://, got "${uri}"`);
    }
    const env = process.env;
    const username = options.username ?? env.LOCKSTEP_TRACKING_USERNAME ?? env.MLFLOW_TRACKING_USERNAME ?? decodeURIComponent(url.username);
    const password = options.password ?? env.LOCKSTEP_TRACKING_PASSWORD ?? env.MLFLOW_TRACKING_PASSWORD ?? decodeURIComponent(url.password);
    const token = options.token ?? env.LOCKSTEP_TRACKING_TOKEN ?? env.MLFLOW_TRACKING_TOKEN;
    // fetch refuses URLs with credentials: move them into the Authorization header.
    url.username = '';
    url.password = '';
    this.#base = url.href.replace(/\/+$/, '');
    this.uri = this.#base;
    this.#headers = { 'User-Agent': 'lockstep-tracking' };
    if (token) this.#headers.Authorization = `Bearer ${token}`;
    else if (username) this.#headers.Authorization = `Basic ${btoa(`${username}:${password}`)}`;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#maxRetries = options.maxRetries ?? 4;
    this.#retryBaseMs = options.retryBaseMs ?? 250;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#batchLimits = { ...MLFLOW_BATCH_LIMITS, ...options.batchLimits };
  }

  /** One REST call with bounded retries; answers the parsed JSON (or bytes with `raw`). */
  async #call<T>(method: string, endpoint: string, options: CallOptions = {}): Promise<T> {
    const query = Object.entries(options.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
    const url = `${this.#base}${endpoint}${query.length > 0 ? `?${new URLSearchParams(query)}` : ''}`;
    const headers = { ...this.#headers };
    let body: string | Uint8Array | undefined;
    if (options.bytes !== undefined) {
      headers['Content-Type'] = 'application/octet-stream';
      body = options.bytes;
    } else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        this.requestCount++;
        response = await this.#fetch(url, { method, headers, body: body as BodyInit | undefined, signal: AbortSignal.timeout(this.#timeoutMs) });
      } catch (err) {
        // A server that took the request and said nothing for the whole timeout is not retried: each attempt would
        // wait as long again (4 retries of 60 s left `lockstep runs list` silent for 5 minutes).
        if (err instanceof Error && err.name === 'TimeoutError') {
          throw new MlflowError(0, 'NETWORK_ERROR', `no answer from ${this.#base} within ${this.#timeoutMs} ms`, endpoint, { cause: err });
        }
        if (attempt < this.#maxRetries) {
          await this.#backoff(attempt);
          continue;
        }
        throw new MlflowError(0, 'NETWORK_ERROR', `could not reach ${this.#base}: ${networkReason(err)}`, endpoint, { cause: err });
      }
      if (response.ok) {
        if (options.raw) return new Uint8Array(await response.arrayBuffer()) as T;
        const text = await response.text();
        try {
          return (text.trim() === '' ? {} : JSON.parse(text)) as T;
        } catch (err) {
          throw new MlflowError(response.status, 'INVALID_RESPONSE', `answer is not JSON: ${excerpt(text)}`, endpoint, { cause: err });
        }
      }
      const text = await response.text();
      let parsed: { error_code?: unknown; message?: unknown } | undefined;
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        parsed = undefined;
      }
      const isMlflowError = typeof parsed?.error_code === 'string';
      // MLflow answers deterministic failures with a 500 and an error body (e.g. a changed param on a file store):
      // retrying those only repeats them. Retry what may pass next time: 429, gateway errors, non-MLflow 5xx.
      const retryable =
        response.status === 429 || [502, 503, 504].includes(response.status) || (response.status >= 500 && !isMlflowError);
      if (retryable && attempt < this.#maxRetries) {
        const retryAfter = Number(response.headers.get('retry-after'));
        await this.#backoff(attempt, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
        continue;
      }
      throw new MlflowError(
        response.status,
        isMlflowError ? (parsed!.error_code as string) : codeForStatus(response.status),
        isMlflowError && typeof parsed!.message === 'string' ? parsed!.message : excerpt(text),
        endpoint,
      );
    }
  }

  /** Follow `next_page_token` until the last page; `request` gets the token (undefined for the first page). */
  async #paged<W, T>(request: (pageToken: string | undefined) => Promise<{ items?: W[]; next_page_token?: string }>, map: (w: W) => T): Promise<T[]> {
    const out: T[] = [];
    let pageToken: string | undefined;
    do {
      const r = await request(pageToken);
      out.push(...(r.items ?? []).map(map));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** `undefined` for MLflow's RESOURCE_DOES_NOT_EXIST answer (a lookup by name that found nothing). */
  async #orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
    try {
      return await call;
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }

  async #backoff(attempt: number, hintMs?: number): Promise<void> {
    const base = Math.min(5000, this.#retryBaseMs * 2 ** attempt);
    await sleep(Math.min(10_000, hintMs ?? base * (0.5 + Math.random() / 2)));
  }

  // ---- experiments -------------------------------------------------------------------------------------------

  async createExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    const body = { name, ...(Object.keys(tags).length > 0 ? { tags: toPairs(tags) } : {}) };
    const r = await this.#call<{ experiment_id: string }>('POST', '/api/2.0/mlflow/experiments/create', { body });
    return String(r.experiment_id);
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const r = await this.#call<{ experiment: WireExperiment }>('GET', '/api/2.0/mlflow/experiments/get', {
      query: { experiment_id: experimentId },
    });
    return toExperiment(r.experiment);
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    const r = await this.#orUndefined(
      this.#call<{ experiment: WireExperiment }>('GET', '/api/2.0/mlflow/experiments/get-by-name', { query: { experiment_name: name } }),
    );
    return r && toExperiment(r.experiment);
  }

  async searchExperiments(): Promise<Experiment[]> {
    return this.#paged(async (pageToken) => {
      const r = await this.#call<{ experiments?: WireExperiment[]; next_page_token?: string }>('POST', '/api/2.0/mlflow/experiments/search', {
        body: { max_results: 1000, ...(pageToken ? { page_token: pageToken } : {}) },
      });
      return { items: r.experiments, next_page_token: r.next_page_token };
    }, toExperiment);
  }

  // ---- runs --------------------------------------------------------------------------------------------------

  #remember(run: RunRecord): RunRecord {
    if (run.info.artifactUri) this.#artifactUris.set(run.info.runId, run.info.artifactUri);
    return run;
  }

  async createRun(request: CreateRunRequest): Promise<RunRecord> {
    const tags = toPairs(request.tags);
    const body = {
      experiment_id: request.experimentId,
      ...(request.runName === undefined ? {} : { run_name: request.runName }),
      start_time: request.startTime ?? Date.now(),
      ...(tags.length > 0 ? { tags } : {}),
    };
    const r = await this.#call<{ run: WireRun }>('POST', '/api/2.0/mlflow/runs/create', { body });
    return this.#remember(toRunRecord(r.run));
  }

  async getRun(runId: string): Promise<RunRecord> {
    const r = await this.#call<{ run: WireRun }>('GET', '/api/2.0/mlflow/runs/get', { query: { run_id: runId } });
    return this.#remember(toRunRecord(r.run));
  }

  async updateRun(runId: string, update: UpdateRunRequest): Promise<RunInfo> {
    const body = {
      run_id: runId,
      ...(update.status === undefined ? {} : { status: update.status }),
      ...(update.endTime === undefined ? {} : { end_time: update.endTime }),
      ...(update.runName === undefined ? {} : { run_name: update.runName }),
    };
    const r = await this.#call<{ run_info: WireRunInfo }>('POST', '/api/2.0/mlflow/runs/update', { body });
    return toRunInfo(r.run_info);
  }

  /** Log a batch, split into as many requests as MLflow's limits need (sent in order). */
  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    for (const chunk of splitLogBatch(runId, batch, this.#batchLimits)) {
      await this.#call('POST', '/api/2.0/mlflow/runs/log-batch', { body: chunk });
    }
  }

  /** MLflow's single-metric endpoint (`runs/log-metric`). */
  async logMetric(runId: string, key: string, value: number, timestamp = Date.now(), step = 0): Promise<void> {
    const body = { run_id: runId, key, value: encodeMetricValue(value), timestamp, step };
    await this.#call('POST', '/api/2.0/mlflow/runs/log-metric', { body });
  }

  /** MLflow's single-param endpoint (`runs/log-parameter`). */
  async logParam(runId: string, key: string, value: string): Promise<void> {
    await this.#call('POST', '/api/2.0/mlflow/runs/log-parameter', { body: { run_id: runId, key, value } });
  }

  /** MLflow's single-tag endpoint (`runs/set-tag`). */
  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.#call('POST', '/api/2.0/mlflow/runs/set-tag', { body: { run_id: runId, key, value } });
  }

  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    const wire: WireDatasetInput[] = datasets.map((d) => {
      const tags = toPairs(d.tags);
      const dataset: WireDatasetInput['dataset'] = { name: d.name };
      if (d.digest) dataset.digest = d.digest;
      if (d.sourceType) dataset.source_type = d.sourceType;
      if (d.source) dataset.source = d.source;
      if (d.schema) dataset.schema = d.schema;
      if (d.profile) dataset.profile = d.profile;
      return { ...(tags.length > 0 ? { tags } : {}), dataset };
    });
    await this.#call('POST', '/api/2.0/mlflow/runs/log-inputs', { body: { run_id: runId, datasets: wire } });
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    return this.#paged(async (pageToken) => {
      const r = await this.#call<{ metrics?: WireMetric[]; next_page_token?: string }>('GET', '/api/2.0/mlflow/metrics/get-history', {
        query: { run_id: runId, metric_key: key, ...(pageToken ? { page_token: pageToken } : {}) },
      });
      return { items: r.metrics, next_page_token: r.next_page_token };
    }, toMetric);
  }

  async searchRuns(request: SearchRunsRequest): Promise<SearchRunsPage> {
    const body = {
      experiment_ids: request.experimentIds,
      ...(request.filter ? { filter: request.filter } : {}),
      ...(request.orderBy && request.orderBy.length > 0 ? { order_by: request.orderBy } : {}),
      max_results: request.maxResults ?? 1000,
      ...(request.pageToken ? { page_token: request.pageToken } : {}),
      ...(request.runViewType ? { run_view_type: request.runViewType } : {}),
    };
    const r = await this.#call<{ runs?: WireRun[]; next_page_token?: string }>('POST', '/api/2.0/mlflow/runs/search', { body });
    const runs = (r.runs ?? []).map((run) => this.#remember(toRunRecord(run)));
    return r.next_page_token ? { runs, nextPageToken: r.next_page_token } : { runs };
  }

  // ---- artifacts ---------------------------------------------------------------------------------------------

  async #artifactUri(runId: string): Promise<string> {
    return this.#artifactUris.get(runId) ?? (await this.getRun(runId)).info.artifactUri;
  }

  /**
   * Where an artifact URI's files are: the server's `mlflow-artifacts` proxy, or a folder on this machine (a server
   * started with a local `--default-artifact-root` on the same host, as MLflow's own client writes there directly).
   */
  #locate(uri: string): { proxyPath: string } | { localDir: string } | undefined {
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(uri);
    if (m) return { proxyPath: m[1].replace(/\/+$/, '') };
    if (uri.startsWith('file:')) return { localDir: fileURLToPath(uri) };
    if (path.isAbsolute(uri)) return { localDir: uri };
    return undefined;
  }

  #proxyUrl(proxyPath: string): string {
    return `/api/2.0/mlflow-artifacts/artifacts/${proxyPath.split('/').map(encodeURIComponent).join('/')}`;
  }

  async uploadArtifact(runId: string, artifactPath: string, data: Uint8Array): Promise<void> {
    const rel = validateArtifactPath(artifactPath);
    const uri = await this.#artifactUri(runId);
    const where = this.#locate(uri);
    if (where === undefined) {
      throw new TrackingError(
        'UNSUPPORTED',
        `run ${runId} stores artifacts at ${uri}, which lockstep cannot write; start the MLflow server with --serve-artifacts (the default since 2.0) and an --artifacts-destination so artifacts go through its mlflow-artifacts proxy`,
      );
    }
    if ('localDir' in where) {
      const file = path.join(where.localDir, ...rel.split('/'));
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, data);
      return;
    }
    await this.#call('PUT', this.#proxyUrl(`${where.proxyPath}/${rel}`), { bytes: data });
  }

  async listArtifacts(runId: string, artifactPath = ''): Promise<ArtifactEntry[]> {
    const rel = validateArtifactPath(artifactPath, true);
    const r = await this.#call<{ files?: WireFileInfo[] }>('GET', '/api/2.0/mlflow/artifacts/list', {
      query: { run_id: runId, ...(rel === '' ? {} : { path: rel }) },
    });
    return (r.files ?? []).map(toArtifactEntry);
  }

  async downloadArtifact(runId: string, artifactPath: string): Promise<Uint8Array> {
    const rel = validateArtifactPath(artifactPath);
    const where = this.#locate(await this.#artifactUri(runId));
    if (where !== undefined && 'proxyPath' in where) return this.#call('GET', this.#proxyUrl(`${where.proxyPath}/${rel}`), { raw: true });
    if (where !== undefined && 'localDir' in where) {
      try {
        return new Uint8Array(await fs.readFile(path.join(where.localDir, ...rel.split('/'))));
      } catch (err) {
        throw new TrackingError('RESOURCE_DOES_NOT_EXIST', `artifact ${rel} of run ${runId} not found in ${where.localDir}`, { cause: err });
      }
    }
    // Any other artifact store the server itself can read: its UI's download endpoint.
    return this.#call('GET', '/get-artifact', { query: { path: rel, run_uuid: runId }, raw: true });
  }

  /** List an `mlflow-artifacts:/…` URI through the proxy; entries' paths are relative to `uri`. */
  async listArtifactUri(uri: string): Promise<ArtifactEntry[]> {
    const where = this.#locate(uri);
    if (where === undefined || !('proxyPath' in where)) throw new TrackingError('UNSUPPORTED', `cannot list ${uri}: not an mlflow-artifacts URI`);
    const r = await this.#call<{ files?: WireFileInfo[] }>('GET', '/api/2.0/mlflow-artifacts/artifacts', { query: { path: where.proxyPath } });
    return (r.files ?? []).map(toArtifactEntry);
  }

  /** Download one file of an `mlflow-artifacts:/…` URI through the proxy. */
  async downloadArtifactUri(uri: string): Promise<Uint8Array> {
    const where = this.#locate(uri);
    if (where === undefined || !('proxyPath' in where)) throw new TrackingError('UNSUPPORTED', `cannot download ${uri}: not an mlflow-artifacts URI`);
    return this.#call('GET', this.#proxyUrl(where.proxyPath), { raw: true });
  }

  // ---- model registry ----------------------------------------------------------------------------------------

  async createRegisteredModel(
    name: string,
    options: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<RegisteredModel> {
    const tags = toPairs(options.tags);
    const body = { name, ...(options.description ? { description: options.description } : {}), ...(tags.length > 0 ? { tags } : {}) };
    const r = await this.#call<{ registered_model: WireRegisteredModel }>('POST', '/api/2.0/mlflow/registered-models/create', { body });
    return toRegisteredModel(r.registered_model);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    const r = await this.#orUndefined(
      this.#call<{ registered_model: WireRegisteredModel }>('GET', '/api/2.0/mlflow/registered-models/get', { query: { name } }),
    );
    return r && toRegisteredModel(r.registered_model);
  }

  async searchRegisteredModels(): Promise<RegisteredModel[]> {
    return this.#paged(async (pageToken) => {
      const r = await this.#call<{ registered_models?: WireRegisteredModel[]; next_page_token?: string }>(
        'GET',
        '/api/2.0/mlflow/registered-models/search',
        { query: { max_results: '1000', ...(pageToken ? { page_token: pageToken } : {}) } },
      );
      return { items: r.registered_models, next_page_token: r.next_page_token };
    }, toRegisteredModel);
  }

  async createModelVersion(
    name: string,
    options: { source: string; runId?: string; description?: string; tags?: Record<string, string> },
  ): Promise<ModelVersion> {
    const tags = toPairs(options.tags);
    const body = {
      name,
      source: options.source,
      ...(options.runId ? { run_id: options.runId } : {}),
      ...(options.description ? { description: options.description } : {}),
      ...(tags.length > 0 ? { tags } : {}),
    };
    const r = await this.#call<{ model_version: WireModelVersion }>('POST', '/api/2.0/mlflow/model-versions/create', { body });
    return toModelVersion(r.model_version);
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const r = await this.#call<{ model_version: WireModelVersion }>('GET', '/api/2.0/mlflow/model-versions/get', {
      query: { name, version: String(version) },
    });
    return toModelVersion(r.model_version);
  }

  async searchModelVersions(name: string): Promise<ModelVersion[]> {
    const versions = await this.#paged(async (pageToken) => {
      const r = await this.#call<{ model_versions?: WireModelVersion[]; next_page_token?: string }>(
        'GET',
        '/api/2.0/mlflow/model-versions/search',
        { query: { filter: `name='${name.replace(/'/g, "\\'")}'`, ...(pageToken ? { page_token: pageToken } : {}) } },
      );
      return { items: r.model_versions, next_page_token: r.next_page_token };
    }, toModelVersion);
    return versions.sort((a, b) => Number(b.version) - Number(a.version));
  }

  async setModelAlias(name: string, alias: string, version: string): Promise<void> {
    await this.#call('POST', '/api/2.0/mlflow/registered-models/alias', { body: { name, alias, version: String(version) } });
  }

  async deleteModelAlias(name: string, alias: string): Promise<void> {
    await this.#call('DELETE', '/api/2.0/mlflow/registered-models/alias', { body: { name, alias } });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const r = await this.#call<{ model_version: WireModelVersion }>('GET', '/api/2.0/mlflow/registered-models/alias', {
      query: { name, alias },
    });
    return toModelVersion(r.model_version);
  }

  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    const r = await this.#call<{ artifact_uri: string }>('GET', '/api/2.0/mlflow/model-versions/get-download-uri', {
      query: { name, version: String(version) },
    });
    return r.artifact_uri;
  }
}
