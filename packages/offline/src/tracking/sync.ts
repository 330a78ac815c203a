/**
 * Copy local runs and registered models to an MLflow server, so a team can start with the local store and move.
 *
 * Idempotent and resumable: each copied run carries the tag `lockstep.sync.sourceRunId` and gets
 * `lockstep.sync.complete` last, so a second sync skips finished copies and an interrupted one is completed
 * (params are re-sent — identical values are accepted —, metric histories only from where the copy stopped,
 * artifacts overwritten). Model versions carry `lockstep.sync.source = <name>/<version>`; aliases are moved to match.
 */
import { TrackingError } from '@lockstep/sdk';
import { parseRunsUri } from './model-uri.ts';
import { MLFLOW_TAGS, type Metric, type RunRecord, type TrackingBackend } from './types.ts';

export const SYNC_TAGS = {
  sourceRunId: 'lockstep.sync.sourceRunId',
  complete: 'lockstep.sync.complete',
  sourceVersion: 'lockstep.sync.source',
} as const;

/** Options of {@link syncToMlflow}. */
export interface SyncOptions {
  /** Experiment names to copy. @default every active experiment */
  experiments?: string[];
  /** Registered model names to copy; `false` copies none. @default every registered model */
  models?: string[] | false;
  /** Also copy runs that are still RUNNING (they are copied as they are now, and completed by a later sync only if their copy was interrupted). @default false */
  includeRunning?: boolean;
  /** Report what would be copied without writing anything. @default false */
  dryRun?: boolean;
  /** Progress lines (one per run and model version). */
  onProgress?: (message: string) => void;
}

export interface SyncReport {
  experimentsCreated: number;
  runsCopied: number;
  runsCompleted: number;
  runsSkipped: number;
  metricsCopied: number;
  artifactsCopied: number;
  modelsCreated: number;
  versionsCreated: number;
  aliasesSet: number;
  /** local run id → remote run id, for every run copied now or before. */
  runIdMap: Record<string, string>;
  warnings: string[];
}

async function allRuns(backend: TrackingBackend, experimentId: string): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let pageToken: string | undefined;
  do {
    const page = await backend.searchRuns({
      experimentIds: [experimentId],
      orderBy: ['attributes.start_time ASC'],
      maxResults: 1000,
      ...(pageToken ? { pageToken } : {}),
    });
    runs.push(...page.runs);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return runs;
}

async function listFiles(backend: TrackingBackend, runId: string, dir = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await backend.listArtifacts(runId, dir)) {
    if (e.isDir) out.push(...(await listFiles(backend, runId, e.path)));
    else out.push(e.path);
  }
  return out;
}

/** Copy runs and models from `source` (the local store) to `target` (an MLflow server). */
export async function syncToMlflow(source: TrackingBackend, target: TrackingBackend, options: SyncOptions = {}): Promise<SyncReport> {
  const report: SyncReport = {
    experimentsCreated: 0,
    runsCopied: 0,
    runsCompleted: 0,
    runsSkipped: 0,
    metricsCopied: 0,
    artifactsCopied: 0,
    modelsCreated: 0,
    versionsCreated: 0,
    aliasesSet: 0,
    runIdMap: {},
    warnings: [],
  };
  const progress = options.onProgress ?? (() => undefined);
  const dry = options.dryRun === true;
  // Reach the server first (one cheap read): with nothing new to copy, a sync that never spoke to it would still
  // report "copied 0 runs → <url>", even for a server that is down or a mistyped URL.
  await target.getExperimentByName('Default');

  let experiments = await source.searchExperiments();
  if (options.experiments !== undefined) {
    const wanted = new Set(options.experiments);
    for (const name of wanted) {
      if (!experiments.some((e) => e.name === name)) throw new TrackingError('RESOURCE_DOES_NOT_EXIST', `no local experiment named "${name}"`);
    }
    experiments = experiments.filter((e) => wanted.has(e.name));
  }

  for (const experiment of experiments) {
    const localRuns = await allRuns(source, experiment.experimentId);
    if (localRuns.length === 0) continue;
    let remote = await target.getExperimentByName(experiment.name);
    if (remote === undefined) {
      report.experimentsCreated++;
      progress(`experiment ${experiment.name}: create`);
      if (!dry) remote = await target.getExperiment(await target.createExperiment(experiment.name, experiment.tags));
    }
    const existing = new Map<string, RunRecord>();
    if (remote !== undefined) {
      for (const r of await allRuns(target, remote.experimentId)) {
        const from = r.data.tags[SYNC_TAGS.sourceRunId];
        if (from !== undefined) existing.set(from, r);
      }
    }
    for (const run of localRuns) {
      const copy = existing.get(run.info.runId);
      if (copy?.data.tags[SYNC_TAGS.complete] === 'true') {
        report.runIdMap[run.info.runId] = copy.info.runId;
        report.runsSkipped++;
        continue;
      }
      if (run.info.status === 'RUNNING' && !options.includeRunning) {
        report.warnings.push(`run ${run.info.runId} (${run.info.runName}) is still RUNNING: not copied`);
        report.runsSkipped++;
        continue;
      }
      progress(`run ${run.info.runName} (${run.info.runId}): ${copy ? 'complete an interrupted copy' : 'copy'}`);
      if (dry) {
        report.runIdMap[run.info.runId] = copy?.info.runId ?? '(dry-run)';
        report.runsCopied++;
        continue;
      }
      const remoteId = await copyRun(source, target, run, remote!.experimentId, copy, report);
      report.runIdMap[run.info.runId] = remoteId;
      if (copy) report.runsCompleted++;
      else report.runsCopied++;
    }
  }

  if (options.models !== false) await syncModels(source, target, options, report, progress);
  return report;
}

