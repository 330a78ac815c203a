/**
 * The offline feature store: builds view tables from source files, answers point-in-time feature queries for any
 * spine, builds labelled training sets and reads the latest values for the online store and bundle snapshots.
 *
 *   const fs = await FeatureStore.open('examples/sponsored-ads/lockstep.config.ts', { dataDir, workDir });
 *   await fs.buildFeatures({ onProgress });
 *   const table = await fs.getHistoricalFeatures('spine.parquet', ['user_stats:ctr_7d']).toArrow();
 *   const set = await fs.buildTrainingSet({ model: 'ads-ctr', start, end, out: 'train.parquet' });
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Table } from 'apache-arrow';
import { featureColumn, InputError, LockstepError, specInputs, type FeatureViewSpec } from '@lockstep/sdk';
import {
  findView,
  loadRepo,
  servingSpec,
  validateRepo,
  type RepoDefinition,
  type ResolvedFeature,
  type ResolvedRepo,
  type ResolvedView,
} from '../repo/index.ts';
import { DuckDBExecutor, type DuckDBExecutorOptions } from './duckdb/executor.ts';
import { HistoricalFeaturesJob, LatestFeaturesJob, type SpineInput } from './jobs.ts';
import { step, type ProgressListener } from './progress.ts';
import { checkSources, sourceFingerprint, sourcePath } from './source-files.ts';
import { INTERNAL, type SqlContext } from './sql/context.ts';
import type { SqlDialect } from './sql/dialect.ts';
import { duckdbDialect } from './sql/duckdb-dialect.ts';
import { labelTimesQuery } from './sql/label-sql.ts';
import { pitChunksQuery, pitNarrowQuery, pitNarrowSpineQuery, pitOutputQuery, pointInTimeQuery, type PitQueryOptions, type PitViewInput } from './sql/pit-sql.ts';
import { viewQuery } from './sql/view-sql.ts';
import { toEpochMs, type TimeInput } from './time.ts';

/** Bumped when view-table SQL changes meaning, so tables built by an older engine are rebuilt. */
const ENGINE_VERSION = 1;
const LABEL_TIMES = `${INTERNAL}label_times`;
/** Rows joined at a time when writing large results: 2M narrow rows keep DuckDB's working set well under 1 GB. */
const DEFAULT_CHUNK_ROWS = 2_000_000;

export interface FeatureStoreOptions {
  /** Directory the sources' relative paths resolve against. */
  dataDir: string;
  /** Where view tables (`features/<view>.parquet`) and their metadata go. @default `<dataDir>/.lockstep` */
  workDir?: string;
  /** DuckDB settings (memory limit, threads, spill directory). */
  engine?: DuckDBExecutorOptions;
}

export interface BuildFeaturesOptions {
  /** The views to build. @default all views */
  views?: string[];
  /** Rebuild even when the table on disk is up to date. @default false */
  force?: boolean;
  /** Called as each step (view build, label pass, join, write) starts, advances and ends. @default none */
  onProgress?: ProgressListener;
}

export interface BuiltView {
  name: string;
  path: string;
  rows: number;
  /** False when an up-to-date table was already on disk. */
  built: boolean;
  seconds: number;
}

export interface HistoricalFeaturesOptions {
  /** The spine column holding each row's time (a timestamp or epoch ms). @default the labelled source's timestampField */
  timestampField?: string;
  /** Per view, the spine columns holding its join keys, in joinKeys order. @default the join keys' own names */
  entityKeys?: Record<string, string[]>;
  /** toParquet joins a large spine this many rows at a time, which bounds memory. @default 2_000_000 */
  chunkRows?: number;
  /** Called as each step (view build, label pass, join, write) starts, advances and ends. @default none */
  onProgress?: ProgressListener;
}

