/**
 * @module
 * Public types of experiment tracking and the model registry. They follow MLflow's entities (REST API 2.0)
 * field for field, in camelCase, so a run logged locally and a run on an MLflow server look the same:
 * string ids, timestamps in milliseconds since the epoch, params and tags as strings, metrics as numbers.
 */

/** Run lifecycle, as MLflow names it. */
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];

/** `active` or soft-`deleted`, as MLflow names it. */
export type LifecycleStage = 'active' | 'deleted';

export interface Experiment {
  /** String id: `"0"`, `"1"` … locally and on a SQL-backed server, a long number on a file-store server. */
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

/** One logged value of a metric. NaN and ±Infinity are allowed (sent to MLflow as the strings it expects). */
export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface RunInfo {
  /** 32 lowercase hex characters. */
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  /** Where the run's artifacts live: a folder of the local store, or the server's `mlflow-artifacts:/…` URI. */
  artifactUri: string;
  lifecycleStage: LifecycleStage;
}

export interface RunData {
  params: Record<string, string>;
  tags: Record<string, string>;
  /** The latest value of each metric: highest step, then latest timestamp, then highest value (MLflow's rule). */
  metrics: Record<string, Metric>;
}

/** A data set a run consumed (MLflow's `log-inputs`): the lineage from a model back to its training data. */
export interface DatasetInput {
  name: string;
  /** A content digest of the data (e.g. the training set's sha256). */
  digest: string;
  /** `local`, `http`, `s3` …: what kind of place `source` names. */
  sourceType: string;
  /** Where the data came from, as MLflow stores it: a JSON string such as `{"uri": "file:///…"}`. */
  source: string;
  /** The schema as a JSON string, if known. */
  schema?: string;
  /** A profile (row count …) as a JSON string, if known. */
  profile?: string;
  /** Input tags; `mlflow.data.context` says how it was used (`training`, `eval`). */
  tags: Record<string, string>;
}

export interface RunRecord {
  info: RunInfo;
  data: RunData;
  inputs: DatasetInput[];
}

/** One entry of an artifact listing; `path` is relative to the run's artifact root. */
export interface ArtifactEntry {
  path: string;
  isDir: boolean;
  fileSize?: number;
}

/** Status of a model version. Versions registered here are `READY` at once. */
export type ModelVersionStatus = 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';

export interface ModelVersion {
  name: string;
  /** A string holding a positive integer, as MLflow sends it. */
  version: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  description: string;
  /** Where the bundle lives: `runs:/<run_id>/<path>`, `mlflow-artifacts:/…`, or a path. */
  source: string;
  runId: string;
  status: ModelVersionStatus;
  tags: Record<string, string>;
  /** Aliases pointing at this version. */
  aliases: string[];
}

export interface RegisteredModel {
  name: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  description: string;
  tags: Record<string, string>;
  /** alias → version. */
  aliases: Record<string, string>;
}

/** A metric to log; `step` defaults to 0 (MLflow's default). */
export type MetricInput = Omit<Metric, 'step'> & { step?: number };

/** A `log-batch`: every part is optional. */
export interface LogBatch {
  metrics?: MetricInput[];
  params?: Array<{ key: string; value: string }>;
  tags?: Array<{ key: string; value: string }>;
}

export interface CreateRunRequest {
  experimentId: string;
  runName?: string;
  /** @default Date.now() */
  startTime?: number;
  tags?: Record<string, string>;
}

export interface UpdateRunRequest {
  status?: RunStatus;
  endTime?: number;
  runName?: string;
}

export interface SearchRunsRequest {
  experimentIds: string[];
  /**
   * MLflow's search syntax: `metrics.loss < 0.5 and params.lr = '0.01' and tags.team = 'ads'
   * and attributes.status = 'FINISHED'`, with `=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN`.
   */
  filter?: string;
  /** e.g. `['metrics.auc DESC', 'attributes.start_time']`. @default ['attributes.start_time DESC'] */
  orderBy?: string[];
  /** @default 1000 */
  maxResults?: number;
  pageToken?: string;
  /** @default 'ACTIVE_ONLY' */
  runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
}

export interface SearchRunsPage {
  runs: RunRecord[];
  nextPageToken?: string;
}

/**
 * The small contract every tracking backend fulfils (one file per backend: `local-store.ts`, `mlflow-client.ts`).
 * Errors are `TrackingError`s with MLflow's `errorCode`s, so callers handle every backend the same way.
 */
export interface TrackingBackend {
  /** `local` for the folder store, `mlflow` for a tracking server. */
  readonly kind: 'local' | 'mlflow';
  /** The folder or server URL. */
  readonly uri: string;