async function copyRun(
  source: TrackingBackend,
  target: TrackingBackend,
  run: RunRecord,
  experimentId: string,
  copy: RunRecord | undefined,
  report: SyncReport,
): Promise<string> {
  const localId = run.info.runId;
  const tags: Record<string, string> = { ...run.data.tags, [SYNC_TAGS.sourceRunId]: localId };
  const parent = tags[MLFLOW_TAGS.parentRunId];
  if (parent !== undefined && report.runIdMap[parent] !== undefined) tags[MLFLOW_TAGS.parentRunId] = report.runIdMap[parent];
  delete tags[SYNC_TAGS.complete];
  const remoteId =
    copy?.info.runId ??
    (await target.createRun({ experimentId, runName: run.info.runName, startTime: run.info.startTime, tags })).info.runId;

  await target.logBatch(remoteId, {
    params: Object.entries(run.data.params).map(([key, value]) => ({ key, value })),
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
  });
  const metrics: Metric[] = [];
  for (const key of Object.keys(run.data.metrics)) {
    const history = await source.getMetricHistory(localId, key);
    // Chunks are sent in order, so an interrupted copy holds a prefix of each history: send only the rest.
    const already = copy ? (await target.getMetricHistory(remoteId, key)).length : 0;
    metrics.push(...history.slice(already));
  }
  if (metrics.length > 0) await target.logBatch(remoteId, { metrics });
  report.metricsCopied += metrics.length;
  if (run.inputs.length > 0 && !(copy && copy.inputs.length > 0)) await target.logInputs(remoteId, run.inputs);
  for (const file of await listFiles(source, localId)) {
    await target.uploadArtifact(remoteId, file, await source.downloadArtifact(localId, file));
    report.artifactsCopied++;
  }
  await target.updateRun(remoteId, {
    status: run.info.status,
    ...(run.info.endTime === undefined ? {} : { endTime: run.info.endTime }),
  });
  await target.logBatch(remoteId, { tags: [{ key: SYNC_TAGS.complete, value: 'true' }] });
  return remoteId;
}

async function syncModels(
  source: TrackingBackend,
  target: TrackingBackend,
  options: SyncOptions,
  report: SyncReport,
  progress: (m: string) => void,
): Promise<void> {
  const dry = options.dryRun === true;
  let models = await source.searchRegisteredModels();
  if (Array.isArray(options.models)) {
    const wanted = new Set(options.models);
    models = models.filter((m) => wanted.has(m.name));
  }
  for (const model of models) {
    let remoteModel = await target.getRegisteredModel(model.name);
    if (remoteModel === undefined) {
      report.modelsCreated++;
      progress(`model ${model.name}: create`);
      if (!dry) remoteModel = await target.createRegisteredModel(model.name, { description: model.description, tags: model.tags });
    }
    const remoteVersions = remoteModel === undefined ? [] : await target.searchModelVersions(model.name);
    const byOrigin = new Map(remoteVersions.map((v) => [v.tags[SYNC_TAGS.sourceVersion], v.version]));
    const versionMap = new Map<string, string>();
    const localVersions = (await source.searchModelVersions(model.name)).sort((a, b) => Number(a.version) - Number(b.version));
    for (const v of localVersions) {
      const origin = `${model.name}/${v.version}`;
      const done = byOrigin.get(origin);
      if (done !== undefined) {
        versionMap.set(v.version, done);
        continue;
      }
      const runsUri = parseRunsUri(v.source);
      const remoteRunId = v.runId ? report.runIdMap[v.runId] : undefined;
      if (v.runId && remoteRunId === undefined) {
        report.warnings.push(`model ${origin}: its run ${v.runId} was not copied, so the version is not either`);
        continue;
      }
      let remoteSource = v.source;
      if (runsUri && remoteRunId !== undefined) {
        const artifactUri = dry ? '' : (await target.getRun(remoteRunId)).info.artifactUri;
        remoteSource = artifactUri.startsWith('mlflow-artifacts:')
          ? `${artifactUri.replace(/\/+$/, '')}/${runsUri.path}`
          : `runs:/${remoteRunId}/${runsUri.path}`;
      }
      report.versionsCreated++;
      progress(`model ${origin}: register`);
      if (dry) {
        versionMap.set(v.version, `(dry-run ${v.version})`);
        continue;
      }
      const created = await target.createModelVersion(model.name, {
        source: remoteSource,
        ...(remoteRunId === undefined ? {} : { runId: remoteRunId }),
        description: v.description,
        tags: { ...v.tags, [SYNC_TAGS.sourceVersion]: origin },
      });
      versionMap.set(v.version, created.version);
    }
    for (const [alias, localVersion] of Object.entries(model.aliases)) {
      const remoteVersion = versionMap.get(localVersion);
      if (remoteVersion === undefined) continue;
      if (remoteModel?.aliases[alias] === remoteVersion) continue;
      report.aliasesSet++;
      progress(`model ${model.name}@${alias} → version ${remoteVersion}`);
      if (!dry) await target.setModelAlias(model.name, alias, remoteVersion);
    }
  }
}
