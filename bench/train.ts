/**
 * `npm run bench -- train [--impressions 10000000] [--repeats 3] [--source generated|synthetic]`
 *
 * Training throughput: examples per second of one single-threaded pass of lockstep's FTRL logistic regression and
 * factorization machine over in-memory hashed rows (Int32Array indices, Float32Array values), beside scikit-learn's
 * SGDClassifier(loss='log_loss') doing one partial_fit pass over the same rows as a CSR matrix.
 *
 * Rows: by default the generated sponsored-ads impressions, through the feature store's point-in-time training set
 * and the SDK vectoriser (the ads-ctr model: 25 slots, 2^20 indices), cached under .lockstep/bench/. `--source
 * synthetic` uses synthetic rows with long-tailed index frequencies instead (no engine needed).
 *
 * The peer runs twice per repeat: with sklearn's defaults (shuffle=True, the key `sklearn-sgd`) and in the given
 * row order (shuffle=False, `sklearn-sgd-in-order`), the same visiting order as lockstep and sklearn's fastest.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { quoteString, duckdbSource } from '../packages/offline/src/train/duckdb-source.ts';
import { createModel } from '../packages/offline/src/train/trainer.ts';
import { syntheticClicks } from '../packages/offline/src/train/synthetic.ts';
import { DEBIAN_PYTHON, pythonUnavailable } from '../packages/offline/src/evaluate/debian-python.ts';
import { benchArgs, median } from './args.ts';
import { ROOT, dayStart, modelOf, sponsoredAds, trainingSet } from './_sponsored-ads.ts';

interface Rows {
  rows: number;
  width: number;
  dimension: number;
  indices: Int32Array;
  values: Float32Array;
  labels: Float32Array;
  source: string;
  files: { indices: string; values: string; labels: string };
}

async function generatedRows(impressions: number): Promise<Rows> {
  const dir = join(ROOT, '.lockstep/bench', `train-rows-${impressions}`);
  const files = { indices: join(dir, 'indices.i32'), values: join(dir, 'values.f32'), labels: join(dir, 'labels.u8') };
  const metaPath = join(dir, 'meta.json');
  const source = `generated sponsored-ads impressions → feature-store training set → SDK vectoriser (ads-ctr)`;
  if (existsSync(metaPath)) {
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as { rows: number; width: number; dimension: number };
    console.error(`reusing ${meta.rows.toLocaleString('en-US')} vectorised rows from ${dir}`);
    const buf = async (p: string) => new Uint8Array(await readFile(p));
    const [i, v, l] = [await buf(files.indices), await buf(files.values), await buf(files.labels)];
    return {
      ...meta,
      indices: new Int32Array(i.buffer, i.byteOffset, i.byteLength / 4),
      values: new Float32Array(v.buffer, v.byteOffset, v.byteLength / 4),
      labels: Float32Array.from(l),
      source,
      files,
    };
  }
  const data = await sponsoredAds(impressions);
  const days = data.manifest.options.days;
  // Every impression with a mature label: the last hour's labels are censored by the end of the log.
  const end = new Date(Date.parse(dayStart(data, days)) - 3_600_000).toISOString();
  console.error(`building the training set ${dayStart(data, 0)} → ${end}`);
  const set = await trainingSet(data, 'bench-train-all', dayStart(data, 0), end);
  const { model } = await modelOf();
  const src = await duckdbSource({ relation: `read_parquet(${quoteString(set.path)})`, spec: model.definition.input, label: set.label });
  const n = set.rows;
  const w = src.width;
  const indices = new Int32Array(n * w);
  const values = new Float32Array(n * w);
  const labels = new Float32Array(n);
  let at = 0;
  const t0 = performance.now();
  for await (const b of src.batches()) {
    indices.set(b.indices, at * w);
    values.set(b.values, at * w);
    labels.set(b.labels, at);
    at += b.rows;
    if (at % 1_000_000 < b.rows) console.error(`vectorised ${at.toLocaleString('en-US')} rows`);
  }
  src.close();
  console.error(`vectorised ${at.toLocaleString('en-US')} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await mkdir(dir, { recursive: true });
  await writeFile(files.indices, new Uint8Array(indices.buffer));
  await writeFile(files.values, new Uint8Array(values.buffer));
  await writeFile(files.labels, Uint8Array.from(labels));
  await writeFile(metaPath, JSON.stringify({ rows: n, width: w, dimension: src.dimension }));
  return { rows: n, width: w, dimension: src.dimension, indices, values, labels, source, files };
}

async function syntheticRows(rows: number): Promise<Rows> {
  const dir = join(ROOT, '.lockstep/bench', `train-synthetic-${rows}`);
  const files = { indices: join(dir, 'indices.i32'), values: join(dir, 'values.f32'), labels: join(dir, 'labels.u8') };
  console.error(`generating ${rows.toLocaleString('en-US')} synthetic rows`);
  const d = syntheticClicks({ rows, fields: 25, hashBits: 20 });
  await mkdir(dir, { recursive: true });
  await writeFile(files.indices, new Uint8Array(d.indices.buffer));
  await writeFile(files.values, new Uint8Array(d.values.buffer));
  await writeFile(files.labels, Uint8Array.from(d.labels));
  return { ...d, source: 'synthetic: 25 categorical slots, long-tailed value frequencies, 2^20 indices', files };
}

/** The Python peer, kept running so its passes can interleave with ours. */
async function startPeer(meta: Record<string, unknown>) {
  const metaPath = join(ROOT, '.lockstep/bench', `train-peer-${String(meta.rows)}.json`);
  await writeFile(metaPath, JSON.stringify(meta));
  const child = spawn(DEBIAN_PYTHON, [join(ROOT, 'bench/peers/sgd_train.py'), metaPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the sklearn peer exited early');
    return value as string;
  };
  if ((await next()) !== 'ready') throw new Error('the sklearn peer did not start');
  return {
    async pass(setting: 'default' | 'in_order') {
      child.stdin!.write(`${setting}\n`);
      return JSON.parse(await next()) as { wall: number; cpu: number };
    },
    close() {
      child.stdin!.end('quit\n');
    },
  };
}

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const args = benchArgs(argv, {
    impressions: { type: 'string', default: '10000000' },
    repeats: { type: 'string', default: '3' },
    source: { type: 'string', default: 'generated' },
    'no-sklearn': { type: 'boolean', default: false },
  });
  const impressions = Number(args.impressions.replaceAll('_', ''));
  const repeats = Number(args.repeats);
  const data = args.source === 'synthetic' ? await syntheticRows(impressions) : await generatedRows(impressions);
  const { rows, width, dimension } = data;
  console.error(`${rows.toLocaleString('en-US')} rows × ${width} slots, ${dimension.toLocaleString('en-US')} indices (${data.source})`);

  const missing = args['no-sklearn'] ? '--no-sklearn' : pythonUnavailable(['sklearn', 'scipy', 'numpy']);
  const peer = missing ? undefined : await startPeer({ rows, width, dimension, ...data.files });

  // Passes interleave (lockstep LR, FM, sklearn default, sklearn in order, repeat) so that every contender runs
  // under the same machine load. Wall-clock and CPU time (process CPU seconds) are both recorded: on a shared
  // machine the CPU figure is the single-core throughput, the wall figure what was observed.
  const runs: Record<string, Array<{ wall: number; cpu: number }>> = {};
  const loadStart = loadavg()[0];
  const record = (name: string, t: { wall: number; cpu: number }) => {
    (runs[name] ??= []).push(t);
    console.error(`${name} pass ${runs[name].length}: ${t.wall.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s CPU, ${Math.round(rows / t.wall).toLocaleString('en-US')} rows/s`);
  };
  for (let r = 0; r < repeats; r++) {
    for (const family of ['lr', 'fm'] as const) {
      const model = createModel(family, width, dimension);
      const w0 = performance.now();
      const c0 = process.cpuUsage();
      model.fit(data.indices, data.values, data.labels, rows);
      const c = process.cpuUsage(c0);
      record(`lockstep-${family}`, { wall: (performance.now() - w0) / 1000, cpu: (c.user + c.system) / 1e6 });
    }
    if (peer) {
      record('sklearn-sgd', await peer.pass('default'));
      record('sklearn-sgd-in-order', await peer.pass('in_order'));
    }
  }
  peer?.close();

  // The 1-minute load average before and after the passes: the wall figures are only comparable on a quiet machine.
  const load = [loadStart, loadavg()[0]].map((x) => +x.toFixed(2));
  const out: Record<string, unknown> = { bench: 'train', rows, width, dimension, source: data.source, repeats, load_average: load };
  const figure = (name: string) => {
    const t = runs[name];
    return {
      rows_per_s: Math.round(median(t.map((x) => rows / x.wall))),
      rows_per_cpu_s: Math.round(median(t.map((x) => rows / x.cpu))),
      runs: t.map((x) => Math.round(rows / x.wall)),
    };
  };
  for (const name of Object.keys(runs)) out[name] = figure(name);
  if (peer) {
    (out['sklearn-sgd'] as Record<string, unknown>).setting = "SGDClassifier(loss='log_loss'), defaults (shuffle=True)";
    (out['sklearn-sgd-in-order'] as Record<string, unknown>).setting = "SGDClassifier(loss='log_loss', shuffle=False)";
    const ratio = (a: string, b: string, key: 'rows_per_s' | 'rows_per_cpu_s') =>
      +((out[a] as Record<string, number>)[key] / (out[b] as Record<string, number>)[key]).toFixed(2);
    for (const key of ['rows_per_s', 'rows_per_cpu_s'] as const) {
      out[`speedup_vs_sklearn_${key}`] = {
        lr: ratio('lockstep-lr', 'sklearn-sgd', key),
        fm: ratio('lockstep-fm', 'sklearn-sgd', key),
        lr_vs_in_order: ratio('lockstep-lr', 'sklearn-sgd-in-order', key),
        fm_vs_in_order: ratio('lockstep-fm', 'sklearn-sgd-in-order', key),
      };
    }
  } else out['sklearn-sgd'] = { skipped: missing };
  return out;
}
