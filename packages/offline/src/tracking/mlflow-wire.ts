/**
 * MLflow's REST entities as the recorded exchanges show them (snake_case, string ids, ms timestamps, key/value
 * lists), and their conversion to lockstep's camelCase types.
 */
import type { WireKeyValue, WireMetric } from './mlflow-batch.ts';
import { decodeMetricValue } from './metric-values.ts';
import type {
  ArtifactEntry,
  Experiment,
  LifecycleStage,
  Metric,
  ModelVersion,
  ModelVersionStatus,
  RegisteredModel,
  RunInfo,
  RunRecord,
  RunStatus,
} from './types.ts';

export interface WireExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: LifecycleStage;
  creation_time?: number;
  last_update_time?: number;
  tags?: WireKeyValue[];
}

export interface WireRunInfo {
  run_id?: string;
  run_uuid?: string;
  experiment_id: string;
  run_name?: string;
  user_id?: string;
  status: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage?: LifecycleStage;
}

export interface WireDatasetInput {
  tags?: WireKeyValue[];
  dataset: { name: string; digest?: string; source_type?: string; source?: string; schema?: string; profile?: string };
}

export interface WireRun {
  info: WireRunInfo;
  data?: { metrics?: WireMetric[]; params?: WireKeyValue[]; tags?: WireKeyValue[] };
  inputs?: { dataset_inputs?: WireDatasetInput[] };
}

export interface WireModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  source?: string;
  run_id?: string;
  status?: ModelVersionStatus;
  tags?: WireKeyValue[];
  aliases?: string[];
}

export interface WireRegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  tags?: WireKeyValue[];
  aliases?: Array<{ alias: string; version: string }>;
}

export interface WireFileInfo {
  path: string;
  is_dir?: boolean;
  file_size?: number | string;
}

export const toRecord = (pairs: WireKeyValue[] | undefined): Record<string, string> =>
  Object.fromEntries((pairs ?? []).map((p) => [p.key, p.value]));
export const toPairs = (record: Record<string, string> | undefined): WireKeyValue[] =>
  Object.entries(record ?? {}).map(([key, value]) => ({ key, value }));

export function toExperiment(e: WireExperiment): Experiment {
  return {
    experimentId: e.experiment_id,
    name: e.name,
    artifactLocation: e.artifact_location ?? '',
    lifecycleStage: e.lifecycle_stage ?? 'active',
    creationTime: e.creation_time ?? 0,
    lastUpdateTime: e.last_update_time ?? 0,
    tags: toRecord(e.tags),
  };
}

export function toMetric(m: WireMetric): Metric {
  return { key: m.key, value: decodeMetricValue(m.value), timestamp: m.timestamp ?? 0, step: m.step ?? 0 };
}

export function toRunInfo(i: WireRunInfo): RunInfo {
  return {
    runId: i.run_id ?? i.run_uuid ?? '',
    experimentId: i.experiment_id,
    runName: i.run_name ?? '',
    userId: i.user_id ?? '',
    status: i.status,
    startTime: i.start_time ?? 0,
    ...(i.end_time === undefined || i.end_time === null ? {} : { endTime: i.end_time }),
    artifactUri: i.artifact_uri ?? '',
    lifecycleStage: i.lifecycle_stage ?? 'active',
  };
}

export function toRunRecord(r: WireRun): RunRecord {
  return {
    info: toRunInfo(r.info),
    data: {
      params: toRecord(r.data?.params),
      tags: toRecord(r.data?.tags),
      metrics: Object.fromEntries((r.data?.metrics ?? []).map((m) => [m.key, toMetric(m)])),
    },
    inputs: (r.inputs?.dataset_inputs ?? []).map((d) => ({
      name: d.dataset.name,
      digest: d.dataset.digest ?? '',
      sourceType: d.dataset.source_type ?? '',
      source: d.dataset.source ?? '',
      ...(d.dataset.schema ? { schema: d.dataset.schema } : {}),
      ...(d.dataset.profile ? { profile: d.dataset.profile } : {}),
      tags: toRecord(d.tags),
    })),
  };
}

export function toModelVersion(v: WireModelVersion): ModelVersion {
  return {
    name: v.name,
    version: String(v.version),
    creationTimestamp: v.creation_timestamp ?? 0,
    lastUpdatedTimestamp: v.last_updated_timestamp ?? 0,
    description: v.description ?? '',
    source: v.source ?? '',
    runId: v.run_id ?? '',
    status: v.status ?? 'READY',
    tags: toRecord(v.tags),
    aliases: v.aliases ?? [],
  };
}

export function toRegisteredModel(m: WireRegisteredModel): RegisteredModel {
  return {
    name: m.name,
    creationTimestamp: m.creation_timestamp ?? 0,
    lastUpdatedTimestamp: m.last_updated_timestamp ?? 0,
    description: m.description ?? '',
    tags: toRecord(m.tags),
    aliases: Object.fromEntries((m.aliases ?? []).map((a) => [a.alias, String(a.version)])),
  };
}

export function toArtifactEntry(f: WireFileInfo): ArtifactEntry {
  return f.is_dir ? { path: f.path, isDir: true } : { path: f.path, isDir: false, fileSize: Number(f.file_size ?? 0) };
}
