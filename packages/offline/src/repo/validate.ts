/**
 * Repo validation: the shape is checked with zod, then every cross-reference and rule by hand. All problems are
 * collected and thrown together as one DefinitionError, each prefixed with its path (`views.user_stats.ttl: …`), so
 * a user fixes a config in one pass.
 */
import { z } from 'zod';
import { DefinitionError, featureColumn, specInputs, validateModelInputSpec, type FeatureDtype } from '@lockstep/sdk';
import { tryParseDuration } from './duration.ts';
import type { ColumnType, ModelDefinition, RepoDefinition } from './types.ts';
import type {
  AggregationFn,
  ResolvedFeature,
  ResolvedLabels,
  ResolvedRepoModel,
  ResolvedRepo,
  ResolvedSource,
  ResolvedView,
} from './resolved.ts';

const text = z.string().min(1);
const columnType = z.enum(['integer', 'bigint', 'double', 'string', 'timestamp', 'boolean']);
const nullableNumber = z.number().nullable();

const aggregationBase = {
  name: text,
  windows: z.array(text).min(1),
  default: nullableNumber.optional(),
  description: z.string().optional(),
};
const events = z.enum(['source', 'label']).optional();
const aggregation = z.discriminatedUnion('fn', [
  z.strictObject({ fn: z.literal('count'), events, ...aggregationBase }),
  z.strictObject({ fn: z.enum(['sum', 'mean']), column: text, events, ...aggregationBase }),
  z.strictObject({ fn: z.literal('ctr'), prior: z.number(), strength: z.number(), ...aggregationBase }),
  z.strictObject({ fn: z.literal('last_seen'), events, ...aggregationBase }),
]);

const modelInput = z.looseObject({ fields: z.array(z.unknown()) }); // checked by the SDK's own validator

const repoSchema = z.strictObject({
  project: text,
  entities: z.record(z.string(), z.strictObject({ joinKeys: z.array(text).min(1), description: z.string().optional() })),
  sources: z.record(
    z.string(),
    z.strictObject({
      path: text,
      format: z.enum(['parquet', 'csv']).optional(),
      timestampField: text.optional(),
      columns: z.record(z.string(), columnType).optional(),
      description: z.string().optional(),
    }),
  ),
  labels: z.strictObject({ source: text, key: text, events: text, window: text, name: text.optional() }),
  views: z.array(
    z.strictObject({
      name: text,
      entity: text,
      source: text,
      keys: z.array(text).optional(),
      interval: text,
      ttl: text,
      lag: text,
      aggregations: z.array(aggregation).min(1),
      description: z.string().optional(),
    }),
  ),
  models: z
    .record(
      z.string(),
      z.strictObject({
        input: modelInput,
        entityKeys: z.record(z.string(), z.array(text)).optional(),
        requestFields: z.array(
          z.strictObject({
            name: text,
            type: z.enum(['string', 'number', 'timestamp']),
            scope: z.enum(['user', 'context', 'candidate']),
          }),
        ),
        description: z.string().optional(),
      }),
    )
    .optional(),
});

/** SQL-safe names: views, features, entities, sources and columns become identifiers in generated SQL. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PROJECT = /^[A-Za-z0-9_-]+$/;
const NUMERIC: ReadonlySet<ColumnType> = new Set(['integer', 'bigint', 'double']);
const DTYPE: Record<AggregationFn, FeatureDtype> = {
  count: 'int64',
  sum: 'float64',
  mean: 'float64',
  ctr: 'float64',
  last_seen: 'timestamp',
};

/**
 * Validates a repo definition and returns its resolved form. Throws a DefinitionError listing every problem, each
 * with its path; arrays of named things are addressed by name (`views.user_stats.aggregations.ctr.windows[1]`).
 */
