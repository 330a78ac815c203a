/**
 * A live run: what training code logs through. Params, metrics, tags, dataset inputs and artifacts (files and
 * folders) go to whichever backend the tracker has.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Tracker, StartRunOptions } from './tracker.ts';
import { MLFLOW_TAGS, type DatasetInput, type RunRecord, type RunStatus, type TrackingBackend } from './types.ts';

/** A data set a run used, for lineage (`log-inputs`). */
export interface RunInput {
  name: string;
  /** A content digest of the data, e.g. the training set's sha256. */
  digest: string;
  /** Where it came from (a path or URI); stored as MLflow's `{"uri": …}` JSON. */
  source?: string;
  /** @default 'local' */
  sourceType?: string;
  schema?: unknown;
  profile?: unknown;
  /** How it was used: `training`, `validation`, `test`. @default 'training' */
  context?: string;
}

/** Params and dataset fields are strings: objects as JSON, everything else with String(). */
export function paramString(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** A live run: log params, metrics, tags, inputs and artifacts, then `end()` it. */
export class Run {
  readonly id: string;
  readonly experimentId: string;
  readonly name: string;
  readonly artifactUri: string;

  constructor(
    readonly tracker: Tracker,
    record: RunRecord,
  ) {
    this.id = record.info.runId;
    this.experimentId = record.info.experimentId;
    this.name = record.info.runName;
    this.artifactUri = record.info.artifactUri;
  }

  get #backend(): TrackingBackend {
    return this.tracker.backend;
  }

  /** Log one param; non-strings are stringified (objects as JSON). Params are write-once. */
  async logParam(key: string, value: unknown): Promise<void> {
    await this.logParams({ [key]: value });
  }

  /** Log many params in one batch; `undefined` values are skipped. */
  async logParams(params: Record<string, unknown>): Promise<void> {
    const list = Object.entries(params)
      .filter(([, v]) => v !== undefined)
      .map(([key, value]) => ({ key, value: paramString(value) }));
    if (list.length > 0) await this.#backend.logBatch(this.id, { params: list });
  }

  /** Log one metric value. @param options.step @default 0 @param options.timestamp @default Date.now() */
  async logMetric(key: string, value: number, options: { step?: number; timestamp?: number } = {}): Promise<void> {
    await this.logMetrics({ [key]: value }, options);
  }

  /** Log several metrics at the same step and time (e.g. one epoch's losses) in one batch. */
  async logMetrics(metrics: Record<string, number>, options: { step?: number; timestamp?: number } = {}): Promise<void> {
    const timestamp = options.timestamp ?? Date.now();
    const step = options.step ?? 0;
    const list = Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp, step }));
    if (list.length > 0) await this.#backend.logBatch(this.id, { metrics: list });
  }

  async setTag(key: string, value: string): Promise<void> {
    await this.setTags({ [key]: value });
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    const list = Object.entries(tags).map(([key, value]) => ({ key, value: String(value) }));
    if (list.length > 0) await this.#backend.logBatch(this.id, { tags: list });
  }

  /** Record a data set the run used (the training set's digest is the data lineage of the model). */
  async logInput(input: RunInput): Promise<void> {
    const dataset: DatasetInput = {
      name: input.name,
      digest: input.digest,
      sourceType: input.sourceType ?? 'local',
      source: input.source === undefined ? '' : JSON.stringify({ uri: input.source }),
      ...(input.schema === undefined ? {} : { schema: paramString(input.schema) }),
      ...(input.profile === undefined ? {} : { profile: paramString(input.profile) }),
      tags: { [MLFLOW_TAGS.datasetContext]: input.context ?? 'training' },
    };
    await this.#backend.logInputs(this.id, [dataset]);
  }

  /**
   * Log a file or a folder as artifacts.
   * - A file goes to `<artifactPath>/<file name>` (the root when `artifactPath` is omitted), like MLflow's `log_artifact`.
   * - A folder's contents go under `artifactPath` (default: the folder's own name), like MLflow's `log_artifacts`:
   *   `run.logArtifact('out/bundle', 'model')` stores `model/manifest.json`, `model/model.onnx`, ….
   */
  async logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    const stat = await fs.stat(localPath);
    const dest = artifactPath?.replace(/^\/+|\/+$/g, '');
    if (!stat.isDirectory()) {
      const target = dest ? `${dest}/${path.basename(localPath)}` : path.basename(localPath);
      await this.#backend.uploadArtifact(this.id, target, new Uint8Array(await fs.readFile(localPath)));
      return;
    }
    const root = dest ?? path.basename(path.resolve(localPath));
    for (const entry of await fs.readdir(localPath, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const full = path.join(entry.parentPath, entry.name);
      const rel = path.relative(localPath, full).split(path.sep).join('/');
      await this.#backend.uploadArtifact(this.id, root ? `${root}/${rel}` : rel, new Uint8Array(await fs.readFile(full)));
    }
  }

  /** Store `text` as the artifact file `artifactFile` (e.g. `report.html`). */
  async logText(text: string, artifactFile: string): Promise<void> {
    await this.#backend.uploadArtifact(this.id, artifactFile, new TextEncoder().encode(text));
  }

  /** Store `value` as pretty JSON in the artifact file `artifactFile`. */
  async logDict(value: unknown, artifactFile: string): Promise<void> {
    await this.logText(`${JSON.stringify(value, null, 2)}\n`, artifactFile);
  }

  /** Start a nested run under this one (a sweep's trial), in the same experiment. */
  async startChild(options: Omit<StartRunOptions, 'parentRunId' | 'experiment' | 'experimentId'> = {}): Promise<Run> {
    return this.tracker.startRun({ ...options, experimentId: this.experimentId, parentRunId: this.id });
  }

  /** End the run. @param status @default 'FINISHED' */
  async end(status: RunStatus = 'FINISHED', endTime = Date.now()): Promise<void> {
    await this.#backend.updateRun(this.id, { status, endTime });
  }

  /** The run as stored now (params, latest metrics, tags, inputs). */
  async get(): Promise<RunRecord> {
    return this.#backend.getRun(this.id);
  }
}
