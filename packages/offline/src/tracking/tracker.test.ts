/**
 * The Tracker facade, on both backends: the local store, and an MLflow server (our stateful fake, which answers like
 * the recordings). The same scenario must give the same results on both.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrackingError } from '@lockstep/sdk';
import { LocalStore } from './local-store.ts';
import { MlflowClient } from './mlflow-client.ts';
import { startFakeMlflowServer, type FakeMlflowServer } from './test-support/fake-mlflow-server.ts';
import { openTracker, parseTrackingUri, Tracker } from './tracker.ts';

let dir: string;
let server: FakeMlflowServer | undefined;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lockstep-tracker-'));
  const bundle = path.join(dir, 'out', 'bundle');
  await fs.mkdir(path.join(bundle, 'nested'), { recursive: true });
  await fs.writeFile(path.join(bundle, 'manifest.json'), '{"format":"lockstep-bundle"}');
  await fs.writeFile(path.join(bundle, 'model.onnx'), new Uint8Array([0, 1, 2, 250, 255]));
  await fs.writeFile(path.join(bundle, 'nested', 'vocab.txt'), 'a\nb\n');
  await fs.writeFile(path.join(dir, 'out', 'report.html'), '<h1>report</h1>');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

const backends = {
  local: async () => openTracker(path.join(dir, 'store'), { cwd: dir }),
  mlflow: async () => {
    server = await startFakeMlflowServer({ authorization: 'Bearer s3cret' });
    return openTracker(server.url, { cwd: dir, token: 's3cret' });
  },
};

describe.each(Object.keys(backends) as Array<keyof typeof backends>)('Tracker on the %s backend', (kind) => {
  it('records a training run with lineage, registers its bundle as champion and resolves it', async () => {
    const tracker = await backends[kind]();
    expect(tracker.kind).toBe(kind);
    const run = await tracker.startRun({ experiment: 'ads-ctr', name: 'lr-0.05', tags: { team: 'ads' }, description: 'baseline' });
    await run.logParams({ lr: 0.05, epochs: 3, features: ['a', 'b'], skipped: undefined });
    for (let epoch = 0; epoch < 3; epoch++) await run.logMetrics({ loss: 0.6 / (epoch + 1), auc: 0.7 + epoch / 100 }, { step: epoch });
    await run.logMetric('test_auc', 0.74);
    await run.logInput({ name: 'train', digest: 'sha256:abc', source: 'data/train.parquet', profile: { rows: 8000 } });
    await run.logArtifact(path.join(dir, 'out', 'bundle'), 'model');
    await run.logArtifact(path.join(dir, 'out', 'report.html'));
    await run.logDict({ auc: 0.74 }, 'eval/metrics.json');
    await run.end();

    const got = await tracker.getRun(run.id);
    expect(got.info).toMatchObject({ runName: 'lr-0.05', status: 'FINISHED' });
    expect(got.info.endTime).toBeGreaterThanOrEqual(got.info.startTime);
    expect(got.data.params).toEqual({ lr: '0.05', epochs: '3', features: '["a","b"]' });
    expect(got.data.metrics.loss).toMatchObject({ step: 2, value: 0.6 / 3 });
    expect(got.data.tags).toMatchObject({ team: 'ads', 'mlflow.note.content': 'baseline', 'mlflow.source.type': 'LOCAL' });
    expect(got.inputs).toEqual([
      {
        name: 'train',
        digest: 'sha256:abc',
        sourceType: 'local',
        source: '{"uri":"data/train.parquet"}',
        profile: '{"rows":8000}',
        tags: { 'mlflow.data.context': 'training' },
      },
    ]);
    expect((await tracker.metricHistory(run.id, 'auc')).map((m) => m.step)).toEqual([0, 1, 2]);
    expect((await tracker.listArtifactsRecursive(run.id)).map((a) => a.path).sort()).toEqual([
      'eval/metrics.json',
      'model/manifest.json',
      'model/model.onnx',
      'model/nested/vocab.txt',
      'report.html',
    ]);

    const v1 = await tracker.registerModel('ads-ctr', { runId: run.id, aliases: ['champion'] });
    expect(v1).toMatchObject({ name: 'ads-ctr', version: '1', runId: run.id, aliases: ['champion'] });
    const v2 = await tracker.registerModel('ads-ctr', { runId: run.id, description: 'retrain' });
    expect(v2.version).toBe('2');
    await tracker.setAlias('ads-ctr', 'challenger', 2);

    for (const ref of ['ads-ctr@champion', 'models:/ads-ctr@champion', 'ads-ctr/1', 'models:/ads-ctr/1']) {
      const resolved = await tracker.resolveModel(ref, { cacheDir: path.join(dir, 'cache') });
      expect(resolved.version, ref).toBe('1');
      expect(await fs.readFile(path.join(resolved.path, 'manifest.json'), 'utf8')).toBe('{"format":"lockstep-bundle"}');
      expect([...(await fs.readFile(path.join(resolved.path, 'model.onnx')))]).toEqual([0, 1, 2, 250, 255]);
      expect(await fs.readFile(path.join(resolved.path, 'nested', 'vocab.txt'), 'utf8')).toBe('a\nb\n');
    }
    expect((await tracker.getModelVersion('ads-ctr')).version).toBe('2');
    expect((await tracker.getModelVersion('ads-ctr/latest')).aliases).toEqual(['challenger']);
    await tracker.setAlias('ads-ctr', 'champion', '2');
    expect((await tracker.resolveModel('ads-ctr@champion', { cacheDir: path.join(dir, 'cache') })).version).toBe('2');

    // A version whose source is runs:/… resolves through the run's artifacts on both backends.
    const v3 = await tracker.registerModel('ads-ctr', { runId: run.id, source: `runs:/${run.id}/model` });
    const viaRun = await tracker.resolveModel(`ads-ctr/${v3.version}`, { cacheDir: path.join(dir, 'cache') });
    expect(await fs.readFile(path.join(viaRun.path, 'nested', 'vocab.txt'), 'utf8')).toBe('a\nb\n');

    const [model] = await tracker.listModels();
    expect(model.name).toBe('ads-ctr');
    expect(model.aliases).toEqual({ champion: '2', challenger: '2' });
    expect(model.versions.map((v) => [v.version, v.aliases])).toEqual([
      ['3', []],
      ['2', ['challenger', 'champion']],
      ['1', []],
    ]);

    const err = await tracker.registerModel('ads-ctr', { runId: run.id, artifactPath: 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingError);
    expect((err as TrackingError).message).toContain('no artifact "nope"');
  });

  it('nests sweep trials under a parent, searches and compares them, and fails a run that throws', async () => {
    const tracker = await backends[kind]();
    const parent = await tracker.startRun({ experiment: 'sweep', name: 'sweep' });
    for (const lr of [0.01, 0.1, 0.05]) {
      const child = await parent.startChild({ name: `lr=${lr}` });
      await child.logParam('lr', lr);
      await child.logMetric('auc', 0.7 + lr);
      await child.end();
    }
    await parent.end();
    const children = await tracker.childRuns(parent.id);
    expect(children.map((r) => r.info.runName).sort()).toEqual(['lr=0.01', 'lr=0.05', 'lr=0.1']);
    const best = await tracker.searchRuns({ experiments: ['sweep'], filter: 'metrics.auc > 0.72', orderBy: ['metrics.auc DESC'] });
    expect(best.map((r) => r.data.params.lr)).toEqual(['0.1', '0.05']);

    await expect(
      tracker.withRun({ experiment: 'sweep', name: 'boom' }, async () => {
        throw new Error('diverged');
      }),
    ).rejects.toThrow('diverged');
    const [failed] = await tracker.searchRuns({ experiments: ['sweep'], filter: "attributes.run_name = 'boom'" });
    expect(failed.info.status).toBe('FAILED');
    // The same experiment is found, not created twice.
    expect((await tracker.listExperiments()).filter((e) => e.name === 'sweep')).toHaveLength(1);
  });
});

describe('Tracker on an MLflow server with a local artifact root', () => {
  it('writes and reads artifacts in the folder the server names, as MLflow’s own client does', async () => {
    const artifactRoot = path.join(dir, 'server-artifacts');
    server = await startFakeMlflowServer({ artifactRoot });
    const tracker = await openTracker(server.url, { cwd: dir });
    const run = await tracker.startRun({ experiment: 'local-root' });
    expect(run.artifactUri.startsWith(artifactRoot)).toBe(true);
    await run.logArtifact(path.join(dir, 'out', 'bundle'), 'model');
    await run.end();
    expect(await fs.readFile(path.join(run.artifactUri, 'model', 'manifest.json'), 'utf8')).toBe('{"format":"lockstep-bundle"}');
    await tracker.registerModel('local-root', { runId: run.id, aliases: ['champion'] });
    const resolved = await tracker.resolveModel('local-root@champion', { cacheDir: path.join(dir, 'cache') });
    expect([...(await fs.readFile(path.join(resolved.path, 'model.onnx')))]).toEqual([0, 1, 2, 250, 255]);
  });
});

describe('openTracker', () => {
  it('picks the backend from the URI, LOCKSTEP_TRACKING_URI or the default folder', async () => {
    expect(parseTrackingUri('http://mlflow:5000')).toEqual({ kind: 'mlflow', url: 'http://mlflow:5000' });
    expect(parseTrackingUri('local:runs', '/p')).toEqual({ kind: 'local', root: '/p/runs' });
    expect(parseTrackingUri('file:///srv/track', '/p')).toEqual({ kind: 'local', root: '/srv/track' });
    const saved = process.env.LOCKSTEP_TRACKING_URI;
    try {
      delete process.env.LOCKSTEP_TRACKING_URI;
      expect(parseTrackingUri(undefined, '/p')).toEqual({ kind: 'local', root: '/p/.lockstep/tracking' });
      process.env.LOCKSTEP_TRACKING_URI = 'https://dbc.example/';
      expect(parseTrackingUri(undefined, '/p')).toEqual({ kind: 'mlflow', url: 'https://dbc.example/' });
    } finally {
      if (saved === undefined) delete process.env.LOCKSTEP_TRACKING_URI;
      else process.env.LOCKSTEP_TRACKING_URI = saved;
    }
    expect(() => parseTrackingUri('s3://bucket/x')).toThrow(/unsupported tracking URI/);
    const local = await openTracker(undefined, { cwd: dir });
    expect(local.backend).toBeInstanceOf(LocalStore);
    expect(local.uri).toBe(path.join(dir, '.lockstep', 'tracking'));
    expect(new Tracker(new MlflowClient('http://user:pw@127.0.0.1:1')).uri).toBe('http://127.0.0.1:1');
  });
});
