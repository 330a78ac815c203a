/**
 * The embedded tracking backend: a folder of plain files (layout in docs/tracking.md), no server, no native code.
 *
 * - Crash-safe: whole files are written to a temp file, fsync'ed and renamed (or hard-linked when they must not be
 *   replaced); metrics are JSON lines appended with one O_APPEND write each, and a torn last line is skipped on read.
 * - Safe under concurrent writers (processes): params are created exclusively (a second, different value is refused
 *   like MLflow does), metric appends never interleave, model versions are numbered by exclusive creation of
 *   `versions/<n>.json`, and the few read-modify-write updates (run status, experiment creation) hold a lock file.
 * - Readable by tools: JSON and JSON-lines in MLflow's snake_case field names.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TrackingError } from '@lockstep/sdk';
import {
  appendLines,
  createFileExclusive,
  exists,
  forEachLimit,
  listNames,
  readJsonIfExists,
  readJsonLines,
  readTextIfExists,
  withLock,
  writeFileAtomic,
} from './fs-atomic.ts';
import { decodeMetricValue, encodeMetricValue, latestOf, type WireMetricValue } from './metric-values.ts';
import {
  decodePageToken,
  encodePageToken,
  matchesFilter,
  parseFilter,
  parseOrderBy,
  sortRuns,
} from './search-filter.ts';
import {
  MLFLOW_TAGS,
  RUN_STATUSES,
  type ArtifactEntry,
  type CreateRunRequest,
  type DatasetInput,
  type Experiment,
  type LifecycleStage,
  type LogBatch,
  type Metric,
  type ModelVersion,
  type RegisteredModel,
  type RunInfo,
  type RunRecord,
  type RunStatus,
  type SearchRunsPage,
  type SearchRunsRequest,
  type TrackingBackend,
  type UpdateRunRequest,
} from './types.ts';
import {
  newRunId,
  validateArtifactPath,
  validateKey,
  validateModelSource,
  validateParamValue,
  validateTagValue,
} from './validate.ts';

/** Files of one batch written at once (each whole-file write waits on an fsync). */
const WRITE_CONCURRENCY = 16;

/** Version of the folder layout, written to `store.json`. */
export const LOCAL_STORE_FORMAT_VERSION = 1;

interface StoreFile {
  format: 'lockstep-tracking';
  version: number;
}

interface ExperimentFile {
  experiment_id: string;
  name: string;
  lifecycle_stage: LifecycleStage;
  creation_time: number;
  last_update_time: number;
  tags: Record<string, string>;
}

interface RunFile {
  run_id: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time?: number;
  lifecycle_stage: LifecycleStage;
}

interface MetricLine {
  value: WireMetricValue;
  timestamp: number;
  step: number;
}

interface ModelFile {
  name: string;
  creation_timestamp: number;
  description: string;
  tags: Record<string, string>;
}

interface VersionFile {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  source: string;
  run_id: string;
  status: 'READY';
  tags: Record<string, string>;
}

/** File and folder names for keys and names: URI-encoded, so `/`, spaces and `:` stay inside one name. */
export function encodeName(name: string): string {
  return encodeURIComponent(name).replace(/\./g, (m, offset: number) => (offset === 0 ? '%2E' : m));
}

export function decodeName(file: string): string {
  return decodeURIComponent(file);
}

function notFound(message: string): TrackingError {
  return new TrackingError('RESOURCE_DOES_NOT_EXIST', message);
}

function invalid(message: string): TrackingError {
  return new TrackingError('INVALID_PARAMETER_VALUE', message);
}

function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return '';
  }
}

/** The local folder store. Open it with {@link LocalStore.open}. */
export class LocalStore implements TrackingBackend {
  readonly kind = 'local' as const;
  readonly uri: string;
  /** Run id → run folder; runs never move between experiments, so this never goes stale. */
  readonly #runDirs = new Map<string, string>();

  private constructor(readonly root: string) {
    this.uri = root;
  }

