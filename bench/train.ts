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
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteString, duckdbSource } from '../packages/offline/src/train/duckdb-source.ts';
import { createModel } from '../packages/offline/src/train/trainer.ts';
import { syntheticClicks } from '../packages/offline/src/train/synthetic.ts';
import { pythonUnavailable, runPython } from '../packages/offline/src/evaluate/debian-python.ts';
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

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const args = benchArgs(argv, {
    impressions: { type: 'string', default: '10000000' },
    repeats: { type: 'string', default: '3' },
    source: { type: 'string', default: 'generated' },
    sklearn: { type: 'boolean', default: true },
    'no-sklearn': { type: 'boolean', default: false },
  });
  const impressions = Number(args.impressions.replaceAll('_', ''));
  const repeats = Number(args.repeats);
  const data = args.source === 'synthetic' ? await syntheticRows(impressions) : await generatedRows(impressions);
  const { rows, width, dimension } = data;
  console.error(`${rows.toLocaleString('en-US')} rows × ${width} slots, ${dimension.toLocaleString('en-US')} indices (${data.source})`);

  const families: Record<string, number[]> = { 'lockstep-lr': [], 'lockstep-fm': [] };
  for (let r = 0; r < repeats; r++) {
    for (const family of ['lr', 'fm'] as const) {
      const model = createModel(family, width, dimension);
      const t0 = performance.now();
      model.fit(data.indices, data.values, data.labels, rows);
      const s = (performance.now() - t0) / 1000;
      families[`lockstep-${family}`].push(rows / s);
      console.error(`lockstep-${family} pass ${r + 1}: ${s.toFixed(2)} s, ${Math.round(rows / s).toLocaleString('en-US')} rows/s`);
    }
  }

  const out: Record<string, unknown> = { bench: 'train', rows, width, dimension, source: data.source, repeats };
  for (const [k, v] of Object.entries(families)) out[k] = { rows_per_s: Math.round(median(v)), runs: v.map(Math.round) };

  const missing = pythonUnavailable(['sklearn', 'scipy', 'numpy']);
  if (args['no-sklearn']) out['sklearn-sgd'] = { skipped: '--no-sklearn' };
  else if (missing) out['sklearn-sgd'] = { skipped: missing };
  else {
    const metaPath = join(ROOT, '.lockstep/bench', `train-peer-${rows}.json`);
    await writeFile(metaPath, JSON.stringify({ rows, width, dimension, ...data.files }));
    const result = JSON.parse(await runPython(join(ROOT, 'bench/peers/sgd_train.py'), [metaPath, String(repeats)], '', { stderr: 'inherit' })) as { seconds: number[] };
    const rates = result.seconds.map((s) => rows / s);
    out['sklearn-sgd'] = { rows_per_s: Math.round(median(rates)), runs: rates.map(Math.round) };
    const peer = median(rates);
    out.speedup_vs_sklearn = { lr: +(median(families['lockstep-lr']) / peer).toFixed(2), fm: +(median(families['lockstep-fm']) / peer).toFixed(2) };
  }
  return out;
}