export interface TrainingSetOptions {
  /** The model (a key of the repo's `models`). */
  model: string;
  /** Impressions with start ≤ ts < end. Labels look up to the attribution window past `end`. */
  start: TimeInput;
  end: TimeInput;
  /** The Parquet file to write. */
  out: string;
  /** Include every feature of the views the model reads, not only the ones its input uses. @default false */
  allFeatures?: boolean;
  /** Rows joined at a time: bounds memory on large ranges. @default 2_000_000 */
  chunkRows?: number;
  /** Called as each step (view build, label pass, join, write) starts, advances and ends. @default none */
  onProgress?: ProgressListener;
}

export interface TrainingSetResult {
  path: string;
  rows: number;
  /** sha256 (hex) of the Parquet file. */
  digest: string;
  /** Column names in file order: key, timestamp, request fields (and entity key fields), label, features. */
  columns: string[];
  /** The feature columns (`<view>__<feature>`). */
  features: string[];
  label: string;
  start: string;
  end: string;
  seconds: number;
}

/** A parsed feature reference: `view:feature`, `view:*` or `view__feature`. */
interface FeatureRef {
  view: ResolvedView;
  features: ResolvedFeature[];
}

export class FeatureStore {
  readonly repo: ResolvedRepo;
  readonly dataDir: string;
  readonly workDir: string;
  readonly dialect: SqlDialect = duckdbDialect;
  /** The SQL generation context: use it to inspect the queries the store runs. */
  readonly sql: SqlContext;
  private labelTimesFingerprint: string | undefined;
  private spineCounter = 0;

  private constructor(
    repo: ResolvedRepo,
    readonly executor: DuckDBExecutor,
    options: FeatureStoreOptions,
  ) {
    this.repo = repo;
    this.dataDir = resolve(options.dataDir);
    this.workDir = resolve(options.workDir ?? join(options.dataDir, '.lockstep'));
    this.sql = {
      dialect: this.dialect,
      repo,
      source: (name) => {
        const src = repo.sources[name];
        return this.dialect.scan(sourcePath(this.dataDir, src.path), src.format);
      },
    };
  }

  /**
   * Opens a store: loads and validates the repo (a config path, a definition or a resolved repo), opens DuckDB and
   * checks the source files against the definitions. Close it when done.
   */
  static async open(repo: string | RepoDefinition | ResolvedRepo, options: FeatureStoreOptions): Promise<FeatureStore> {
    const resolved = typeof repo === 'string' ? await loadRepo(repo) : 'definition' in repo ? repo : validateRepo(repo);
    const executor = await DuckDBExecutor.open(options.engine);
    try {
      const checked = await checkSources(resolved, resolve(options.dataDir), executor, duckdbDialect);
      return new FeatureStore(checked, executor, options);
    } catch (err) {
      executor.close();
      throw err;
    }
  }

  close(): void {
    this.executor.close();
  }

  /** The serving spec of every view (what bundles carry), in repo order. */
  servingSpecs(): FeatureViewSpec[] {
    return this.repo.views.map(servingSpec);
  }

  /** The serving spec of one view. */
  servingSpec(view: string): FeatureViewSpec {
    return servingSpec(this.view(view));
  }

  /** Where a view's table is written. */
  viewTablePath(view: string): string {
    return join(this.workDir, 'features', `${this.view(view).name}.parquet`);
  }

  /** The query computing a view's table (for inspection; buildFeatures runs it). */
  viewSql(view: string): string {
    return viewQuery(this.sql, this.view(view));
  }

  /** Builds view tables to `<workDir>/features/<view>.parquet`, skipping those already up to date. */
  async buildFeatures(options: BuildFeaturesOptions = {}): Promise<BuiltView[]> {
    const names = options.views ?? this.repo.views.map((v) => v.name);
    const out: BuiltView[] = [];
    for (const name of names) out.push(await this.buildView(this.view(name), options.force ?? false, options.onProgress));
    return out;
  }