  createExperiment(name: string, tags?: Record<string, string>): Promise<string>;
  getExperiment(experimentId: string): Promise<Experiment>;
  /** `undefined` when no experiment has this name. */
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  /** Active experiments. */
  searchExperiments(): Promise<Experiment[]>;

  createRun(request: CreateRunRequest): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord>;
  updateRun(runId: string, update: UpdateRunRequest): Promise<RunInfo>;
  /** Params are write-once (a different value is refused), metrics append, tags overwrite. */
  logBatch(runId: string, batch: LogBatch): Promise<void>;
  logInputs(runId: string, datasets: DatasetInput[]): Promise<void>;
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;
  searchRuns(request: SearchRunsRequest): Promise<SearchRunsPage>;

  /** Store one file at `artifactPath` (relative, `/`-separated) under the run's artifact root. */
  uploadArtifact(runId: string, artifactPath: string, data: Uint8Array): Promise<void>;
  /** The direct children of `path` (the root when omitted). */
  listArtifacts(runId: string, path?: string): Promise<ArtifactEntry[]>;
  downloadArtifact(runId: string, artifactPath: string): Promise<Uint8Array>;

  createRegisteredModel(name: string, options?: { description?: string; tags?: Record<string, string> }): Promise<RegisteredModel>;
  /** `undefined` when no model has this name. */
  getRegisteredModel(name: string): Promise<RegisteredModel | undefined>;
  searchRegisteredModels(): Promise<RegisteredModel[]>;
  createModelVersion(
    name: string,
    options: { source: string; runId?: string; description?: string; tags?: Record<string, string> },
  ): Promise<ModelVersion>;
  getModelVersion(name: string, version: string): Promise<ModelVersion>;
  /** Every version of one model, newest first. */
  searchModelVersions(name: string): Promise<ModelVersion[]>;
  setModelAlias(name: string, alias: string, version: string): Promise<void>;
  deleteModelAlias(name: string, alias: string): Promise<void>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
  /** Where the version's files can be fetched from (MLflow's `get-download-uri`). */
  getModelVersionDownloadUri(name: string, version: string): Promise<string>;
}

/** Reserved tag keys MLflow's UI and clients understand. */
export const MLFLOW_TAGS = {
  runName: 'mlflow.runName',
  user: 'mlflow.user',
  parentRunId: 'mlflow.parentRunId',
  sourceName: 'mlflow.source.name',
  sourceType: 'mlflow.source.type',
  gitCommit: 'mlflow.source.git.commit',
  note: 'mlflow.note.content',
  datasetContext: 'mlflow.data.context',
} as const;

/** MLflow's size limits, shared by the local store's validation and the MLflow client's batch splitting. */
export const MLFLOW_LIMITS = {
  maxMetricsPerBatch: 1000,
  maxParamsPerBatch: 100,
  maxTagsPerBatch: 100,
  maxItemsPerBatch: 1000,
  /** Bytes of one log-batch request body (MLflow's MAX_BATCH_LOG_REQUEST_SIZE). */
  maxBatchBytes: 1_000_000,
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  maxTagValueLength: 8000,
} as const;