export function validateRepo(definition: RepoDefinition): ResolvedRepo {
  const parsed = repoSchema.safeParse(definition);
  if (!parsed.success) {
    throw new DefinitionError(parsed.error.issues.map((i) => `${formatPath(i.path, definition)}: ${i.message}`));
  }
  const issues: string[] = [];
  const problem = (path: string, message: string) => issues.push(`${path}: ${message}`);
  const def = definition;

  if (!PROJECT.test(def.project)) problem('project', `"${def.project}" may only contain letters, digits, "_" and "-"`);

  // Entities.
  const entities: ResolvedRepo['entities'] = {};
  for (const [name, entity] of Object.entries(def.entities)) {
    const at = `entities.${name}`;
    if (!IDENTIFIER.test(name)) problem(at, `entity name "${name}" is not an identifier (letters, digits, "_")`);
    checkNames(entity.joinKeys, `${at}.joinKeys`, 'join key', problem);
    entities[name] = { joinKeys: [...entity.joinKeys] };
  }

  // Sources.
  const sources: Record<string, ResolvedSource> = {};
  for (const [name, src] of Object.entries(def.sources)) {
    const at = `sources.${name}`;
    if (!IDENTIFIER.test(name)) problem(at, `source name "${name}" is not an identifier (letters, digits, "_")`);
    if (src.columns) {
      for (const col of Object.keys(src.columns)) {
        if (!IDENTIFIER.test(col)) problem(`${at}.columns.${col}`, `column name "${col}" is not an identifier`);
      }
      if (src.timestampField && !(src.timestampField in src.columns)) {
        problem(`${at}.timestampField`, `"${src.timestampField}" is not one of the declared columns (${Object.keys(src.columns).join(', ')})`);
      } else if (src.timestampField && src.columns[src.timestampField] !== 'timestamp') {
        problem(`${at}.timestampField`, `"${src.timestampField}" is declared as ${src.columns[src.timestampField]}, not timestamp`);
      }
    }
    sources[name] = {
      name,
      path: src.path,
      format: src.format ?? (src.path.toLowerCase().endsWith('.csv') ? 'csv' : 'parquet'),
      ...(src.timestampField ? { timestampField: src.timestampField } : {}),
      ...(src.columns ? { columns: { ...src.columns } } : {}),
    };
  }
  const sourceNames = Object.keys(sources).join(', ') || 'none';

  /** Checks that `column` exists in a source that declares its columns; returns its declared type. */
  const checkColumn = (sourceName: string, column: string, path: string): ColumnType | undefined => {
    const cols = sources[sourceName]?.columns;
    if (!cols) return undefined;
    if (!(column in cols)) {
      problem(path, `source "${sourceName}" has no column "${column}" (it has ${Object.keys(cols).join(', ')})`);
      return undefined;
    }
    return cols[column];
  };
  const checkEventSource = (sourceName: string, path: string): boolean => {
    if (!(sourceName in sources)) {
      problem(path, `unknown source "${sourceName}" (sources: ${sourceNames})`);
      return false;
    }
    if (!sources[sourceName].timestampField) {
      problem(path, `source "${sourceName}" has no timestampField, so it has no events in time`);
      return false;
    }
    return true;
  };

  // Labels.
  const lab = def.labels;
  const labels: ResolvedLabels = {
    source: lab.source,
    key: lab.key,
    events: lab.events,
    windowMs: durationOf(lab.window, 'labels.window', problem, { positive: true }) ?? 0,
    name: lab.name ?? 'label',
  };
  if (!IDENTIFIER.test(labels.name)) problem('labels.name', `"${labels.name}" is not an identifier`);
  if (checkEventSource(lab.source, 'labels.source')) checkColumn(lab.source, lab.key, 'labels.key');
  if (checkEventSource(lab.events, 'labels.events')) checkColumn(lab.events, lab.key, 'labels.key');

  // Views.
  const views: ResolvedView[] = [];
  const viewNames = new Set<string>();
  for (const [vi, view] of def.views.entries()) {
    const at = `views.${view.name}`;
    if (viewNames.has(view.name)) problem(`views[${vi}]`, `duplicate view name "${view.name}"`);
    viewNames.add(view.name);
    if (!IDENTIFIER.test(view.name) || view.name.includes('__')) {
      problem(`${at}.name`, `"${view.name}" is not an identifier without "__" (feature columns are named <view>__<feature>)`);
    }
    const entity = def.entities[view.entity];
    if (!entity) problem(`${at}.entity`, `unknown entity "${view.entity}" (entities: ${Object.keys(def.entities).join(', ') || 'none'})`);
    const sourceOk = checkEventSource(view.source, `${at}.source`);
    const keyColumns = view.keys ?? entity?.joinKeys ?? [];
    if (entity && keyColumns.length !== entity.joinKeys.length) {
      problem(`${at}.keys`, `entity "${view.entity}" has ${entity.joinKeys.length} join key(s) (${entity.joinKeys.join(', ')}) but ${keyColumns.length} key column(s) are given`);
    }
    if (sourceOk) keyColumns.forEach((k, i) => checkColumn(view.source, k, `${at}.keys[${i}]`));

    const intervalMs = durationOf(view.interval, `${at}.interval`, problem, { positive: true });
    const ttlMs = durationOf(view.ttl, `${at}.ttl`, problem, { positive: true });
    const lagMs = durationOf(view.lag, `${at}.lag`, problem, { positive: false });
    if (ttlMs !== undefined && lagMs !== undefined && ttlMs <= lagMs) {
      problem(`${at}.ttl`, `ttl ${view.ttl} must be longer than lag ${view.lag}, or no row would ever be fresh`);
    }

    const features: ResolvedFeature[] = [];
    const featureNames = new Set<string>();
    for (const agg of view.aggregations) {
      const aat = `${at}.aggregations.${agg.name}`;
      if (!IDENTIFIER.test(agg.name) || agg.name.includes('__')) problem(`${aat}.name`, `"${agg.name}" is not an identifier without "__"`);
      const aggEvents = agg.fn === 'ctr' ? 'label' : (agg.events ?? 'source');
      if (aggEvents === 'label' && view.source !== labels.source) {
        problem(aat, `${agg.fn === 'ctr' ? 'ctr' : 'events: "label"'} needs the view's source to be the labelled source "${labels.source}", not "${view.source}"`);
      }
      if (agg.fn === 'sum' || agg.fn === 'mean') {
        const type = sourceOk ? checkColumn(view.source, agg.column, `${aat}.column`) : undefined;
        if (type && !NUMERIC.has(type)) problem(`${aat}.column`, `${agg.fn} needs a numeric column, "${agg.column}" is ${type}`);
      }
      if (agg.fn === 'ctr') {
        if (!(agg.prior >= 0 && agg.prior <= 1)) problem(`${aat}.prior`, `prior must be in [0, 1], got ${agg.prior}`);
        if (!(agg.strength >= 0 && Number.isFinite(agg.strength))) problem(`${aat}.strength`, `strength must be finite and ≥ 0, got ${agg.strength}`);
      }
      if (agg.default !== undefined && agg.default !== null && !Number.isFinite(agg.default)) {
        problem(`${aat}.default`, `default must be a finite number or null, got ${agg.default}`);
      }
      const seenWindows = new Set<string>();
      for (const [wi, w] of agg.windows.entries()) {
        const wat = `${aat}.windows[${wi}]`;
        if (seenWindows.has(w)) problem(wat, `duplicate window "${w}"`);
        seenWindows.add(w);
        let windowMs: number | null = null;
        if (w !== 'all') {
          const ms = durationOf(w, wat, problem, { positive: true });
          if (ms === undefined) continue;
          if (intervalMs !== undefined && ms % intervalMs !== 0) {
            problem(wat, `window "${w}" is not a multiple of the view's interval "${view.interval}"`);
          }
          windowMs = ms;
        }
        const name = `${agg.name}_${w}`;
        if (featureNames.has(name)) problem(wat, `duplicate feature name "${name}"`);
        featureNames.add(name);
        features.push({
          name,
          fn: agg.fn,
          events: aggEvents,
          ...(agg.fn === 'sum' || agg.fn === 'mean' ? { column: agg.column } : {}),
          window: w,
          windowMs,
          ...(agg.fn === 'ctr' ? { prior: agg.prior, strength: agg.strength } : {}),
          dtype: DTYPE[agg.fn],
          default: agg.default !== undefined ? agg.default : defaultOf(agg.fn, agg.fn === 'ctr' ? agg.prior : 0),
        });
      }
    }
    views.push({
      name: view.name,
      entity: view.entity,
      source: view.source,
      joinKeys: entity ? [...entity.joinKeys] : [],
      keyColumns: [...keyColumns],
      intervalMs: intervalMs ?? 1,
      ttlMs: ttlMs ?? 1,
      lagMs: lagMs ?? 0,
      features,
      usesLabels: features.some((f) => f.events === 'label'),
    });
  }

  // Models.
  const models: Record<string, ResolvedRepoModel> = {};
  for (const [name, model] of Object.entries(def.models ?? {})) {
    const resolved = validateModel(name, model, views, labels, sources, problem);
    if (resolved) models[name] = resolved;
  }

  if (issues.length) throw new DefinitionError(issues);
  return { project: def.project, entities, sources, labels, views, models, definition: def };
}

