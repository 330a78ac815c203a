/**
 * The whole offline path on a small generated data set: `lockstep train` writes a bundle that verifies, whose
 * snapshot reads back with Arrow, whose report has its plots; the bundle's model.onnx run by onnxruntime-web gives
 * the trained model's probabilities on every evaluation row; damaged bundles are refused.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tableFromIPC } from 'apache-arrow';
import * as ort from 'onnxruntime-web/wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '@lockstep/sdk/node';
import { generate } from '../generator/index.ts';
import { duckdbSource, quoteString } from './duckdb-source.ts';
import { predictProbabilities } from './model-params.ts';
import { trainBundle, type TrainingRun } from './training-run.ts';
import { openTracker } from '../tracking/index.ts';
import { trainTracked } from './tracked-training.ts';

ort.env.wasm.numThreads = 1;
const run = promisify(execFile);
const bin = resolve(fileURLToPath(import.meta.url), '../../../bin/lockstep.mjs');
const repo = resolve(fileURLToPath(import.meta.url), '../../../../../examples/sponsored-ads/lockstep.config.ts');
let root: string;
const windows = { trainStart: '2026-01-01', trainEnd: '2026-01-08', evalStart: '2026-01-08', evalEnd: '2026-01-08T23:00:00' };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lockstep-train-'));
  await generate({ out: join(root, 'gen'), impressions: 100_000, users: 3_000, ads: 300, advertisers: 30, days: 8, seed: 7 });
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('lockstep train (CLI)', () => {
  it('writes a verified bundle with model, manifest, report and feature snapshot', async () => {
    const out = join(root, 'bundle-lr');
    const args = ['train', '--repo', repo, '--data', join(root, 'gen/data'), '--work', join(root, 'work'), '--model', 'ads-ctr', '--family', 'lr'];
    args.push('--train-start', windows.trainStart, '--train-end', windows.trainEnd, '--eval-start', windows.evalStart, '--eval-end', windows.evalEnd);
    args.push('--out', out, '--oracle', join(root, 'gen/oracle/oracle.parquet'), '--no-progress');
    args.push('--tracking-uri', join(root, 'tracking'), '--register', 'ads-ctr', '--alias', 'champion');
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    expect(stdout.trim()).toBe(out);
    expect(stderr).toMatch(/eval AUC 0\.\d+ .*Bayes-optimal AUC/);

    // The run recorded itself: params, the learning curve, the final evaluation, lineage, the bundle as an
    // artifact, and the registered version behind the alias.
    const tracker = await openTracker(join(root, 'tracking'));
    const [recorded] = await tracker.searchRuns({ experiments: ['ads-ctr'] });
    expect(recorded.data.params).toMatchObject({ family: 'lr', model: 'ads-ctr', train_start: windows.trainStart });
    // Defaults resolved by the trainer are params too (no --alpha was given).
    expect(recorded.data.params).toMatchObject({ 'train.ftrl.alpha': '0.1', 'train.ftrl.l1': '0.5', 'train.epochs': '1' });
    expect(recorded.data.metrics.auc.value).toBeGreaterThan(0.65);
    expect(recorded.inputs.map((i) => i.digest)).toContain(recorded.data.tags['lockstep.training_set_digest']);
    expect(recorded.data.tags['lockstep.training_set_digest']).toMatch(/^[0-9a-f]{64}$/);
    const curve = await tracker.metricHistory(recorded.info.runId, 'train_progressive_logloss');
    expect(curve.length).toBeGreaterThan(1);
    const champion = await tracker.resolveModel('ads-ctr@champion');
    expect(champion.version).toBe('1');
    expect(champion.modelVersion.runId).toBe(recorded.info.runId);
    expect(JSON.parse(await readFile(join(champion.path, 'manifest.json'), 'utf8')).lineage.trainingSetDigest).toBe(recorded.data.tags['lockstep.training_set_digest']);

    const { manifest, files } = await readBundle(out);
    expect(manifest).toMatchObject({ format: 'lockstep-bundle', formatVersion: 1, name: 'ads-ctr', project: 'sponsored_ads' });
    expect(manifest.model).toMatchObject({ family: 'lr', file: 'model.onnx', width: 24, dimension: 2 ** 20, negativeSampling: 1 });
    expect(manifest.featureViews.map((v) => v.name)).toEqual(['user_stats', 'ad_stats', 'advertiser_stats', 'user_category_stats']);
    expect(manifest.entityKeys.user_category_stats).toEqual(['user_id', 'ad_category']);
    expect(manifest.training).toMatchObject({ start: '2026-01-01T00:00:00.000Z', end: '2026-01-08T00:00:00.000Z', cutoff: '2026-01-08T00:00:00.000Z' });
    expect(manifest.lineage.trainingSetDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.lineage.codeVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(manifest.lineage.runId).toBe(recorded.info.runId);
    // A learned model, but not better than the limit.
    expect(manifest.metrics.auc).toBeGreaterThan(0.65);
    expect(manifest.metrics.auc).toBeLessThan(manifest.metrics.bayes_auc);
    expect(manifest.metrics.logloss).toBeGreaterThan(manifest.metrics.bayes_logloss);

    // The snapshot: one Arrow file per view, the latest row per entity as of the cut-off.
    expect(Object.keys(manifest.snapshot!.views)).toEqual(['user_stats', 'ad_stats', 'advertiser_stats', 'user_category_stats']);
    const ads = tableFromIPC(files.get('features/ad_stats.arrow')!);
    expect(ads.numRows).toBe(manifest.snapshot!.views.ad_stats.rows);
    expect(ads.schema.fields.map((f) => f.name)).toEqual(['ad_id', 'event_time', 'impressions_1d', 'impressions_7d', 'ctr_1d', 'ctr_7d', 'position_7d']);
    expect(ads.schema.metadata.get('lockstep.schemaHash')).toBe(manifest.featureViews[1].schemaHash);
    const latest = Math.max(...Array.from(ads.getChild('event_time')!.toArray() as ArrayLike<number>, Number));
    expect(latest).toBeLessThanOrEqual(Date.parse('2026-01-08T00:00:00Z'));

    const report = new TextDecoder().decode(files.get('report.html'));
    expect(report.match(/<svg/g)).toHaveLength(3);
    expect(report).toContain('Bayes-optimal');
    expect(report).toContain('By position');
  });

  it('refuses bad arguments with a typed error', async () => {
    const args = ['train', '--repo', repo, '--data', join(root, 'gen/data'), '--model', 'nope', '--train-start', '2026-01-01', '--train-end', '2026-01-02'];
    args.push('--eval-start', '2026-01-02', '--eval-end', '2026-01-03', '--out', join(root, 'x'));
    const err = await run(process.execPath, [bin, ...args]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain('unknown model "nope"');

    const alias = await run(process.execPath, [bin, ...args.map((a) => (a === 'nope' ? 'ads-ctr' : a)), '--alias', 'champion']).catch((e: unknown) => e);
    expect(alias).toMatchObject({ code: 1 });
    expect((alias as { stderr: string }).stderr).toMatch(/^lockstep: INVALID_INPUT: --alias needs --register/);
  });

  it('refuses bad windows, an existing bundle and a missing oracle before any work, leaving no tracked run', async () => {
    const base = { repo, dataDir: join(root, 'gen/data'), workDir: join(root, 'work-refused'), model: 'ads-ctr', ...windows, out: join(root, 'refused'), training: { family: 'lr' as const } };
    const refusals: Array<[Partial<typeof base> & { oracle?: { path: string }; overwrite?: boolean; slices?: string[] }, RegExp]> = [
      [{ trainStart: '2026-01-08', trainEnd: '2026-01-01' }, /training window must end after it starts/],
      [{ evalEnd: '2026-01-08' }, /evaluation window must end after it starts/],
      [{ evalStart: '2026-01-07' }, /evaluation window must start at or after the training window's end/],
      [{ trainStart: '2026-02-30' }, /trainStart must be a Date, an ISO-8601 time/],
      [{ out: root }, /bundle folder .* already exists \(overwrite, --overwrite on the CLI, replaces it\)/],
      [{ oracle: { path: join(root, 'nope.parquet') } }, /oracle file not found: .*nope\.parquet/],
      // A place the bundle cannot be written: found before training, not after.
      [{ out: join(root, 'a-file', 'bundle') }, /^cannot write the bundle folder .*a-file\/bundle: .*(EEXIST|ENOTDIR)/],
      [{ slices: ['position', 'nope'] }, /unknown slice column "nope" \(the evaluation set's columns: .*position/],
    ];
    await writeFile(join(root, 'a-file'), 'x');
    const tracker = await openTracker(join(root, 'tracking-refused'));
    for (const [change, message] of refusals) {
      const err = await trainTracked({ ...base, ...change, tracker }).catch((e: unknown) => e);
      expect(err, message.source).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(message) });
    }
    // A file that is there but is no Parquet file: a typed error naming it, not DuckDB's stack.
    await writeFile(join(root, 'not-parquet.parquet'), 'nope');
    const unreadable = await duckdbSource({ relation: `read_parquet(${quoteString(join(root, 'not-parquet.parquet'))})`, spec: { hashSeed: 0, hashBits: 8, fields: [{ name: 'x', inputs: ['x'], encoding: { type: 'categorical' } }] } }).catch((e: unknown) => e);
    expect(unreadable).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/^cannot read read_parquet\('.*not-parquet\.parquet'\): /) });
    // Nothing was built and no run was opened: the checks come first.
    expect(existsSync(join(root, 'work-refused'))).toBe(false);
    expect(await tracker.searchRuns({})).toEqual([]);
  });
});

describe('trainBundle (API)', () => {
  let fm: TrainingRun;
  beforeAll(async () => {
    fm = await trainBundle({
      repo,
      dataDir: join(root, 'gen/data'),
      workDir: join(root, 'work'),
      model: 'ads-ctr',
      ...windows,
      out: join(root, 'bundle-fm'),
      training: { family: 'fm', epochs: 2, negativeSampling: 0.5, seed: 3 },
      snapshot: false,
    });
  });

  it("the bundle's model.onnx in onnxruntime-web gives the trained FM's probabilities on every evaluation row", async () => {
    const { manifest, files } = await readBundle(fm.dir);
    expect(manifest.model).toMatchObject({ family: 'fm', factors: 8, negativeSampling: 0.5 });
    // Two epochs: the second replayed from the epoch cache, which is gone afterwards.
    expect(fm.result.epochs).toHaveLength(2);
    expect(existsSync(join(root, 'work', 'tmp')) ? readdirSync(join(root, 'work', 'tmp')) : []).toEqual([]);
    expect(manifest.snapshot).toBeUndefined();
    const session = await ort.InferenceSession.create(files.get('model.onnx')!);
    // Vectorised from the evaluation set through the manifest's input spec, as a scorer would.
    const source = await duckdbSource({ relation: `read_parquet(${quoteString(fm.evalSet.path)})`, spec: manifest.input });
    let rows = 0;
    let worst = 0;
    for await (const b of source.batches()) {
      const F = manifest.model.width;
      const ours = predictProbabilities(fm.result.params, b.indices, b.values, b.rows);
      const out = await session.run({
        indices: new ort.Tensor('int64', BigInt64Array.from(b.indices, (v) => BigInt(v)), [b.rows, F]),
        values: new ort.Tensor('float32', b.values.slice(), [b.rows, F]),
      });
      const p = out.probability.data as Float32Array;
      for (let r = 0; r < b.rows; r++) worst = Math.max(worst, Math.abs(p[r] - ours[r]));
      rows += b.rows;
    }
    source.close();
    expect(rows).toBe(fm.evalSet.rows);
    expect(rows).toBeGreaterThan(10_000);
    expect(worst).toBeLessThan(1e-6);
  });

  it('a damaged bundle is refused: checksum, missing file, unknown version', async () => {
    const dir = fm.dir;
    const model = await readFile(join(dir, 'model.onnx'));
    model[model.length - 5] ^= 0xff;
    await writeFile(join(dir, 'model.onnx'), model);
    await expect(readBundle(dir)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', message: expect.stringContaining('model.onnx') });
    await rm(join(dir, 'report.html'));
    await expect(readBundle(dir, { only: ['report.html'] })).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringContaining('report.html') });
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, formatVersion: 2 }));
    await expect(readBundle(dir)).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
  });
});
