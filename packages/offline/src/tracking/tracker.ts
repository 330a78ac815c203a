/**
 * The `Tracker` facade: what training code and the CLI use. It picks a backend from a URI (a local folder by
 * default, an MLflow server for `http(s)://`), and adds what MLflow's fluent API gives an ML engineer on top of the
 * raw backend calls: experiments by name, run handles, source lineage (git commit, entry script, user), artifacts from
 * files and folders, registering a run's bundle and resolving `name@alias` to a version and a local folder.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TrackingError } from '@lockstep/sdk';
import { encodeName, LocalStore } from './local-store.ts';
import { MlflowClient, type MlflowClientOptions } from './mlflow-client.ts';
import { parseModelRef, parseRunsUri } from './model-uri.ts';
import { Run } from './run.ts';
import {
  MLFLOW_TAGS,
  type ArtifactEntry,
  type Experiment,
  type Metric,
  type ModelVersion,
  type RegisteredModel,
  type RunRecord,
  type TrackingBackend,
} from './types.ts';

/** Where the local store lives when nothing else is said, relative to the project folder. */
export const DEFAULT_TRACKING_DIR = '.lockstep/tracking';

/** Options of {@link openTracker}; the MLflow ones only matter for an `http(s)://` URI. */
export interface OpenTrackerOptions extends MlflowClientOptions {
  /** The project folder a relative store path is resolved against. @default process.cwd() */
  cwd?: string;
}