function validateModel(
  name: string,
  model: ModelDefinition,
  views: ResolvedView[],
  labels: ResolvedLabels,
  sources: Record<string, ResolvedSource>,
  problem: (path: string, message: string) => void,
): ResolvedRepoModel | undefined {
  const at = `models.${name}`;
  try {
    validateModelInputSpec(model.input);
  } catch (err) {
    if (!(err instanceof DefinitionError)) throw err;
    for (const issue of err.issues) problem(`${at}.input`, issue);
    return undefined;
  }
  const requestNames = new Set<string>();
  for (const [i, f] of model.requestFields.entries()) {
    if (requestNames.has(f.name)) problem(`${at}.requestFields[${i}]`, `duplicate request field "${f.name}"`);
    requestNames.add(f.name);
    if (f.name === labels.name) problem(`${at}.requestFields[${i}]`, `"${f.name}" is the label column`);
    const cols = sources[labels.source]?.columns;
    if (cols && !(f.name in cols)) {
      problem(`${at}.requestFields[${i}]`, `"${f.name}" is not a column of the labelled source "${labels.source}"`);
    }
  }
  const columns = new Map<string, string>(); // feature column → view
  for (const v of views) for (const f of v.features) columns.set(featureColumn(v.name, f.name), v.name);

  const used: string[] = [];
  for (const input of specInputs(model.input)) {
    const view = columns.get(input);
    if (view) {
      if (!used.includes(view)) used.push(view);
    } else if (!requestNames.has(input)) {
      problem(`${at}.input`, `input "${input}" is neither a request field (${[...requestNames].join(', ') || 'none'}) nor a feature column <view>__<feature>`);
    }
  }
  const entityKeys: Record<string, string[]> = {};
  for (const [viewName, fields] of Object.entries(model.entityKeys ?? {})) {
    const view = views.find((v) => v.name === viewName);
    if (!view) {
      problem(`${at}.entityKeys.${viewName}`, `unknown view "${viewName}"`);
      continue;
    }
    if (fields.length !== view.joinKeys.length) {
      problem(`${at}.entityKeys.${viewName}`, `view "${viewName}" has ${view.joinKeys.length} join key(s) (${view.joinKeys.join(', ')}) but ${fields.length} field(s) are given`);
    }
  }
  for (const viewName of used) {
    const view = views.find((v) => v.name === viewName)!;
    const fields = model.entityKeys?.[viewName] ?? view.joinKeys;
    fields.forEach((f) => {
      if (!requestNames.has(f)) {
        problem(`${at}.entityKeys.${viewName}`, `join key field "${f}" of view "${viewName}" is not a request field`);
      }
    });
    entityKeys[viewName] = [...fields];
  }
  return { name, definition: model, views: used, entityKeys, requestFields: model.requestFields.map((f) => ({ ...f })) };
}

