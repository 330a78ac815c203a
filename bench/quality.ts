/**
 * `npm run bench -- quality [--datasets avazu-8k,criteo-8k,sponsored-ads] [--impressions 1000000]`
 *
 * Model quality side by side on the same split and the same raw columns: lockstep's FTRL logistic regression and
 * factorization machine, scikit-learn's LogisticRegression and XGBoost (Debian's packages, through
 * /usr/bin/python3), and on the generated data the Bayes-optimal predictor (the oracle's true probabilities).
 *
 * Every model picks its hyper-parameters on a dev split only, is retrained with them on the final training split
 * and scored once on test:
 * - avazu-8k, criteo-8k (../shared/data): train.csv → dev.csv for choices; train → test.
 * - sponsored-ads (generated, cached under .lockstep/bench/): a time split through the feature store's
 *   point-in-time training sets. Choices: train on days 1..N−2, dev on day N−1. Final: train on days 1..N−1,
 *   test on day N (its last hour left out: labels still open).
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
  peer: PeerJob;
  rows: Record<string, number>;
}

/** Reads a relation once into memory (tuning makes many passes). */
async function load(relation: string, spec: ModelInputSpec, label: string, columns: string[] = []): Promise<BatchSource & { rows: number }> {
  const src = await duckdbSource({ relation, spec, label, columns });
  const n = await src.count();
  const w = src.width;
  const indices = new Int32Array(n * w);
  const values = new Float32Array(n * w);
  const labels = new Float32Array(n);
  const extra: Record<string, Float64Array> = Object.fromEntries(columns.map((c) => [c, new Float64Array(n)]));
  let at = 0;
  for await (const b of src.batches()) {
    indices.set(b.indices, at * w);
    values.set(b.values, at * w);
    labels.set(b.labels, at);
    for (const c of columns) for (let r = 0; r < b.rows; r++) extra[c][at + r] = Number(b.columns[c][r]);
    at += b.rows;
  }
  src.close();
  return { ...arraySource({ width: w, dimension: src.dimension, indices, values, labels, columns: extra }), rows: n };
}

type Config = Pick<TrainOptions, 'ftrl' | 'fm'>;

/** Picks a config and an epoch count on dev (early stopping on dev log loss), retrains, scores test. */
async function tuneAndTest(family: 'lr' | 'fm', grid: Config[], data: Record<'tuneTrain' | 'dev' | 'finalTrain' | 'test', BatchSource>, reference: boolean) {
  let best: { loss: number; config: Config; epochs: number } | undefined;
  for (const config of grid) {
    const r = await train(data.tuneTrain, { family, ...config, epochs: 15, validation: data.dev, earlyStopping: { patience: 2 } });
    const e = r.epochs[r.bestEpoch - 1];
    console.error(`lockstep-${family} ${JSON.stringify(config)}: best epoch ${r.bestEpoch}, dev logloss ${e.validationLogloss!.toFixed(5)} auc ${e.validationAuc!.toFixed(4)}`);
    if (!best || e.validationLogloss! < best.loss) best = { loss: e.validationLogloss!, config, epochs: r.bestEpoch };
  }
  const final = await train(data.finalTrain, { family, ...best!.config, epochs: best!.epochs });
  const ev = await evaluate(final.params, data.test, reference ? { reference: REFERENCE } : {});
  const scored = await scoreRows(final.params, data.test);
  console.error(`lockstep-${family} test: auc ${ev.metrics.auc.toFixed(4)} logloss ${ev.metrics.logloss.toFixed(5)} calibration ${ev.metrics.calibration.toFixed(3)}`);
  return { ev, scored, params: { ...best!.config, epochs: best!.epochs }, devLoss: best!.loss, seconds: final.seconds };
}

const LR_GRID: Config[] = [0.02, 0.05, 0.1, 0.2].flatMap((alpha) => [0, 1].flatMap((l1) => [0.1, 1].map((l2) => ({ ftrl: { alpha, l1, l2 } }))));
function fmGrid(ftrl: Config['ftrl']): Config[] {
  return [4, 8].flatMap((factors) => [0.005, 0.01, 0.02, 0.05].flatMap((learningRate) => [1e-4, 1e-3].map((l2) => ({ ftrl, fm: { factors, learningRate, l2 } }))));
}

async function loadAll(d: Dataset, spec: ModelInputSpec) {
  return {
    tuneTrain: await load(d.tune.train, spec, d.label),
    dev: await load(d.tune.dev, spec, d.label),
    finalTrain: await load(d.final.train, spec, d.label),
    test: await load(d.final.test, spec, d.label, d.bayes ? [REFERENCE] : []),
  };
}

