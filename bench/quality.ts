/**
 * `npm run bench -- quality [--datasets avazu-8k,criteo-8k,sponsored-ads] [--impressions 1000000] [--selection cv|dev]`
 *
 * Model quality side by side on the same split and the same raw columns: lockstep's FTRL logistic regression and
 * factorization machine, scikit-learn's LogisticRegression and XGBoost (Debian's packages, through
 * /usr/bin/python3), and on the generated data the Bayes-optimal predictor (the oracle's true probabilities).
 *
 * Every model picks its hyper-parameters (and epoch / tree count) without seeing test, by the same rule, is
 * retrained with them and scored once on test:
 * - avazu-8k, criteo-8k (../shared/data; rows without time order): by default 5-fold stratified cross-validation
 *   over train ∪ dev, the same folds for every model, choosing by the mean held-out log loss (iterative models:
 *   the minimum of the mean validation curve); final training on train ∪ dev. Why not the dev split alone: its
 *   ~400 rows give a log loss whose noise exceeds the differences between settings, so the choice among dozens of
 *   settings rewards luck (docs/training.md). `--selection dev` is the earlier protocol: choose on dev, train on
 *   train.
 * - sponsored-ads (generated, cached under .lockstep/bench/): a time split through the feature store's
 *   point-in-time training sets (no cross-validation across time: it would train on the future). Choices: train on
 *   days 1..N−2, dev on day N−1. Final: train on days 1..N−1, test on day N (its last hour left out: labels still
 *   open).
 *
 * The last stdout line: {"bench":"quality","datasets":{"<dataset>":{"<model>":{"auc","logloss"}}},"details":{…}}.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { specInputs, type ModelInputSpec } from '@lockstep/sdk';
import { arraySource, type BatchSource } from '../packages/offline/src/train/batch-source.ts';
import { duckdbSource, quoteIdent, quoteString } from '../packages/offline/src/train/duckdb-source.ts';
import { SeededRandom } from '../packages/offline/src/train/random.ts';
import { train, type TrainOptions } from '../packages/offline/src/train/trainer.ts';
import { evaluate, scoreRows } from '../packages/offline/src/evaluate/evaluate.ts';
import { aucDifference } from '../packages/offline/src/evaluate/auc-difference.ts';
import { pythonUnavailable, runPython } from '../packages/offline/src/evaluate/debian-python.ts';
import { clickDelayCdf } from '../packages/offline/src/generator/index.ts';
import { benchArgs } from './args.ts';
import { ROOT, dayStart, modelOf, sponsoredAds, trainingSet } from './_sponsored-ads.ts';

const SHARED = resolve(ROOT, '../shared/data');
const REFERENCE = 'p_oracle';

interface PeerJob {
  name: string;
  sep: string;
  header: boolean;
  names: string[] | null;
  label: string;
  categorical: string[];
  numeric: string[];
  tune: { train: string; dev: string };
  final: { train: string; test: string };
  fast?: boolean;
  /** Cross-validation instead of the dev split: the pool is tune.train's rows then tune.dev's, `folds[i]` row i's fold. */
  cv?: { folds: number[]; labels: number[] };
}

interface Dataset {
  name: string;
  /** Input specs to choose from on dev (the first is the default); the LR picks, the FM uses the pick. */
  specs: Record<string, ModelInputSpec>;
  label: string;
  /** DuckDB relations. `final.test` carries REFERENCE when the oracle exists. */
  tune: { train: string; dev: string };
  final: { train: string; test: string };
  bayes: boolean;
  /** Rows without time order (a random split): settings may be chosen by cross-validation over train ∪ dev. */
  shuffled: boolean;
  peer: PeerJob;
  rows: Record<string, number>;
}

/** A relation's rows, vectorised and held in memory (tuning makes many passes). */
interface Rows {
  width: number;
  dimension: number;
  indices: Int32Array;
  values: Float32Array;
  labels: Float32Array;
  columns: Record<string, Float64Array>;
}

export async function loadRows(relation: string, spec: ModelInputSpec, label: string, columns: string[] = []): Promise<Rows> {
  const src = await duckdbSource({ relation, spec, label, columns });
  const n = await src.count();
  const w = src.width;
  const rows: Rows = {
    width: w,
    dimension: src.dimension,
    indices: new Int32Array(n * w),
    values: new Float32Array(n * w),
    labels: new Float32Array(n),
    columns: Object.fromEntries(columns.map((c) => [c, new Float64Array(n)])),
  };
  let at = 0;
  for await (const b of src.batches()) {
    rows.indices.set(b.indices, at * w);
    rows.values.set(b.values, at * w);
    rows.labels.set(b.labels, at);
    for (const c of columns) for (let r = 0; r < b.rows; r++) rows.columns[c][at + r] = Number(b.columns[c][r]);
    at += b.rows;
  }
  src.close();
  return rows;
}