function durationOf(
  value: string,
  path: string,
  problem: (path: string, message: string) => void,
  { positive }: { positive: boolean },
): number | undefined {
  const ms = tryParseDuration(value);
  if (ms === undefined) {
    problem(path, `"${value}" is not a duration (an integer and one of ms, s, m, h, d, w, e.g. "15m", "7d")`);
    return undefined;
  }
  if (positive && ms === 0) {
    problem(path, `must be longer than 0`);
    return undefined;
  }
  return ms;
}

function defaultOf(fn: AggregationFn, prior: number): number | null {
  switch (fn) {
    case 'count':
    case 'sum':
      return 0;
    case 'ctr':
      return prior;
    default:
      return null;
  }
}

function checkNames(names: string[], path: string, what: string, problem: (path: string, message: string) => void): void {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (!IDENTIFIER.test(n)) problem(`${path}[${i}]`, `${what} "${n}" is not an identifier`);
    if (seen.has(n)) problem(`${path}[${i}]`, `duplicate ${what} "${n}"`);
    seen.add(n);
  });
}

/** Formats a zod issue path; array elements that have a `name` are addressed by it. */
function formatPath(path: ReadonlyArray<PropertyKey>, root: unknown): string {
  let out = '';
  let node: unknown = root;
  for (const key of path) {
    const child = node != null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    const name = child != null && typeof child === 'object' ? (child as { name?: unknown }).name : undefined;
    if (typeof key === 'number') out += typeof name === 'string' && name ? `.${name}` : `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
    node = child;
  }
  return out || '(repo)';
}
