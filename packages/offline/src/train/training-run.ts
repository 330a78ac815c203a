/**
 * The whole offline path from a feature repo to a model bundle: build the views, build point-in-time training and
 * evaluation sets for two time windows, train, evaluate on the later window (beside the Bayes limit when an oracle
 * is given), write the report, snapshot the latest features as of the training cut-off, and write the bundle.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError, type BundleManifest, type FeatureViewSpec } from '@lockstep/sdk';
import { FeatureStore, type ProgressListener, type TrainingSetResult } from '../engine/index.ts';
import { toEpochMs } from '../engine/time.ts';
import type { RepoDefinition, ResolvedRepo } from '../repo/index.ts';
import { evaluate, type Evaluation } from '../evaluate/evaluate.ts';
import { writeBundle } from '../export/bundle-writer.ts';
import { codeVersion } from '../export/code-version.ts';
import { snapshotView, type SnapshotFile } from '../export/feature-snapshot.ts';
import { trainingReportHtml } from '../report/training-report.ts';
import { cachedSource } from './cached-source.ts';
import { duckdbSource, quoteIdent, quoteString } from './duckdb-source.ts';
import { train, type TrainOptions, type TrainResult } from './trainer.ts';

export interface TrainingRunOptions {
  /** The feature repo: a config path, a definition or a loaded repo. */
  repo: string | RepoDefinition | ResolvedRepo;
  /** Directory the repo's sources resolve against. */
  dataDir: string;
  /** Where view tables and training sets go. @default `<dataDir>/.lockstep` */
  workDir?: string;
  /** The model (a key of the repo's models). */
  model: string;
  /** Training window [start, end) and evaluation window; ISO-8601. The training end is the snapshot's cut-off. */
  trainStart: string;
  trainEnd: string;
  evalStart: string;
  evalEnd: string;
  /** The bundle folder to write. */
  out: string;
  /** Replace an existing bundle folder. @default false */
  overwrite?: boolean;
  /** Trainer options (family, epochs, down-sampling, FTRL/FM settings, hooks). */
  training: TrainOptions;
  /** Columns to slice the evaluation by. @default those of position, device present in the training set */
  slices?: string[];
  /**
   * The true click probability of each row, for the Bayes-optimal figures: a Parquet file with the label key and
   * a probability column. `scale` multiplies it (the generator's label is p_click × F(attribution window)).
   */
  oracle?: { path: string; column?: string; scale?: number };
  /** Include the feature snapshot. @default true */
  snapshot?: boolean;
  /** Stage messages (for a CLI log). */
  onStage?: (message: string) => void;
  /** Engine progress (view builds, joins). */
  onEngineProgress?: ProgressListener;
  /** The tracked run this training is recorded in, kept in the manifest's `lineage.runId`. */
  runId?: string;
}

export interface TrainingRun {
  dir: string;
  manifest: BundleManifest;
  result: TrainResult;
  evaluation: Evaluation;
  trainSet: TrainingSetResult;
  evalSet: TrainingSetResult;
}

const REFERENCE = '__lockstep_reference';

/**
 * Refuses, before any work, what would otherwise fail (or mislead) only after the views, the sets and the training:
 * windows out of order, an evaluation window overlapping the training one, an existing bundle folder, a missing
 * oracle file. {@link trainBundle} calls it; a tracked run calls it before the run is opened, so bad arguments
 * leave no FAILED run behind.
 */