/** `a`'s rows then `b`'s (same spec, no extra columns). */
export function concatRows(a: Rows, b: Rows): Rows {
  const cat = <T extends Int32Array | Float32Array>(x: T, y: T): T => {
    const out = new (x.constructor as new (n: number) => T)(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return { ...a, indices: cat(a.indices, b.indices), values: cat(a.values, b.values), labels: cat(a.labels, b.labels), columns: {} };
}

/** A source over `rows`, or over the rows numbered in `pick` (copied, in that order). */
export function sourceOf(rows: Rows, pick?: Int32Array): BatchSource & { rows: number } {
  const { width, dimension } = rows;
  if (!pick) return { ...arraySource({ width, dimension, indices: rows.indices, values: rows.values, labels: rows.labels, columns: rows.columns }), rows: rows.labels.length };
  const indices = new Int32Array(pick.length * width);
  const values = new Float32Array(pick.length * width);
  const labels = new Float32Array(pick.length);
  pick.forEach((r, i) => {
    indices.set(rows.indices.subarray(r * width, (r + 1) * width), i * width);
    values.set(rows.values.subarray(r * width, (r + 1) * width), i * width);
    labels[i] = rows.labels[r];
  });
  return { ...arraySource({ width, dimension, indices, values, labels }), rows: pick.length };
}

/** Folds for cross-validation: k folds of (nearly) equal size and click rate, from a seeded shuffle of each class. */
export function stratifiedFolds(labels: ArrayLike<number>, k: number, seed: number): Int8Array {
  const folds = new Int8Array(labels.length);
  const rng = new SeededRandom(seed);
  let next = 0;
  for (const cls of [1, 0]) {
    const rows = Array.from({ length: labels.length }, (_, i) => i).filter((i) => (labels[i] > 0 ? 1 : 0) === cls);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    // Round-robin, continuing across classes, so fold sizes differ by at most one.
    for (const r of rows) folds[r] = next++ % k;
  }
  return folds;
}

type Config = Pick<TrainOptions, 'ftrl' | 'fm'>;

/** Where settings are chosen: a dev split, or k folds of a pool (every fold once the validation part). */
type Selection = { kind: 'dev'; train: BatchSource; dev: BatchSource } | { kind: 'cv'; folds: Array<{ train: BatchSource; valid: BatchSource }> };

const MAX_EPOCHS = 15;

/** A config's settled epoch count and validation log loss under a selection. */
export async function assess(family: 'lr' | 'fm', config: Config, selection: Selection): Promise<{ loss: number; auc: number; epochs: number }> {
  if (selection.kind === 'dev') {
    // Early stopping on dev log loss.
    const r = await train(selection.train, { family, ...config, epochs: MAX_EPOCHS, validation: selection.dev, earlyStopping: { patience: 2 } });
    const e = r.epochs[r.bestEpoch - 1];
    return { loss: e.validationLogloss!, auc: e.validationAuc!, epochs: r.bestEpoch };
  }
  // Every epoch's validation log loss, averaged over the folds: the epoch count is the mean curve's minimum.
  const loss = new Float64Array(MAX_EPOCHS);
  const auc = new Float64Array(MAX_EPOCHS);
  for (const fold of selection.folds) {
    const r = await train(fold.train, { family, ...config, epochs: MAX_EPOCHS, validation: fold.valid });
    r.epochs.forEach((e, i) => {
      loss[i] += e.validationLogloss! / selection.folds.length;
      auc[i] += e.validationAuc! / selection.folds.length;
    });
  }
  const best = loss.indexOf(Math.min(...loss));
  return { loss: loss[best], auc: auc[best], epochs: best + 1 };
}

/** Picks a config and an epoch count under the selection, retrains on the final training rows, scores test. */
async function tuneAndTest(family: 'lr' | 'fm', grid: Config[], data: Loaded, reference: boolean) {
  let best: { loss: number; config: Config; epochs: number } | undefined;
  const on = data.selection.kind === 'dev' ? 'dev' : `${data.selection.folds.length}-fold CV`;
  for (const config of grid) {
    const a = await assess(family, config, data.selection);
    console.error(`lockstep-${family} ${JSON.stringify(config)}: ${a.epochs} epochs, ${on} logloss ${a.loss.toFixed(5)} auc ${a.auc.toFixed(4)}`);
    if (!best || a.loss < best.loss) best = { loss: a.loss, config, epochs: a.epochs };
  }
  const final = await train(data.finalTrain, { family, ...best!.config, epochs: best!.epochs });
  const ev = await evaluate(final.params, data.test, reference ? { reference: REFERENCE } : {});
  const scored = await scoreRows(final.params, data.test);
  console.error(`lockstep-${family} test: auc ${ev.metrics.auc.toFixed(4)} logloss ${ev.metrics.logloss.toFixed(5)} calibration ${ev.metrics.calibration.toFixed(3)}`);
  return { ev, scored, params: { ...best!.config, epochs: best!.epochs }, devLoss: best!.loss, seconds: final.seconds };
}

export const LR_GRID: Config[] = [0.01, 0.02, 0.05, 0.1, 0.2].flatMap((alpha) => [0, 1].flatMap((l1) => [0.1, 1].map((l2) => ({ ftrl: { alpha, l1, l2 } }))));
/**
 * The FM's grid, around the LR's FTRL pick. Session 5 moved it to where the picks were (every dataset had picked
 * rate 0.002 and factor λ2 1e-3, two edges): rate 0.001 and λ2 1e-2, 3e-2 added, chosen by cross-validation on
 * criteo-8k (best mean held-out log loss 0.45300 → 0.45263 under the bench's folds, 0.45278 (the old grid's K = 2
 * settings) → 0.45251 under a second draw; `npm run bench -- quality-cv --datasets criteo-8k --hash-bits 22
 * --family fm`); rates 0.02, 0.05 and λ2 1e-4, never picked on any dataset, dropped to keep the run's length.
 */
export function fmGrid(ftrl: Config['ftrl']): Config[] {
  return [2, 4, 8].flatMap((factors) => [0.001, 0.002, 0.005, 0.01].flatMap((learningRate) => [1e-3, 1e-2, 3e-2].map((l2) => ({ ftrl, fm: { factors, learningRate, l2 } }))));
}

const FOLDS = 5;
const FOLD_SEED = 2026;

interface Loaded {
  selection: Selection;
  finalTrain: BatchSource & { rows: number };
  test: BatchSource & { rows: number };
  rows: Record<string, number>;
  /** Under cross-validation, the folds and the pool's labels, for the peers (who check that their rows pair up). */
  cv?: { folds: number[]; labels: number[] };
}

/** k-fold cross-validation over `pool`: each fold once the validation part, the rest the training part. */
export function crossValidation(pool: Rows, seed: number, k = FOLDS): { selection: Selection; folds: Int8Array } {
  const folds = stratifiedFolds(pool.labels, k, seed);
  const rowsOf = (keep: (f: number) => boolean) => Int32Array.from(folds.keys()).filter((r) => keep(folds[r]));
  const parts = Array.from({ length: k }, (_, i) => ({ train: sourceOf(pool, rowsOf((f) => f !== i)), valid: sourceOf(pool, rowsOf((f) => f === i)) }));
  return { selection: { kind: 'cv', folds: parts }, folds };
}

async function loadAll(d: Dataset, spec: ModelInputSpec, cv: boolean): Promise<Loaded> {
  const tuneTrain = await loadRows(d.tune.train, spec, d.label);
  const dev = await loadRows(d.tune.dev, spec, d.label);
  const test = sourceOf(await loadRows(d.final.test, spec, d.label, d.bayes ? [REFERENCE] : []));
  if (cv) {
    // The pool is the train rows then the dev rows, the order the peers read them in (they get the same folds).
    const pool = concatRows(tuneTrain, dev);
    const { selection, folds } = crossValidation(pool, FOLD_SEED);
    return {
      selection,
      finalTrain: sourceOf(pool),
      test,
      rows: { pool: pool.labels.length, train: pool.labels.length, test: test.rows },
      cv: { folds: Array.from(folds), labels: Array.from(pool.labels) },
    };
  }
  const finalTrain = d.final.train === d.tune.train ? sourceOf(tuneTrain) : sourceOf(await loadRows(d.final.train, spec, d.label));
  return {
    selection: { kind: 'dev', train: sourceOf(tuneTrain), dev: sourceOf(dev) },
    finalTrain,
    test,
    rows: { tune_train: tuneTrain.labels.length, dev: dev.labels.length, train: finalTrain.rows, test: test.rows },
  };
}

async function runDataset(d: Dataset, peers: boolean, cv: boolean): Promise<{ figures: Record<string, { auc: number; logloss: number }>; details: Record<string, unknown> }> {
  console.error(`\n== ${d.name}`);
  let chosen: { name: string; lr: Awaited<ReturnType<typeof tuneAndTest>>; data: Loaded } | undefined;
  for (const [name, spec] of Object.entries(d.specs)) {
    const data = await loadAll(d, spec, cv);
    console.error(`input spec "${name}", rows: ${JSON.stringify(data.rows)}`);
    const lr = await tuneAndTest('lr', LR_GRID, data, d.bayes);
    if (!chosen || lr.devLoss < chosen.lr.devLoss) chosen = { name, lr, data };
  }
  const { lr, data } = chosen!;
  const rows = data.rows;
  const fm = await tuneAndTest('fm', fmGrid(lr.params.ftrl), data, false);
  const figures: Record<string, { auc: number; logloss: number }> = {
    'lockstep-lr': { auc: lr.ev.metrics.auc, logloss: lr.ev.metrics.logloss },
    'lockstep-fm': { auc: fm.ev.metrics.auc, logloss: fm.ev.metrics.logloss },
  };
  const details: Record<string, unknown> = { rows, selection: cv ? `${FOLDS}-fold CV over train ∪ dev` : 'dev split', input_spec: chosen!.name, 'lockstep-lr': lr.params, 'lockstep-fm': fm.params };
  const predictions: Record<string, ArrayLike<number>> = { 'lockstep-lr': lr.scored.predictions, 'lockstep-fm': fm.scored.predictions };
  let peerLabels: number[] | undefined;
  if (peers) {
    const { test_labels: labels, ...out } = JSON.parse(await runPython(join(ROOT, 'bench/peers/quality.py'), [], JSON.stringify(cv ? { ...d.peer, cv: data.cv } : d.peer), { stderr: 'inherit' })) as {
      test_labels: number[];
    } & Record<string, { auc: number; logloss: number; params: unknown; predictions: number[] }>;
    peerLabels = labels;
    for (const [k, v] of Object.entries(out)) {
      figures[k] = { auc: v.auc, logloss: v.logloss };
      details[k] = v.params;
      predictions[k] = v.predictions;
    }
  }
  if (lr.ev.bayes) figures.bayes = { auc: lr.ev.bayes.metrics.auc, logloss: lr.ev.bayes.metrics.logloss };
  const best = (ours: boolean) =>
    Object.entries(figures)
      .filter(([k]) => k !== 'bayes' && k.startsWith('lockstep') === ours)
      .reduce<[string, number] | undefined>((b, [k, v]) => (!b || v.auc > b[1] ? [k, v.auc] : b), undefined);
  const bestOurs = best(true)!;
  const bestPeer = best(false);
  if (bestPeer) {
    details.best_lockstep_minus_best_peer_auc = +(bestOurs[1] - bestPeer[1]).toFixed(4);
    // Paired on the same test rows: both sides read the test file in its order; the labels prove the pairing.
    const labels = lr.scored.labels;
    if (peerLabels?.length === labels.length && peerLabels.every((y, i) => y === labels[i])) {
      const diff = aucDifference(predictions[bestOurs[0]], predictions[bestPeer[0]], labels);
      details.auc_difference_delong = {
        models: `${bestOurs[0]} − ${bestPeer[0]}`,
        difference: +diff.difference.toFixed(4),
        standard_error: +diff.standardError.toFixed(4),
        ci95: [+diff.low.toFixed(4), +diff.high.toFixed(4)],
        p_value: +diff.pValue.toFixed(3),
      };
      console.error(`${d.name}: AUC ${bestOurs[0]} − ${bestPeer[0]} = ${diff.difference.toFixed(4)}, 95% CI [${diff.low.toFixed(4)}, ${diff.high.toFixed(4)}] (DeLong)`);
    } else {
      details.auc_difference_delong = { skipped: "the peers' test rows are not in lockstep's order" };
    }
  }
  return { figures, details };
}

const AVAZU_CATEGORICAL = ['C1', 'banner_pos', 'site_id', 'site_domain', 'site_category', 'app_id', 'app_domain', 'app_category', 'device_id', 'device_ip', 'device_model', 'device_type', 'device_conn_type', 'C14', 'C15', 'C16', 'C17', 'C18', 'C19', 'C20', 'C21'];

export function avazu(): Dataset {
  const dir = join(SHARED, 'avazu-8k');
  const rel = (f: string) => `read_csv(${quoteString(join(dir, f))}, header = true, all_varchar = true)`;
  const spec: ModelInputSpec = { hashSeed: 0, hashBits: 18, fields: AVAZU_CATEGORICAL.map((c) => ({ name: c, inputs: [c], encoding: { type: 'categorical' } })) };
  const csv = (f: string) => join(dir, f);
  return {
    name: 'avazu-8k',
    specs: { categorical: spec },
    label: 'click',
    tune: { train: rel('train.csv'), dev: rel('dev.csv') },
    final: { train: rel('train.csv'), test: rel('test.csv') },
    bayes: false,
    shuffled: true,
    rows: {},
    peer: { name: 'avazu-8k', sep: ',', header: true, names: null, label: 'click', categorical: AVAZU_CATEGORICAL, numeric: [], tune: { train: csv('train.csv'), dev: csv('dev.csv') }, final: { train: csv('train.csv'), test: csv('test.csv') } },
  };
}

const CRITEO_INT = Array.from({ length: 13 }, (_, i) => `I${i + 1}`);
const CRITEO_CAT = Array.from({ length: 26 }, (_, i) => `C${i + 1}`);

export function criteo(): Dataset {
  const dir = join(SHARED, 'criteo-8k');
  const names = ['label', ...CRITEO_INT, ...CRITEO_CAT];
  const types = `{${names.map((n) => `'${n}': '${n === 'label' || n.startsWith('I') ? 'BIGINT' : 'VARCHAR'}'`).join(', ')}}`;
  const rel = (f: string) => `read_csv(${quoteString(join(dir, f))}, delim = '\t', header = false, columns = ${types})`;
  // Counts span orders of magnitude: log buckets (as the Criteo competition's winners did with log²), optionally
  // with the log1p value itself as well (a slope within and across buckets); cross-validation decides.
  // 2^22 slots, not 2^18: Criteo's 26 long-tailed categoricals put ~10^5 distinct values in 7.6k rows, and a test
  // value never seen in training lands on a trained slot less often. Chosen by cross-validation (session 4: mean
  // held-out log loss 0.45279 → 0.45246 under the bench's folds, 0.45276 → 0.45240 under a second draw; 2^20
  // 0.45255); avazu-8k's CV did not move (±2·10^-5), so it keeps 2^18.
  const hashBits = 22;
  const buckets = CRITEO_INT.map((c) => ({ name: c, inputs: [c], encoding: { type: 'log_bucket' as const, resolution: 2 } }));
  const slopes = CRITEO_INT.map((c) => ({ name: `${c}_log1p`, inputs: [c], encoding: { type: 'numeric' as const, transform: 'log1p' as const, scale: 0.2 } }));
  const cats = CRITEO_CAT.map((c) => ({ name: c, inputs: [c], encoding: { type: 'categorical' as const } }));
  const tsv = (f: string) => join(dir, f);
  return {
    name: 'criteo-8k',
    specs: {
      'log-buckets': { hashSeed: 0, hashBits, fields: [...buckets, ...cats] },
      'log-buckets+log1p': { hashSeed: 0, hashBits, fields: [...buckets, ...slopes, ...cats] },
    },
    label: 'label',
    tune: { train: rel('train.tsv'), dev: rel('dev.tsv') },
    final: { train: rel('train.tsv'), test: rel('test.tsv') },
    bayes: false,
    shuffled: true,
    rows: {},
    peer: { name: 'criteo-8k', sep: '\t', header: false, names, label: 'label', categorical: CRITEO_CAT, numeric: CRITEO_INT, tune: { train: tsv('train.tsv'), dev: tsv('dev.tsv') }, final: { train: tsv('train.tsv'), test: tsv('test.tsv') } },
  };
}

async function sponsored(impressions: number): Promise<Dataset> {
  const data = await sponsoredAds(impressions);
  const days = data.manifest.options.days;
  const { repo, model } = await modelOf();
  const spec = model.definition.input;
  const lastEnd = new Date(Date.parse(dayStart(data, days)) - 3_600_000).toISOString();
  const sets = {
    tuneTrain: await trainingSet(data, 'q-tune-train', dayStart(data, 0), dayStart(data, days - 2)),
    dev: await trainingSet(data, 'q-dev', dayStart(data, days - 2), dayStart(data, days - 1)),
    finalTrain: await trainingSet(data, 'q-final-train', dayStart(data, 0), dayStart(data, days - 1)),
    test: await trainingSet(data, 'q-test', dayStart(data, days - 1), lastEnd),
  };
  const key = quoteIdent(repo.labels.key);
  const scale = clickDelayCdf(repo.labels.windowMs / 1000);
  const parquet = (p: string) => `read_parquet(${quoteString(p)})`;
  // In the file's row order (a join may reorder), the order of the peers' CSV: the AUC difference pairs rows.
  const test = `(SELECT t.*, o.p_click * ${scale} AS ${REFERENCE} FROM read_parquet(${quoteString(sets.test.path)}, file_row_number = true) t JOIN ${parquet(data.oracle)} o ON o.${key} = t.${key} ORDER BY t.file_row_number)`;

  // Peers get the columns lockstep's input reads, with the request-time derivations the spec applies to ts.
  const inputs = specInputs(spec).filter((c) => c !== 'ts' && c !== 'user_stats__last_seen_all');
  const categorical = ['device', 'position', 'query_category', 'ad_category', 'ad_id', 'advertiser_id', 'hour', 'weekday'];
  const numeric = [...inputs.filter((c) => !categorical.includes(c)), 'user_idle_s'];
  const csvDir = join(data.workDir, 'peer-csv');
  await mkdir(csvDir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const csv: Record<string, string> = {};
  for (const [name, set] of Object.entries(sets)) {
    csv[name] = join(csvDir, `${name}.csv`);
    if (existsSync(csv[name])) continue;
    const cols = [
      ...inputs.map(quoteIdent),
      'hour(ts) AS hour',
      'dayofweek(ts) AS weekday',
      '(epoch_ms(ts) - "user_stats__last_seen_all") / 1000.0 AS user_idle_s',
      quoteIdent(set.label),
    ];
    await conn.run(`COPY (SELECT ${cols.join(', ')} FROM ${parquet(set.path)}) TO ${quoteString(csv[name])} (HEADER, DELIMITER ',')`);
  }
  conn.closeSync();
  db.closeSync();
  return {
    name: 'sponsored-ads',
    specs: { 'ads-ctr': spec },
    label: sets.test.label,
    tune: { train: parquet(sets.tuneTrain.path), dev: parquet(sets.dev.path) },
    final: { train: parquet(sets.finalTrain.path), test },
    bayes: true,
    shuffled: false,
    rows: {},
    peer: { name: 'sponsored-ads', sep: ',', header: true, names: null, label: sets.test.label, categorical, numeric, tune: { train: csv.tuneTrain, dev: csv.dev }, final: { train: csv.finalTrain, test: csv.test }, fast: impressions > 2_000_000 },
  };
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const args = benchArgs(argv, {
    datasets: { type: 'string', default: 'avazu-8k,criteo-8k,sponsored-ads' },
    impressions: { type: 'string', default: '1000000' },
    peers: { type: 'boolean', default: true },
    'no-peers': { type: 'boolean', default: false },
    selection: { type: 'string', default: 'cv' },
  });
  if (args.selection !== 'cv' && args.selection !== 'dev') throw new Error(`--selection must be cv or dev, got ${args.selection}`);
  const wanted = args.datasets.split(',').map((s) => s.trim());
  const missingPython = pythonUnavailable(['sklearn', 'xgboost', 'pandas']);
  const peers = !args['no-peers'] && !missingPython;
  if (missingPython) console.error(`peers skipped: ${missingPython}`);
  const datasets: Record<string, unknown> = {};
  const details: Record<string, unknown> = {};
  for (const name of wanted) {
    let d: Dataset;
    if (name === 'avazu-8k' || name === 'criteo-8k') {
      if (!existsSync(join(SHARED, name))) {
        console.error(`${name}: skipped (${join(SHARED, name)} not found)`);
        details[name] = { skipped: `${join(SHARED, name)} not found` };
        continue;
      }
      d = name === 'avazu-8k' ? avazu() : criteo();
    } else if (name === 'sponsored-ads') {
      d = await sponsored(Number(args.impressions.replaceAll('_', '')));
    } else {
      throw new Error(`unknown dataset ${name} (avazu-8k, criteo-8k, sponsored-ads)`);
    }
    const r = await runDataset(d, peers, d.shuffled && args.selection === 'cv');
    datasets[name] = r.figures;
    details[name] = r.details;
  }
  return { bench: 'quality', datasets, details };
}