/** Which backend a tracking URI names. */
export function parseTrackingUri(
  uri: string | undefined,
  cwd = process.cwd(),
): { kind: 'local'; root: string } | { kind: 'mlflow'; url: string } {
  const value = (uri ?? process.env.LOCKSTEP_TRACKING_URI ?? '').trim() || DEFAULT_TRACKING_DIR;
  if (/^https?:\/\//i.test(value)) return { kind: 'mlflow', url: value };
  if (/^file:/i.test(value)) return { kind: 'local', root: new URL(value).pathname };
  const local = value.replace(/^local:(\/\/)?/i, '') || DEFAULT_TRACKING_DIR;
  if (/^[a-z][a-z0-9+.-]*:/i.test(local) && !/^[a-z]:[\\/]/i.test(local)) {
    throw new TrackingError('INVALID_PARAMETER_VALUE', `unsupported tracking URI "${value}": use a folder, local:<folder> or http(s)://host:port`);
  }
  return { kind: 'local', root: path.resolve(cwd, local) };
}

/**
 * Open the tracker named by `uri`, else `LOCKSTEP_TRACKING_URI`, else the local store in `.lockstep/tracking`.
 * `http(s)://host:5000` speaks to an MLflow server (bearer or basic auth from the options or the environment);
 * a folder, `local:<folder>` or `file://<folder>` opens the embedded store.
 */
export async function openTracker(uri?: string, options: OpenTrackerOptions = {}): Promise<Tracker> {
  const target = parseTrackingUri(uri, options.cwd);
  const backend = target.kind === 'mlflow' ? new MlflowClient(target.url, options) : await LocalStore.open(target.root);
  return new Tracker(backend, { cwd: options.cwd });
}

/** Options of {@link Tracker.startRun}. */
export interface StartRunOptions {
  /** Experiment name, created if missing. @default env LOCKSTEP_EXPERIMENT_NAME, else 'Default' */
  experiment?: string;
  /** Experiment id; wins over `experiment`. */
  experimentId?: string;
  /** Run name. @default a short form of the run id */
  name?: string;
  tags?: Record<string, string>;
  /** Makes this a nested run (a sweep's trial): sets `mlflow.parentRunId`. */
  parentRunId?: string;
  /** Stored as `mlflow.note.content`, which MLflow's UI shows as the run's description. */
  description?: string;
  /** @default Date.now() */
  startTime?: number;
  /** Record the git commit, the entry script and the user as MLflow's `mlflow.source.*` and `mlflow.user` tags. @default true */
  captureSource?: boolean;
}

/** Options of {@link Tracker.registerModel}. */
export interface RegisterModelOptions {
  /** The run that produced the bundle. */
  runId: string;
  /** The bundle's folder among the run's artifacts (ignored when `source` is given). @default 'model' */
  artifactPath?: string;
  /** An explicit source URI instead of `runs:/<runId>/<artifactPath>`. */
  source?: string;
  description?: string;
  tags?: Record<string, string>;
  /** Point these aliases (e.g. `['champion']`) at the new version. */
  aliases?: string[];
}

/** A model reference resolved to one version and a local folder holding its files. */
export interface ResolvedModel {
  name: string;
  version: string;
  modelVersion: ModelVersion;
  /** The bundle's folder on this machine: in the local store, or downloaded from the server into the cache. */
  path: string;
}

/** A registered model with all its versions, newest first. */
export interface ModelWithVersions extends RegisteredModel {
  versions: ModelVersion[];
}


function git(args: string[], cwd: string): string | undefined {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** MLflow's source tags for this process: who ran what, from which commit. */
export function sourceTags(cwd = process.cwd()): Record<string, string> {
  const tags: Record<string, string> = { [MLFLOW_TAGS.sourceType]: 'LOCAL' };
  try {
    tags[MLFLOW_TAGS.user] = os.userInfo().username;
  } catch {
    // no user name (some containers): leave the tag out
  }
  const entry = process.argv[1];
  if (entry) tags[MLFLOW_TAGS.sourceName] = path.relative(cwd, entry) || entry;
  const commit = git(['rev-parse', 'HEAD'], cwd);
  if (commit) {
    tags[MLFLOW_TAGS.gitCommit] = commit;
    tags['lockstep.git.dirty'] = String((git(['status', '--porcelain', '--untracked-files=no'], cwd) ?? '') !== '');
  }
  return tags;
}

/** The tracking API: runs, metrics, artifacts and the model registry, on a local store or an MLflow server. */
export class Tracker {
  readonly #cwd: string;

  constructor(
    readonly backend: TrackingBackend,
    options: { cwd?: string } = {},
  ) {
    this.#cwd = options.cwd ?? process.cwd();
  }

  get kind(): 'local' | 'mlflow' {
    return this.backend.kind;
  }

  get uri(): string {
    return this.backend.uri;
  }

  /** The experiment with this name, created if it does not exist yet (safe when two processes race). */
  async getOrCreateExperiment(name: string): Promise<Experiment> {
    const found = await this.backend.getExperimentByName(name);
    if (found !== undefined) return found;
    try {
      return await this.backend.getExperiment(await this.backend.createExperiment(name));
    } catch (err) {
      if (err instanceof TrackingError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const raced = await this.backend.getExperimentByName(name);
        if (raced !== undefined) return raced;
      }
      throw err;
    }
  }

  async listExperiments(): Promise<Experiment[]> {
    return this.backend.searchExperiments();
  }

  /** Start a run (status RUNNING). End it with `run.end()`, or use {@link Tracker.withRun}. */
  async startRun(options: StartRunOptions = {}): Promise<Run> {
    const experimentId =
      options.experimentId ?? (await this.getOrCreateExperiment(options.experiment ?? process.env.LOCKSTEP_EXPERIMENT_NAME ?? 'Default')).experimentId;
    const tags: Record<string, string> = {
      ...(options.captureSource === false ? {} : sourceTags(this.#cwd)),
      ...options.tags,
    };
    if (options.parentRunId) tags[MLFLOW_TAGS.parentRunId] = options.parentRunId;
    if (options.description) tags[MLFLOW_TAGS.note] = options.description;
    const record = await this.backend.createRun({
      experimentId,
      ...(options.name === undefined ? {} : { runName: options.name }),
      startTime: options.startTime ?? Date.now(),
      tags,
    });
    return new Run(this, record);
  }

  /** Run `fn` inside a run: it ends FINISHED when `fn` resolves, FAILED (and rethrows) when it throws. */
  async withRun<T>(options: StartRunOptions, fn: (run: Run) => Promise<T>): Promise<T> {
    const run = await this.startRun(options);
    try {
      const result = await fn(run);
      await run.end('FINISHED');
      return result;
    } catch (err) {
      await run.end('FAILED').catch(() => undefined);
      throw err;
    }
  }

  async getRun(runId: string): Promise<RunRecord> {
    return this.backend.getRun(runId);
  }

  async metricHistory(runId: string, key: string): Promise<Metric[]> {
    return this.backend.getMetricHistory(runId, key);
  }

  /**
   * Search runs with MLflow's filter syntax across the named experiments (all when none are named), following
   * pages up to `maxResults`.
   */
  async searchRuns(
    options: { experiments?: string[]; experimentIds?: string[]; filter?: string; orderBy?: string[]; maxResults?: number } = {},
  ): Promise<RunRecord[]> {
    let ids = options.experimentIds ?? [];
    if (options.experiments !== undefined) {
      for (const name of options.experiments) {
        const e = await this.backend.getExperimentByName(name);
        if (e === undefined) throw new TrackingError('RESOURCE_DOES_NOT_EXIST', `no experiment named "${name}"`);
        ids = [...ids, e.experimentId];
      }
    } else if (options.experimentIds === undefined) {
      ids = (await this.backend.searchExperiments()).map((e) => e.experimentId);
    }
    if (ids.length === 0) return [];
    const limit = options.maxResults ?? 1000;
    const runs: RunRecord[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.backend.searchRuns({
        experimentIds: ids,
        ...(options.filter ? { filter: options.filter } : {}),
        ...(options.orderBy ? { orderBy: options.orderBy } : {}),
        maxResults: Math.min(1000, limit - runs.length),
        ...(pageToken ? { pageToken } : {}),
      });
      runs.push(...page.runs);
      pageToken = page.nextPageToken;
    } while (pageToken && runs.length < limit);
    return runs;
  }

  /** The nested runs of a parent (a sweep's trials). */
  async childRuns(parentRunId: string): Promise<RunRecord[]> {
    const parent = await this.backend.getRun(parentRunId);
    return this.searchRuns({
      experimentIds: [parent.info.experimentId],
      filter: `tags.mlflow.parentRunId = '${parentRunId}'`,
    });
  }

  // ---- artifacts ---------------------------------------------------------------------------------------------

  /** Every file under `artifactPath` (recursively), paths relative to the run's artifact root. */
  async listArtifactsRecursive(runId: string, artifactPath = ''): Promise<ArtifactEntry[]> {
    const out: ArtifactEntry[] = [];
    for (const entry of await this.backend.listArtifacts(runId, artifactPath)) {
      if (entry.isDir) out.push(...(await this.listArtifactsRecursive(runId, entry.path)));
      else out.push(entry);
    }
    return out;
  }

  /** Download a run's artifact folder (or file) into `destDir`; answers the local path of `artifactPath`. */
  async downloadArtifacts(runId: string, artifactPath: string, destDir: string): Promise<string> {
    const files = await this.listArtifactsRecursive(runId, artifactPath);
    if (files.length === 0) {
      // Not a folder: a single file, or nothing (downloadArtifact then fails with a typed not-found error).
      const target = path.join(destDir, path.basename(artifactPath));
      await fs.mkdir(destDir, { recursive: true });
      await fs.writeFile(target, await this.backend.downloadArtifact(runId, artifactPath));
      return target;
    }
    for (const f of files) {
      const rel = artifactPath === '' ? f.path : path.posix.relative(artifactPath, f.path);
      const target = path.join(destDir, ...rel.split('/'));
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, await this.backend.downloadArtifact(runId, f.path));
    }
    return destDir;
  }

  // ---- model registry ----------------------------------------------------------------------------------------

  /**
   * Register a run's bundle as the next version of `name` (creating the registered model on first use), with the
   * run id and source for lineage, and optionally point aliases at it.
   */
  async registerModel(name: string, options: RegisterModelOptions): Promise<ModelVersion> {
    const run = await this.backend.getRun(options.runId);
    let source = options.source;
    if (source === undefined) {
      const artifactPath = (options.artifactPath ?? 'model').replace(/^\/+|\/+$/g, '');
      const parent = path.posix.dirname(artifactPath);
      const siblings = await this.backend.listArtifacts(options.runId, parent === '.' ? '' : parent);
      if (!siblings.some((e) => e.path === artifactPath)) {
        throw new TrackingError(
          'RESOURCE_DOES_NOT_EXIST',
          `run ${options.runId} has no artifact "${artifactPath}" to register; log the bundle first (run.logArtifact(bundleDir, '${artifactPath}'))`,
        );
      }
      // A server's own artifact URI resolves without the run; runs:/ is MLflow's portable form otherwise.
      source = run.info.artifactUri.startsWith('mlflow-artifacts:')
        ? `${run.info.artifactUri.replace(/\/+$/, '')}/${artifactPath}`
        : `runs:/${options.runId}/${artifactPath}`;
    }
    if ((await this.backend.getRegisteredModel(name)) === undefined) {
      try {
        await this.backend.createRegisteredModel(name);
      } catch (err) {
        // Another process registered the first version at the same moment: fine.
        if (!(err instanceof TrackingError && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
      }
    }
    const version = await this.backend.createModelVersion(name, {
      source,
      runId: options.runId,
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(options.tags === undefined ? {} : { tags: options.tags }),
    });
    for (const alias of options.aliases ?? []) await this.backend.setModelAlias(name, alias, version.version);
    return options.aliases?.length ? this.getModelVersion(`${name}/${version.version}`) : version;
  }

  /** Point `alias` (e.g. `champion`) at `version`, moving it from whichever version had it. */
  async setAlias(name: string, alias: string, version: string | number): Promise<void> {
    await this.backend.setModelAlias(name, alias, String(version));
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.backend.deleteModelAlias(name, alias);
  }

  /** The version a reference names: `ads-ctr@champion`, `ads-ctr/3`, `ads-ctr/latest`, `ads-ctr`, or `models:/…`. */
  async getModelVersion(ref: string): Promise<ModelVersion> {
    const parsed = parseModelRef(ref);
    if ('alias' in parsed) return this.backend.getModelVersionByAlias(parsed.name, parsed.alias);
    const model = await this.backend.getRegisteredModel(parsed.name);
    if (model === undefined) throw new TrackingError('RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${parsed.name} not found`);
    const aliasesOf = (v: ModelVersion) => withAliases(v, Object.keys(model.aliases).filter((a) => model.aliases[a] === v.version));
    if ('version' in parsed) return aliasesOf(await this.backend.getModelVersion(parsed.name, parsed.version));
    const [latest] = await this.backend.searchModelVersions(parsed.name);
    if (latest === undefined) throw new TrackingError('RESOURCE_DOES_NOT_EXIST', `model ${parsed.name} has no versions`);
    return aliasesOf(latest);
  }

  /**
   * Resolve a reference to a version and a local folder with its bundle: the run's artifact folder in the local
   * store, or a copy downloaded from the MLflow server into `cacheDir` (reused when already complete).
   */
  async resolveModel(ref: string, options: { cacheDir?: string } = {}): Promise<ResolvedModel> {
    const modelVersion = await this.getModelVersion(ref);
    const { name, version } = modelVersion;
    const base = { name, version, modelVersion };
    const source = modelVersion.source;
    const runsUri = parseRunsUri(source);
    if (this.backend instanceof LocalStore) {
      if (runsUri) return { ...base, path: await this.backend.artifactLocalPath(runsUri.runId, runsUri.path) };
      return { ...base, path: source.startsWith('file:') ? new URL(source).pathname : path.resolve(this.#cwd, source) };
    }
    const cache = path.join(options.cacheDir ?? path.join(this.#cwd, '.lockstep', 'cache', 'models'), encodeName(name), version);
    const marker = path.join(cache, '.lockstep-complete');
    try {
      await fs.access(marker);
      return { ...base, path: cache };
    } catch {
      // not cached yet
    }
    await fs.rm(cache, { recursive: true, force: true });
    const client = this.backend as MlflowClient;
    const uri = runsUri ? source : await client.getModelVersionDownloadUri(name, version);
    const viaRun = parseRunsUri(uri);
    if (viaRun) {
      await this.downloadArtifacts(viaRun.runId, viaRun.path, cache);
    } else if (uri.startsWith('mlflow-artifacts:')) {
      await downloadArtifactTree(client, uri, cache);
    } else {
      throw new TrackingError('UNSUPPORTED', `cannot download model ${name}/${version} from ${uri}: only runs:/ and mlflow-artifacts:/ sources are supported`);
    }
    await fs.writeFile(marker, `${name}/${version}\n`);
    return { ...base, path: cache };
  }

  /** Every registered model with its versions (newest first) and aliases. */
  async listModels(): Promise<ModelWithVersions[]> {
    const models = await this.backend.searchRegisteredModels();
    return Promise.all(
      models.map(async (m) => {
        const versions = (await this.backend.searchModelVersions(m.name)).map((v) =>
          withAliases(v, Object.keys(m.aliases).filter((a) => m.aliases[a] === v.version)),
        );
        return { ...m, versions };
      }),
    );
  }
}

function withAliases(v: ModelVersion, aliases: string[]): ModelVersion {
  return { ...v, aliases: [...new Set([...v.aliases, ...aliases])].sort() };
}

async function downloadArtifactTree(client: MlflowClient, uri: string, dest: string): Promise<void> {
  const entries = await client.listArtifactUri(uri);
  if (entries.length === 0) {
    await fs.mkdir(dest, { recursive: true });
    await fs.writeFile(path.join(dest, path.posix.basename(uri)), await client.downloadArtifactUri(uri));
    return;
  }
  for (const e of entries) {
    const name = path.posix.basename(e.path);
    if (e.isDir) await downloadArtifactTree(client, `${uri}/${name}`, path.join(dest, name));
    else {
      await fs.mkdir(dest, { recursive: true });
      await fs.writeFile(path.join(dest, name), await client.downloadArtifactUri(`${uri}/${name}`));
    }
  }
}