export async function checkTrainingRun(options: TrainingRunOptions): Promise<void> {
  const [trainStart, trainEnd, evalStart, evalEnd] = (['trainStart', 'trainEnd', 'evalStart', 'evalEnd'] as const).map((k) => toEpochMs(options[k], k));
  if (trainEnd <= trainStart) throw new InputError(`the training window must end after it starts (got ${options.trainStart} → ${options.trainEnd})`, 'trainEnd');
  if (evalEnd <= evalStart) throw new InputError(`the evaluation window must end after it starts (got ${options.evalStart} → ${options.evalEnd})`, 'evalEnd');
  if (evalStart < trainEnd) {
    // Evaluating on rows the model trained on inflates every metric; the evaluation is meant to be a later window.
    throw new InputError(`the evaluation window must start at or after the training window's end (evaluation starts ${options.evalStart}, training ends ${options.trainEnd})`, 'evalStart');
  }
  const exists = (path: string) => stat(path).then(() => true, () => false);
  if (!options.overwrite && (await exists(resolve(options.out)))) {
    throw new InputError(`bundle folder ${resolve(options.out)} already exists (overwrite, --overwrite on the CLI, replaces it)`, 'out');
  }
  // The bundle is written beside its folder (a temp folder, then a rename) after all the training: find out now,
  // not after the work, that the place cannot be written. A probe file, not access(): root passes access() on
  // folders that still refuse files (sysfs, read-only mounts).
  const parent = dirname(resolve(options.out));
  try {
    await mkdir(parent, { recursive: true });
    const probe = join(parent, `.lockstep-probe-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (err) {
    throw new InputError(`cannot write the bundle folder ${resolve(options.out)}: ${(err as Error).message}`, 'out', { cause: err });
  }
  if (options.oracle && !(await exists(resolve(options.oracle.path)))) throw new InputError(`oracle file not found: ${resolve(options.oracle.path)}`, 'oracle');
  if (options.slices?.length) {
    // A slice must be a column of the evaluation set: known from the repo alone, before views and sets are built.
    const fs = await FeatureStore.open(options.repo, { dataDir: options.dataDir, workDir: options.workDir });
    try {
      const columns = fs.trainingSetColumns(options.model);
      const unknown = options.slices.filter((c) => !columns.includes(c));
      if (unknown.length) throw new InputError(`unknown slice column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')} (the evaluation set's columns: ${columns.join(', ')})`, 'slices');
    } finally {
      fs.close();
    }
  }
}

export async function trainBundle(options: TrainingRunOptions): Promise<TrainingRun> {
  await checkTrainingRun(options);
  return trainCheckedBundle(options);
}

/** {@link trainBundle} for a caller that has run {@link checkTrainingRun} itself (a tracked run, before opening it). */
export async function trainCheckedBundle(options: TrainingRunOptions): Promise<TrainingRun> {
  const say = options.onStage ?? (() => {});
  const fs = await FeatureStore.open(options.repo, { dataDir: options.dataDir, workDir: options.workDir });
  try {
    const model = fs.repo.models[options.model];
    if (!model) throw new InputError(`unknown model "${options.model}" (models: ${Object.keys(fs.repo.models).join(', ') || 'none'})`, 'model');
    const spec = model.definition.input;

    say('building feature views');
    await fs.buildFeatures({ views: model.views, onProgress: options.onEngineProgress });
    const setPath = (kind: string, a: string, b: string) => join(fs.workDir, 'training', options.model, `${kind}_${safe(a)}_${safe(b)}.parquet`);
    say(`building the training set ${options.trainStart} → ${options.trainEnd}`);
    const trainSet = await fs.buildTrainingSet({ model: options.model, start: options.trainStart, end: options.trainEnd, out: setPath('train', options.trainStart, options.trainEnd), onProgress: options.onEngineProgress });
    say(`building the evaluation set ${options.evalStart} → ${options.evalEnd}`);
    const evalSet = await fs.buildTrainingSet({ model: options.model, start: options.evalStart, end: options.evalEnd, out: setPath('eval', options.evalStart, options.evalEnd), onProgress: options.onEngineProgress });
    if (trainSet.rows === 0) throw new InputError(`the training window ${options.trainStart} → ${options.trainEnd} has no rows`, 'trainStart');
    if (evalSet.rows === 0) throw new InputError(`the evaluation window ${options.evalStart} → ${options.evalEnd} has no rows`, 'evalStart');

    const slices = options.slices ?? ['position', 'device'].filter((c) => evalSet.columns.includes(c));
    const trainSource = await duckdbSource({ relation: `read_parquet(${quoteString(trainSet.path)})`, spec, label: trainSet.label });
    let evalRelation = `read_parquet(${quoteString(evalSet.path)})`;
    if (options.oracle) {
      const key = quoteIdent(fs.repo.labels.key);
      const col = quoteIdent(options.oracle.column ?? 'p_click');
      evalRelation = `(SELECT t.*, o.${col} * ${options.oracle.scale ?? 1} AS ${REFERENCE} FROM ${evalRelation} t LEFT JOIN read_parquet(${quoteString(resolve(options.oracle.path))}) o ON o.${key} = t.${key})`;
    }
    const evalSource = await duckdbSource({ relation: evalRelation, spec, label: evalSet.label, columns: [...slices, ...(options.oracle ? [REFERENCE] : [])] });

    // Several epochs: vectorise once, replay the vectors from disk.
    const epochSource = (options.training.epochs ?? 1) > 1 ? cachedSource(trainSource, { dir: await tmpDir(fs.workDir) }) : undefined;
    let result: TrainResult;
    let evaluation: Evaluation;
    try {
      say(`training ${options.training.family} on ${trainSet.rows.toLocaleString('en-US')} rows`);
      result = await train(epochSource ?? trainSource, { expectedRows: trainSet.rows, ...options.training });
      say(`evaluating on ${evalSet.rows.toLocaleString('en-US')} rows`);
      evaluation = await evaluate(result.params, evalSource, { slices, ...(options.oracle ? { reference: REFERENCE } : {}) });
    } finally {
      epochSource?.close();
      trainSource.close();
      evalSource.close();
    }

    const views: FeatureViewSpec[] = model.views.map((v) => fs.servingSpec(v));
    const cutoff = new Date(trainSet.end);
    const snapshots: SnapshotFile[] = [];
    if (options.snapshot ?? true) {
      for (const view of views) {
        say(`snapshotting ${view.name} as of ${cutoff.toISOString()}`);
        snapshots.push(await snapshotView(view, cutoff, fs.latestFeatures(view.name, cutoff)));
      }
    }

    const metrics: Record<string, number> = {
      auc: evaluation.metrics.auc,
      logloss: evaluation.metrics.logloss,
      ne: evaluation.metrics.ne,
      calibration: evaluation.metrics.calibration,
      eval_rows: evaluation.metrics.rows,
      eval_ctr: evaluation.metrics.ctr,
      ...(evaluation.bayes ? { bayes_auc: evaluation.bayes.metrics.auc, bayes_logloss: evaluation.bayes.metrics.logloss, bayes_ne: evaluation.bayes.metrics.ne } : {}),
      train_rows: result.rows,
      train_seconds: result.seconds,
    };
    const version = codeVersion();
    const report = trainingReportHtml({
      name: options.model,
      trainWindow: { start: trainSet.start, end: trainSet.end },
      evalWindow: { start: evalSet.start, end: evalSet.end },
      result,
      evaluation,
      facts: { 'training-set sha256': trainSet.digest, 'evaluation-set sha256': evalSet.digest, 'code version': version },
    });
    say(`writing the bundle to ${resolve(options.out)}`);
    const manifest = await writeBundle({
      dir: options.out,
      overwrite: options.overwrite,
      params: result.params,
      manifest: {
        name: options.model,
        project: fs.repo.project,
        model: { negativeSampling: result.options.negativeSampling },
        input: spec,
        entityKeys: model.entityKeys,
        featureViews: views,
        requestFields: model.requestFields,
        training: { start: trainSet.start, end: trainSet.end, cutoff: cutoff.toISOString(), rows: trainSet.rows },
        metrics,
        lineage: {
          trainingSetDigest: trainSet.digest,
          evaluationSetDigest: evalSet.digest,
          evaluation: { start: evalSet.start, end: evalSet.end },
          codeVersion: version,
          trainer: result.options,
          ...(options.runId ? { runId: options.runId } : {}),
        },
        ...(snapshots.length ? { snapshot: { asOf: cutoff.toISOString(), views: Object.fromEntries(snapshots.map((s) => [s.view, { file: s.file, rows: s.rows }])) } } : {}),
      },
      files: { 'report.html': report, ...Object.fromEntries(snapshots.map((s) => [s.file, s.bytes])) },
    });
    return { dir: resolve(options.out), manifest, result, evaluation, trainSet, evalSet };
  } finally {
    fs.close();
  }
}

async function tmpDir(workDir: string): Promise<string> {
  const dir = join(workDir, 'tmp');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A time as a file-name part. */
function safe(t: string): string {
  return t.replace(/[^0-9A-Za-z-]+/g, '');
}