  /**
   * Point-in-time features for a spine: a Parquet/CSV path, a table name in the store's DuckDB, or an Arrow table.
   * `features` are `view:feature`, `view:*` or `view__feature`. Returns a lazy job (toArrow, toParquet, batches).
   * View tables that are missing or stale are built first.
   */
  getHistoricalFeatures(spine: SpineInput, features: string[], options: HistoricalFeaturesOptions = {}): HistoricalFeaturesJob {
    const refs = this.parseRefs(features);
    let plan: Promise<PitQueryOptions> | undefined;
    const opts = () => (plan ??= this.spineRelation(spine).then(async (relation) => (await this.pitPlan(relation, refs, options))()));
    return new HistoricalFeaturesJob(
      this.executor,
      this.dialect,
      async () => pointInTimeQuery(this.sql, await opts()),
      async (out) => this.writePointInTime(await opts(), out, options.chunkRows ?? DEFAULT_CHUNK_ROWS, options.onProgress),
    );
  }

  /**
   * The columns a model's training set will have, known before building it (so that callers can check the
   * columns they will ask for, e.g. evaluation slices, before any work): the label's key and timestamp, the model's
   * request fields and entity keys, the label, then the `<view>__<feature>` columns the model reads (all of its
   * views' features with `allFeatures`).
   */
  trainingSetColumns(modelName: string, allFeatures = false): string[] {
    const { spineColumns, featureColumns } = this.trainingSetLayout(modelName, allFeatures);
    return [...spineColumns, this.repo.labels.name, ...featureColumns];
  }

  private trainingSetLayout(modelName: string, allFeatures = false) {
    const model = this.repo.models[modelName];
    if (!model) throw new InputError(`unknown model "${modelName}" (models: ${Object.keys(this.repo.models).join(', ') || 'none'})`, 'model');
    const inputs = new Set(specInputs(model.definition.input));
    const refs: FeatureRef[] = model.views.map((name) => {
      const view = this.view(name);
      return { view, features: view.features.filter((f) => allFeatures || inputs.has(featureColumn(view.name, f.name))) };
    });
    const lab = this.repo.labels;
    const ts = this.repo.sources[lab.source].timestampField!;
    const keyFields = Object.values(model.entityKeys).flat();
    const columns = [...new Set([...model.requestFields.map((f) => f.name), ...keyFields])].filter((c) => c !== lab.key && c !== ts);
    const featureColumns = refs.flatMap((r) => r.features.map((f) => featureColumn(r.view.name, f.name)));
    return { model, refs, spineColumns: [lab.key, ts, ...columns], featureColumns };
  }

  /**
   * Builds a model's training set: the labelled source's rows in [start, end) with their key, timestamp, the
   * model's request fields, the label and its features as of each row, written to one Parquet file in the source's
   * row order (a source sorted by time gives a training set sorted by time; the same inputs give the same file).
   * Large ranges are joined in chunks of `chunkRows` rows, which bounds memory.
   */
  async buildTrainingSet(options: TrainingSetOptions): Promise<TrainingSetResult> {
    const started = performance.now();
    const d = this.dialect;
    const { model, refs, spineColumns, featureColumns } = this.trainingSetLayout(options.model, options.allFeatures);
    const startMs = toEpochMs(options.start, 'start');
    const endMs = toEpochMs(options.end, 'end');
    if (endMs <= startMs) throw new InputError(`end (${options.end}) must be after start (${options.start})`, 'end');
    // Checked before the join, so that the answer is one line and not DuckDB's failed COPY with its SQL.
    const out = resolve(options.out);
    if ((await stat(out).catch(() => undefined))?.isDirectory()) throw new InputError(`out ${out} is a folder: give the training set's file path (…/train.parquet)`, 'out');
    try {
      await mkdir(dirname(out), { recursive: true });
    } catch (err) {
      throw new InputError(`cannot write the training set ${out}: ${(err as Error).message}`, 'out', { cause: err });
    }
    const lab = this.repo.labels;
    const ts = this.repo.sources[lab.source].timestampField!;

    await this.ensureLabelTimes(options.onProgress);
    const source = this.sql.source(lab.source);
    const plan = await this.pitPlan(source, refs, { timestampField: ts, entityKeys: model.entityKeys, spineColumns, onProgress: options.onProgress });
    const opts: PitQueryOptions = plan({
      spineFilter: `${d.ident(ts)} >= ${d.timestampFromMs(d.bigint(startMs))} AND ${d.ident(ts)} < ${d.timestampFromMs(d.bigint(endMs))}`,
      label: { keyField: lab.key, labelTimes: LABEL_TIMES, name: lab.name },
    });
    const rows = await this.writePointInTime(opts, out, options.chunkRows ?? DEFAULT_CHUNK_ROWS, options.onProgress);
    return {
      path: out,
      rows,
      digest: await sha256File(out),
      columns: [...spineColumns, lab.name, ...featureColumns],
      features: featureColumns,
      label: lab.name,
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      seconds: (performance.now() - started) / 1000,
    };
  }