async function runDataset(d: Dataset, peers: boolean): Promise<{ figures: Record<string, { auc: number; logloss: number }>; details: Record<string, unknown> }> {
  console.error(`\n== ${d.name}`);
  let chosen: { name: string; lr: Awaited<ReturnType<typeof tuneAndTest>>; data: Awaited<ReturnType<typeof loadAll>> } | undefined;
  for (const [name, spec] of Object.entries(d.specs)) {
    const data = await loadAll(d, spec);
    console.error(`input spec "${name}", rows: ${JSON.stringify({ tune_train: data.tuneTrain.rows, dev: data.dev.rows, train: data.finalTrain.rows, test: data.test.rows })}`);
    const lr = await tuneAndTest('lr', LR_GRID, data, d.bayes);
    if (!chosen || lr.devLoss < chosen.lr.devLoss) chosen = { name, lr, data };
  }
  const { lr, data } = chosen!;
  const rows = { tune_train: data.tuneTrain.rows, dev: data.dev.rows, train: data.finalTrain.rows, test: data.test.rows };
  const fm = await tuneAndTest('fm', fmGrid(lr.params.ftrl), data, false);
  const figures: Record<string, { auc: number; logloss: number }> = {
    'lockstep-lr': { auc: lr.ev.metrics.auc, logloss: lr.ev.metrics.logloss },
    'lockstep-fm': { auc: fm.ev.metrics.auc, logloss: fm.ev.metrics.logloss },
  };
  const details: Record<string, unknown> = { rows, input_spec: chosen!.name, 'lockstep-lr': lr.params, 'lockstep-fm': fm.params };
  const predictions: Record<string, ArrayLike<number>> = { 'lockstep-lr': lr.scored.predictions, 'lockstep-fm': fm.scored.predictions };
  let peerLabels: number[] | undefined;
  if (peers) {
    const { test_labels: labels, ...out } = JSON.parse(await runPython(join(ROOT, 'bench/peers/quality.py'), [], JSON.stringify(d.peer), { stderr: 'inherit' })) as {
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

function avazu(): Dataset {
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
    rows: {},
    peer: { name: 'avazu-8k', sep: ',', header: true, names: null, label: 'click', categorical: AVAZU_CATEGORICAL, numeric: [], tune: { train: csv('train.csv'), dev: csv('dev.csv') }, final: { train: csv('train.csv'), test: csv('test.csv') } },
  };
}

const CRITEO_INT = Array.from({ length: 13 }, (_, i) => `I${i + 1}`);
const CRITEO_CAT = Array.from({ length: 26 }, (_, i) => `C${i + 1}`);

function criteo(): Dataset {
  const dir = join(SHARED, 'criteo-8k');
  const names = ['label', ...CRITEO_INT, ...CRITEO_CAT];
  const types = `{${names.map((n) => `'${n}': '${n === 'label' || n.startsWith('I') ? 'BIGINT' : 'VARCHAR'}'`).join(', ')}}`;
  const rel = (f: string) => `read_csv(${quoteString(join(dir, f))}, delim = '\t', header = false, columns = ${types})`;
  // Counts span orders of magnitude: log buckets (as the Criteo competition's winners did with log²), optionally
  // with the log1p value itself as well (a slope within and across buckets); dev decides.
  const buckets = CRITEO_INT.map((c) => ({ name: c, inputs: [c], encoding: { type: 'log_bucket' as const, resolution: 2 } }));
  const slopes = CRITEO_INT.map((c) => ({ name: `${c}_log1p`, inputs: [c], encoding: { type: 'numeric' as const, transform: 'log1p' as const, scale: 0.2 } }));
  const cats = CRITEO_CAT.map((c) => ({ name: c, inputs: [c], encoding: { type: 'categorical' as const } }));
  const tsv = (f: string) => join(dir, f);
  return {
    name: 'criteo-8k',
    specs: {
      'log-buckets': { hashSeed: 0, hashBits: 18, fields: [...buckets, ...cats] },
      'log-buckets+log1p': { hashSeed: 0, hashBits: 18, fields: [...buckets, ...slopes, ...cats] },
    },
    label: 'label',
    tune: { train: rel('train.tsv'), dev: rel('dev.tsv') },
    final: { train: rel('train.tsv'), test: rel('test.tsv') },
    bayes: false,
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
  });
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
    const r = await runDataset(d, peers);
    datasets[name] = r.figures;
    details[name] = r.details;
  }
  return { bench: 'quality', datasets, details };
}