  /** Open (creating if needed) the store in `root`; makes the `Default` experiment `0` like MLflow. */
  static async open(root: string): Promise<LocalStore> {
    const store = new LocalStore(path.resolve(root));
    const meta = await readJsonIfExists<StoreFile>(store.#file('store.json'));
    if (meta === undefined) {
      await fs.mkdir(store.root, { recursive: true });
      await createFileExclusive(
        store.#file('store.json'),
        JSON.stringify({ format: 'lockstep-tracking', version: LOCAL_STORE_FORMAT_VERSION } satisfies StoreFile),
      );
    } else if (meta.format !== 'lockstep-tracking' || meta.version > LOCAL_STORE_FORMAT_VERSION) {
      throw new TrackingError(
        'INVALID_STATE',
        `${store.root} holds a tracking store of format ${meta.format} v${meta.version}; this lockstep reads v${LOCAL_STORE_FORMAT_VERSION}`,
      );
    }
    if ((await store.getExperimentByName('Default')) === undefined && !(await exists(store.#experimentDir('0')))) {
      await store.#createExperiment('Default', {}, '0').catch((err: unknown) => {
        if (!(err instanceof TrackingError && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
      });
    }
    return store;
  }

  #file(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  #experimentDir(id: string): string {
    return this.#file('experiments', id);
  }

  // ---- experiments -------------------------------------------------------------------------------------------

  async createExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    return this.#createExperiment(name, tags);
  }

  async #createExperiment(name: string, tags: Record<string, string>, fixedId?: string): Promise<string> {
    if (typeof name !== 'string' || name.trim() === '') throw invalid('experiment name must be a non-empty string');
    for (const [k, v] of Object.entries(tags)) {
      validateKey('Tag', k);
      validateTagValue(v);
    }
    // Name uniqueness and sequential ids need a read-modify-write: experiments are created rarely, so a lock is fine.
    return withLock(this.#file('.experiments.lock'), async () => {
      const all = await this.#readExperiments();
      if (all.some((e) => e.name === name)) throw new TrackingError('RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists.`);
      const id = fixedId ?? String(Math.max(0, ...all.map((e) => Number(e.experimentId) + 1)));
      const now = Date.now();
      const file: ExperimentFile = { experiment_id: id, name, lifecycle_stage: 'active', creation_time: now, last_update_time: now, tags };
      await fs.mkdir(path.join(this.#experimentDir(id), 'runs'), { recursive: true });
      await writeFileAtomic(path.join(this.#experimentDir(id), 'meta.json'), JSON.stringify(file, null, 2));
      return id;
    });
  }

  async #readExperiments(): Promise<Experiment[]> {
    const ids = await listNames(this.#file('experiments'));
    const experiments = await Promise.all(ids.map((id) => this.#readExperiment(id)));
    return experiments.filter((e): e is Experiment => e !== undefined).sort((a, b) => Number(a.experimentId) - Number(b.experimentId));
  }

  async #readExperiment(id: string): Promise<Experiment | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    const dir = this.#experimentDir(id);
    const f = await readJsonIfExists<ExperimentFile>(path.join(dir, 'meta.json'));
    if (f === undefined) return undefined;
    return {
      experimentId: f.experiment_id,
      name: f.name,
      artifactLocation: pathToFileURL(dir).href,
      lifecycleStage: f.lifecycle_stage,
      creationTime: f.creation_time,
      lastUpdateTime: f.last_update_time,
      tags: f.tags ?? {},
    };
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const e = await this.#readExperiment(String(experimentId));
    if (e === undefined) throw notFound(`No Experiment with id=${experimentId} exists`);
    return e;
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    return (await this.#readExperiments()).find((e) => e.name === name);
  }

  async searchExperiments(): Promise<Experiment[]> {
    return (await this.#readExperiments()).filter((e) => e.lifecycleStage === 'active');
  }

  // ---- runs --------------------------------------------------------------------------------------------------

  async createRun(request: CreateRunRequest): Promise<RunRecord> {
    const experiment = await this.getExperiment(request.experimentId);
    if (experiment.lifecycleStage !== 'active') throw invalid(`experiment ${experiment.experimentId} is deleted`);
    const runId = newRunId();
    const tags = { ...request.tags };
    const runName = request.runName ?? tags[MLFLOW_TAGS.runName] ?? runId.slice(0, 8);
    tags[MLFLOW_TAGS.runName] = runName;
    const file: RunFile = {
      run_id: runId,
      experiment_id: experiment.experimentId,
      run_name: runName,
      user_id: tags[MLFLOW_TAGS.user] ?? currentUser(),
      status: 'RUNNING',
      start_time: request.startTime ?? Date.now(),
      lifecycle_stage: 'active',
    };
    const dir = path.join(this.#experimentDir(experiment.experimentId), 'runs', runId);
    await fs.mkdir(path.join(dir, 'artifacts'), { recursive: true });
    await this.#writeTags(dir, tags);
    // meta.json last: a run folder without it (creation interrupted) is invisible to readers.
    await writeFileAtomic(path.join(dir, 'meta.json'), JSON.stringify(file, null, 2));
    this.#runDirs.set(runId, dir);
    return this.getRun(runId);
  }

  async #runDir(runId: string): Promise<string> {
    const cached = this.#runDirs.get(runId);
    if (cached !== undefined) return cached;
    if (/^[0-9a-f]{32}$/.test(runId)) {
      for (const id of await listNames(this.#file('experiments'))) {
        const dir = path.join(this.#experimentDir(id), 'runs', runId);
        if (await exists(path.join(dir, 'meta.json'))) {
          this.#runDirs.set(runId, dir);
          return dir;
        }
      }
    }
    throw notFound(`Run '${runId}' not found`);
  }

  async #readRunInfo(dir: string): Promise<RunInfo> {
    const f = await readJsonIfExists<RunFile>(path.join(dir, 'meta.json'));
    if (f === undefined) throw notFound(`Run '${path.basename(dir)}' not found`);
    return {
      runId: f.run_id,
      experimentId: f.experiment_id,
      runName: f.run_name,
      userId: f.user_id,
      status: f.status,
      startTime: f.start_time,
      ...(f.end_time === undefined ? {} : { endTime: f.end_time }),
      artifactUri: pathToFileURL(path.join(dir, 'artifacts')).href,
      lifecycleStage: f.lifecycle_stage,
    };
  }

  async #readKeyValues(dir: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const name of await listNames(dir)) {
      const value = await readTextIfExists(path.join(dir, name));
      if (value !== undefined) out[decodeName(name)] = value;
    }
    return out;
  }

  async #readHistory(file: string, key: string): Promise<Metric[]> {
    const { records } = await readJsonLines<MetricLine>(file);
    return records
      .filter((r) => typeof r.timestamp === 'number' && typeof r.step === 'number')
      .map((r) => ({ key, value: decodeMetricValue(r.value), timestamp: r.timestamp, step: r.step }));
  }

  async #readRun(dir: string): Promise<RunRecord> {
    const info = await this.#readRunInfo(dir);
    const [params, tags, metrics, inputs] = await Promise.all([
      this.#readKeyValues(path.join(dir, 'params')),
      this.#readKeyValues(path.join(dir, 'tags')),
      this.#readLatestMetrics(dir),
      this.#readInputs(dir),
    ]);
    return { info, data: { params, tags, metrics }, inputs };
  }

  async #readLatestMetrics(dir: string): Promise<Record<string, Metric>> {
    const out: Record<string, Metric> = {};
    for (const name of await listNames(path.join(dir, 'metrics'))) {
      if (!name.endsWith('.jsonl')) continue;
      const key = decodeName(name.slice(0, -'.jsonl'.length));
      const latest = latestOf(await this.#readHistory(path.join(dir, 'metrics', name), key));
      if (latest !== undefined) out[key] = latest;
    }
    return out;
  }

  async #readInputs(dir: string): Promise<DatasetInput[]> {
    const { records } = await readJsonLines<DatasetInput>(path.join(dir, 'inputs.jsonl'));
    // Logging the same data set twice in the same context records it once, as MLflow does.
    const seen = new Map<string, DatasetInput>();
    for (const r of records) seen.set(JSON.stringify([r.name, r.digest, r.tags?.[MLFLOW_TAGS.datasetContext] ?? '']), r);
    return [...seen.values()];
  }

  async getRun(runId: string): Promise<RunRecord> {
    return this.#readRun(await this.#runDir(runId));
  }

  async updateRun(runId: string, update: UpdateRunRequest): Promise<RunInfo> {
    const dir = await this.#runDir(runId);
    if (update.status !== undefined && !RUN_STATUSES.includes(update.status)) throw invalid(`invalid run status "${update.status}"`);
    await withLock(path.join(dir, '.meta.lock'), async () => {
      const f = await readJsonIfExists<RunFile>(path.join(dir, 'meta.json'));
      if (f === undefined) throw notFound(`Run '${runId}' not found`);
      if (update.status !== undefined) f.status = update.status;
      if (update.endTime !== undefined) f.end_time = update.endTime;
      if (update.runName !== undefined) f.run_name = update.runName;
      await writeFileAtomic(path.join(dir, 'meta.json'), JSON.stringify(f, null, 2));
    });
    if (update.runName !== undefined) await this.#writeTags(dir, { [MLFLOW_TAGS.runName]: update.runName });
    return this.#readRunInfo(dir);
  }

  async #writeTags(dir: string, tags: Record<string, string>): Promise<void> {
    await forEachLimit(Object.entries(tags), WRITE_CONCURRENCY, ([key, value]) => writeFileAtomic(path.join(dir, 'tags', encodeName(key)), value));
  }

  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    const dir = await this.#runDir(runId);
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    // Validate the whole batch first, so a bad item writes nothing.
    for (const m of metrics) {
      validateKey('Metric', m.key);
      if (typeof m.value !== 'number') throw invalid(`metric "${m.key}" value must be a number, got ${typeof m.value}`);
      if (!Number.isInteger(m.timestamp) || !Number.isInteger(m.step ?? 0)) {
        throw invalid(`metric "${m.key}" needs an integer timestamp (ms) and step`);
      }
    }
    for (const p of params) {
      validateKey('Param', p.key);
      validateParamValue(p.value);
    }
    for (const t of tags) {
      validateKey('Tag', t.key);
      validateTagValue(t.value);
    }
    const paramFile = (key: string) => path.join(dir, 'params', encodeName(key));
    const refuse = (key: string, old: string, value: string) =>
      invalid(
        `Changing param values is not allowed. Param with key='${key}' was already logged with value='${old}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
      );
    // Check every param before writing any, so a refused batch writes nothing (as MLflow's transaction does).
    await forEachLimit(params, WRITE_CONCURRENCY, async (p) => {
      const old = await readTextIfExists(paramFile(p.key));
      if (old !== undefined && old !== p.value) throw refuse(p.key, old, p.value);
    });
    await forEachLimit(params, WRITE_CONCURRENCY, async (p) => {
      if (await createFileExclusive(paramFile(p.key), p.value)) return;
      // Another writer created it since the check: same rule.
      const old = (await readTextIfExists(paramFile(p.key))) ?? '';
      if (old !== p.value) throw refuse(p.key, old, p.value);
    });
    const byKey = new Map<string, string>();
    for (const m of metrics) {
      const line: MetricLine = { value: encodeMetricValue(m.value), timestamp: m.timestamp, step: m.step ?? 0 };
      byKey.set(m.key, (byKey.get(m.key) ?? '') + `${JSON.stringify(line)}\n`);
    }
    await forEachLimit([...byKey], WRITE_CONCURRENCY, ([key, text]) => appendLines(path.join(dir, 'metrics', `${encodeName(key)}.jsonl`), text));
    await this.#writeTags(dir, Object.fromEntries(tags.map((t) => [t.key, t.value])));
    if (tags.some((t) => t.key === MLFLOW_TAGS.runName)) {
      await this.updateRun(runId, { runName: tags.find((t) => t.key === MLFLOW_TAGS.runName)!.value });
    }
  }

  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    const dir = await this.#runDir(runId);
    for (const d of datasets) {
      if (typeof d.name !== 'string' || d.name === '') throw invalid('a dataset input needs a name');
    }
    const lines = datasets.map((d) =>
      JSON.stringify({
        name: d.name,
        digest: d.digest ?? '',
        sourceType: d.sourceType ?? '',
        source: d.source ?? '',
        ...(d.schema === undefined ? {} : { schema: d.schema }),
        ...(d.profile === undefined ? {} : { profile: d.profile }),
        tags: d.tags ?? {},
      } satisfies DatasetInput),
    );
    if (lines.length > 0) await appendLines(path.join(dir, 'inputs.jsonl'), `${lines.join('\n')}\n`);
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const dir = await this.#runDir(runId);
    return this.#readHistory(path.join(dir, 'metrics', `${encodeName(key)}.jsonl`), key);
  }

  async searchRuns(request: SearchRunsRequest): Promise<SearchRunsPage> {
    const clauses = parseFilter(request.filter);
    const order = parseOrderBy(request.orderBy);
    const view = request.runViewType ?? 'ACTIVE_ONLY';
    const maxResults = request.maxResults ?? 1000;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 50_000) {
      throw invalid(`max_results must be between 1 and 50000, got ${maxResults}`);
    }
    const runs: RunRecord[] = [];
    for (const experimentId of request.experimentIds) {
      if (!/^\d+$/.test(String(experimentId))) throw notFound(`No Experiment with id=${experimentId} exists`);
      const runsDir = path.join(this.#experimentDir(String(experimentId)), 'runs');
      for (const runId of await listNames(runsDir)) {
        const dir = path.join(runsDir, runId);
        if (!(await exists(path.join(dir, 'meta.json')))) continue;
        const run = await this.#readRun(dir);
        if (view === 'ACTIVE_ONLY' && run.info.lifecycleStage !== 'active') continue;
        if (view === 'DELETED_ONLY' && run.info.lifecycleStage !== 'deleted') continue;
        if (matchesFilter(run, clauses)) runs.push(run);
      }
    }
    sortRuns(runs, order);
    const offset = decodePageToken(request.pageToken);
    const page = runs.slice(offset, offset + maxResults);
    return offset + maxResults < runs.length ? { runs: page, nextPageToken: encodePageToken(offset + maxResults) } : { runs: page };
  }

  /** Soft-delete (or restore) a run, like MLflow's `runs/delete` and `runs/restore`. */
  async setRunLifecycle(runId: string, stage: LifecycleStage): Promise<void> {
    const dir = await this.#runDir(runId);
    await withLock(path.join(dir, '.meta.lock'), async () => {
      const f = (await readJsonIfExists<RunFile>(path.join(dir, 'meta.json')))!;
      f.lifecycle_stage = stage;
      await writeFileAtomic(path.join(dir, 'meta.json'), JSON.stringify(f, null, 2));
    });
  }

  // ---- artifacts ---------------------------------------------------------------------------------------------

  /** The absolute local path of an artifact (or the artifact root when `artifactPath` is empty). */
  async artifactLocalPath(runId: string, artifactPath = ''): Promise<string> {
    const rel = validateArtifactPath(artifactPath, true);
    return path.join(await this.#runDir(runId), 'artifacts', ...(rel === '' ? [] : rel.split('/')));
  }

  async uploadArtifact(runId: string, artifactPath: string, data: Uint8Array): Promise<void> {
    validateArtifactPath(artifactPath);
    await writeFileAtomic(await this.artifactLocalPath(runId, artifactPath), data);
  }

  async listArtifacts(runId: string, artifactPath = ''): Promise<ArtifactEntry[]> {
    const rel = validateArtifactPath(artifactPath, true);
    const dir = await this.artifactLocalPath(runId, rel);
    const entries: ArtifactEntry[] = [];
    for (const name of await listNames(dir)) {
      const stat = await fs.stat(path.join(dir, name));
      const p = rel === '' ? name : `${rel}/${name}`;
      entries.push(stat.isDirectory() ? { path: p, isDir: true } : { path: p, isDir: false, fileSize: stat.size });
    }
    return entries;
  }

  async downloadArtifact(runId: string, artifactPath: string): Promise<Uint8Array> {
    const file = await this.artifactLocalPath(runId, validateArtifactPath(artifactPath));
    try {
      return new Uint8Array(await fs.readFile(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') {
        throw notFound(`Artifact '${artifactPath}' of run '${runId}' not found`);
      }
      throw err;
    }
  }

  // ---- model registry ----------------------------------------------------------------------------------------

  #modelDir(name: string): string {
    return this.#file('models', encodeName(name));
  }

  async createRegisteredModel(
    name: string,
    options: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<RegisteredModel> {
    if (typeof name !== 'string' || name.trim() === '') throw invalid('registered model name must be a non-empty string');
    const file: ModelFile = { name, creation_timestamp: Date.now(), description: options.description ?? '', tags: options.tags ?? {} };
    if (!(await createFileExclusive(path.join(this.#modelDir(name), 'model.json'), JSON.stringify(file, null, 2)))) {
      throw new TrackingError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
    }
    return (await this.getRegisteredModel(name))!;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    const dir = this.#modelDir(name);
    const f = await readJsonIfExists<ModelFile>(path.join(dir, 'model.json'));
    if (f === undefined) return undefined;
    const aliases = await this.#readAliases(name);
    const versions = await this.#readVersionFiles(name);
    // Computed on read rather than rewritten on every change: registering a version stays lock-free.
    const lastUpdated = Math.max(f.creation_timestamp, ...versions.map((v) => v.last_updated_timestamp));
    return {
      name: f.name,
      creationTimestamp: f.creation_timestamp,
      lastUpdatedTimestamp: lastUpdated,
      description: f.description,
      tags: f.tags,
      aliases,
    };
  }

  async searchRegisteredModels(): Promise<RegisteredModel[]> {
    const models = await Promise.all((await listNames(this.#file('models'))).map((n) => this.getRegisteredModel(decodeName(n))));
    return models.filter((m): m is RegisteredModel => m !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  async #readAliases(name: string): Promise<Record<string, string>> {
    return this.#readKeyValues(path.join(this.#modelDir(name), 'aliases'));
  }

  async #readVersionFiles(name: string): Promise<VersionFile[]> {
    const dir = path.join(this.#modelDir(name), 'versions');
    const files = (await listNames(dir)).filter((n) => /^\d+\.json$/.test(n));
    const versions = await Promise.all(files.map((n) => readJsonIfExists<VersionFile>(path.join(dir, n))));
    return versions.filter((v): v is VersionFile => v !== undefined).sort((a, b) => Number(b.version) - Number(a.version));
  }

  #toVersion(f: VersionFile, aliases: Record<string, string>): ModelVersion {
    return {
      name: f.name,
      version: f.version,
      creationTimestamp: f.creation_timestamp,
      lastUpdatedTimestamp: f.last_updated_timestamp,
      description: f.description,
      source: f.source,
      runId: f.run_id,
      status: f.status,
      tags: f.tags,
      aliases: Object.entries(aliases)
        .filter(([, v]) => v === f.version)
        .map(([a]) => a)
        .sort(),
    };
  }

  async #requireModel(name: string): Promise<void> {
    if (!(await exists(path.join(this.#modelDir(name), 'model.json')))) {
      throw notFound(`Registered Model with name=${name} not found`);
    }
  }

  async createModelVersion(
    name: string,
    options: { source: string; runId?: string; description?: string; tags?: Record<string, string> },
  ): Promise<ModelVersion> {
    await this.#requireModel(name);
    validateModelSource(options.source);
    if (options.runId !== undefined && options.runId !== '') await this.#runDir(options.runId);
    const dir = path.join(this.#modelDir(name), 'versions');
    // Version numbers are allocated by exclusive creation: two concurrent registrations get different numbers.
    for (let attempt = 0; attempt < 1000; attempt++) {
      const existing = await this.#readVersionFiles(name);
      // Re-read on every attempt: a lost race means the winner's file is now the highest.
      const next = String((existing.length === 0 ? 0 : Number(existing[0].version)) + 1);
      const now = Date.now();
      const file: VersionFile = {
        name,
        version: next,
        creation_timestamp: now,
        last_updated_timestamp: now,
        description: options.description ?? '',
        source: options.source,
        run_id: options.runId ?? '',
        status: 'READY',
        tags: options.tags ?? {},
      };
      if (await createFileExclusive(path.join(dir, `${next}.json`), JSON.stringify(file, null, 2))) {
        return this.#toVersion(file, await this.#readAliases(name));
      }
    }
    throw new TrackingError('INTERNAL_ERROR', `could not allocate a version number for model ${name}`);
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const f = /^\d+$/.test(String(version))
      ? await readJsonIfExists<VersionFile>(path.join(this.#modelDir(name), 'versions', `${Number(version)}.json`))
      : undefined;
    if (f === undefined) throw notFound(`Model Version (name=${name}, version=${version}) not found`);
    return this.#toVersion(f, await this.#readAliases(name));
  }

  async searchModelVersions(name: string): Promise<ModelVersion[]> {
    const aliases = await this.#readAliases(name);
    return (await this.#readVersionFiles(name)).map((f) => this.#toVersion(f, aliases));
  }

  async setModelAlias(name: string, alias: string, version: string): Promise<void> {
    validateAlias(alias);
    await this.getModelVersion(name, version);
    await writeFileAtomic(path.join(this.#modelDir(name), 'aliases', encodeName(alias)), String(Number(version)));
  }

  async deleteModelAlias(name: string, alias: string): Promise<void> {
    await this.#requireModel(name);
    await fs.rm(path.join(this.#modelDir(name), 'aliases', encodeName(alias)), { force: true });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    await this.#requireModel(name);
    const version = await readTextIfExists(path.join(this.#modelDir(name), 'aliases', encodeName(alias)));
    if (version === undefined) throw invalid(`Registered model alias ${alias} not found.`);
    return this.getModelVersion(name, version);
  }

  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    return (await this.getModelVersion(name, version)).source;
  }
}

/** MLflow's alias rule: not a version-like `v<digits>` nor `latest`, word characters and dashes. */
export function validateAlias(alias: string): void {
  if (!/^[\w-]{1,255}$/.test(alias) || /^v\d+$/i.test(alias) || alias.toLowerCase() === 'latest') {
    throw invalid(`Invalid alias name: '${alias}'. Aliases are letters, digits, '_' and '-', and not 'latest' or 'v<number>'.`);
  }
}