  /**
   * Writes a point-in-time join to Parquet. A large spine is joined in chunks of `chunkRows` rows (in the spine's
   * order), each reading only the view rows its time range can use, into narrow Parquet parts (row number, features,
   * label); the output is then written once, the spine's own columns joined positionally to those parts. Memory
   * stays at about one chunk's join plus the narrow result, whatever the spine's size.
   */
  private async writePointInTime(opts: PitQueryOptions, out: string, chunkRows: number, onProgress?: ProgressListener): Promise<number> {
    const d = this.dialect;
    const rowsPerChunk = Math.max(1, Math.floor(chunkRows));
    const spine = `${INTERNAL}narrow_spine`;
    const scratch = join(this.workDir, 'tmp', `pit-${process.pid}-${Date.now()}`);
    try {
      // The narrow spine once (row numbers, keys, time), so chunks select their rows without re-reading the source.
      await this.executor.run(`CREATE OR REPLACE TEMP TABLE ${spine} AS ${pitNarrowSpineQuery(this.sql, opts)}`);
      const chunked: PitQueryOptions = { ...opts, narrowSpine: spine };
      const chunks = await this.executor.rows<{ c: number; lo: number | bigint; hi: number | bigint }>(pitChunksQuery(this.sql, chunked, rowsPerChunk));
      if (chunks.length <= 1) {
        return await step(onProgress, 'join', out, (onFraction) =>
          this.executor.run(d.copyToParquet(pointInTimeQuery(this.sql, chunked), out), onFraction), (n) => n);
      }
      await mkdir(scratch, { recursive: true });
      const parts = chunks.map((_, i) => join(scratch, `narrow-${String(i).padStart(5, '0')}.parquet`));
      await step(onProgress, 'join', out, async (onFraction) => {
        for (const [i, chunk] of chunks.entries()) {
          const from = Number(chunk.c) * rowsPerChunk + 1;
          const query = pitNarrowQuery(this.sql, {
            ...chunked,
            rowRange: { from, to: from + rowsPerChunk },
            timeBounds: { startMs: Number(chunk.lo), endMs: Number(chunk.hi) },
          });
          await this.executor.run(d.copyToParquet(query, parts[i]), (f) => onFraction((i + Math.max(0, f)) / chunks.length));
        }
      });
      // The narrow spine is no longer needed: free its memory before the output is written.
      await this.executor.run(`DROP TABLE IF EXISTS ${spine}`);
      return await step(onProgress, 'write', out, (onFraction) =>
        this.executor.run(d.copyToParquet(pitOutputQuery(this.sql, opts, d.scanFiles(parts)), out), onFraction), (n) => n);
    } finally {
      await this.executor.run(`DROP TABLE IF EXISTS ${spine}`);
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * The latest row per entity of a view as of `asOf` (event_time ≤ asOf): join keys, event_time, features. For the
   * online store and bundle snapshots. The view table is built first if missing or stale.
   */
  latestFeatures(view: string, asOf: TimeInput, options: { onProgress?: ProgressListener } = {}): LatestFeaturesJob {
    const v = this.view(view);
    const asOfMs = toEpochMs(asOf, 'asOf');
    return new LatestFeaturesJob(this.executor, this.sql, v, asOfMs, async () => {
      await this.buildView(v, false, options.onProgress);
      return this.dialect.scan(this.viewTablePath(v.name), 'parquet');
    });
  }

  private view(name: string): ResolvedView {
    const v = findView(this.repo, name);
    if (!v) throw new InputError(`unknown feature view "${name}" (views: ${this.repo.views.map((x) => x.name).join(', ')})`, 'view');
    return v;
  }

  private parseRefs(features: string[]): FeatureRef[] {
    const refs: FeatureRef[] = [];
    const unknown: string[] = [];
    for (const ref of features) {
      const [viewName, featureName] = ref.includes(':') ? ref.split(':', 2) : ref.includes('__') ? ref.split('__', 2) : [ref, '*'];
      const view = findView(this.repo, viewName);
      const found = view && (featureName === '*' ? view.features : view.features.filter((f) => f.name === featureName));
      if (!view || !found?.length) {
        unknown.push(ref);
        continue;
      }
      let entry = refs.find((r) => r.view === view);
      if (!entry) refs.push((entry = { view, features: [] }));
      for (const f of found) if (!entry.features.includes(f)) entry.features.push(f);
    }
    if (unknown.length) {
      const known = this.repo.views.flatMap((v) => v.features.map((f) => `${v.name}:${f.name}`));
      throw new InputError(`unknown feature reference(s): ${unknown.join(', ')} (known: ${known.join(', ')})`, 'features');
    }
    if (!refs.length) throw new InputError('no features requested', 'features');
    return refs;
  }

  private async spineRelation(spine: SpineInput): Promise<string> {
    if (typeof spine !== 'string') {
      const name = `${INTERNAL}spine_${++this.spineCounter}`;
      await this.executor.loadArrow(name, spine as Table);
      return this.dialect.ident(name);
    }
    if (/\.(parquet|csv)$/i.test(spine) || spine.includes('/')) {
      return this.dialect.scan(resolve(spine), spine.toLowerCase().endsWith('.csv') ? 'csv' : 'parquet');
    }
    return this.dialect.ident(spine);
  }

  /**
   * Checks the spine against the views, builds missing view tables, and returns a function giving the
   * point-in-time query (for the whole spine, or a chunk of it).
   */
  private async pitPlan(
    spine: string,
    refs: FeatureRef[],
    options: HistoricalFeaturesOptions & { spineColumns?: string[] },
  ): Promise<(extra?: Pick<PitQueryOptions, 'spineFilter' | 'label'>) => PitQueryOptions> {
    let columns;
    try {
      columns = await this.executor.describe(spine);
    } catch (err) {
      throw new InputError(`cannot read the spine ${spine}: ${(err as Error).message.split('\n')[0]}`, 'spine', { cause: err });
    }
    const names = columns.map((c) => c.name);
    const tsField = options.timestampField ?? this.repo.sources[this.repo.labels.source].timestampField!;
    const tsColumn = columns.find((c) => c.name === tsField);
    const problems: string[] = [];
    if (!tsColumn) problems.push(`the spine has no time column "${tsField}" (columns: ${names.join(', ')})`);
    const inputs: PitViewInput[] = refs.map(({ view, features }) => {
      const keyFields = options.entityKeys?.[view.name] ?? view.joinKeys;
      if (keyFields.length !== view.joinKeys.length) {
        problems.push(`entityKeys.${view.name} must name ${view.joinKeys.length} spine column(s) for (${view.joinKeys.join(', ')})`);
      }
      for (const k of keyFields) if (!names.includes(k)) problems.push(`the spine has no column "${k}" (a join key of view "${view.name}"; map it with entityKeys)`);
      for (const f of features) {
        const col = featureColumn(view.name, f.name);
        if (names.includes(col)) problems.push(`the spine already has a column "${col}"`);
      }
      return { view, table: '', features, keyFields };
    });
    if (problems.length) throw new InputError(problems.join('; '), 'spine');

    await this.buildViewsFor(refs.map((r) => r.view), options.onProgress);
    for (const input of inputs) input.table = this.dialect.scan(this.viewTablePath(input.view.name), 'parquet');
    const base = {
      spine,
      spineColumns: options.spineColumns ?? names,
      spineTimeMs: this.dialect.epochMsOfType(this.dialect.ident(tsField), tsColumn!.type),
      spineTimeColumns: [tsField],
      views: inputs,
    };
    return (extra = {}) => ({ ...base, ...extra });
  }

  private async buildViewsFor(views: ResolvedView[], onProgress?: ProgressListener): Promise<void> {
    for (const v of views) await this.buildView(v, false, onProgress);
  }

  /** Computes the label times once per store, again only if the labelled or the click source changed since. */
  private async ensureLabelTimes(onProgress?: ProgressListener): Promise<void> {
    const lab = this.repo.labels;
    const files: string[] = [];
    for (const s of [lab.source, lab.events]) files.push(...(await sourceFingerprint(this.dataDir, this.repo.sources[s].path, this.executor, this.dialect)));
    const fingerprint = files.join('\n');
    if (this.labelTimesFingerprint === fingerprint) return;
    await step(onProgress, 'labels', lab.events, (onFraction) =>
      this.executor.run(`CREATE OR REPLACE TEMP TABLE ${LABEL_TIMES} AS ${labelTimesQuery(this.sql)}`, onFraction),
    );
    this.labelTimesFingerprint = fingerprint;
  }

  private async fingerprint(view: ResolvedView): Promise<string> {
    const sources = view.usesLabels ? [view.source, this.repo.labels.source, this.repo.labels.events] : [view.source];
    const files: string[] = [];
    for (const s of new Set(sources)) files.push(...(await sourceFingerprint(this.dataDir, this.repo.sources[s].path, this.executor, this.dialect)));
    return createHash('sha256')
      .update(JSON.stringify({ engine: ENGINE_VERSION, view, labels: view.usesLabels ? this.repo.labels : null, files }))
      .digest('hex');
  }

  private async buildView(view: ResolvedView, force: boolean, onProgress?: ProgressListener): Promise<BuiltView> {
    const started = performance.now();
    const path = this.viewTablePath(view.name);
    const metaPath = `${path}.json`;
    const fingerprint = await this.fingerprint(view);
    if (!force) {
      const meta = await readFile(metaPath, 'utf8').then((t) => JSON.parse(t) as { fingerprint: string; rows: number; bytes?: number }, () => undefined);
      // The metadata vouches for the table only while the table is there, at the size it was written (a deleted or
      // truncated table would otherwise count as current, and only a later query would find out).
      const bytes = await stat(path).then((st) => st.size, () => undefined);
      if (meta?.fingerprint === fingerprint && bytes !== undefined && (meta.bytes === undefined || meta.bytes === bytes)) {
        return { name: view.name, path, rows: meta.rows, built: false, seconds: (performance.now() - started) / 1000 };
      }
    }
    if (view.usesLabels) await this.ensureLabelTimes(onProgress);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      const rows = await step(onProgress, 'view', view.name, (onFraction) =>
        this.executor.run(this.dialect.copyToParquet(viewQuery(this.sql, view, view.usesLabels ? LABEL_TIMES : undefined), tmp), onFraction), (n) => n);
      await rename(tmp, path);
      const seconds = (performance.now() - started) / 1000;
      const { size: bytes } = await stat(path);
      await writeFile(metaPath, `${JSON.stringify({ view: view.name, fingerprint, rows, bytes, builtAt: new Date().toISOString(), seconds, spec: servingSpec(view) }, null, 2)}\n`);
      return { name: view.name, path, rows, built: true, seconds };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err instanceof LockstepError ? err : new InputError(`building view "${view.name}" failed: ${(err as Error).message}`, view.name, { cause: err });
    }
  }
}

/** sha256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
