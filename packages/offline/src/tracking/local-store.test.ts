import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrackingError } from '@lockstep/sdk';
import { LocalStore } from './local-store.ts';

let root: string;
let store: LocalStore;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'lockstep-store-'));
  store = await LocalStore.open(root);
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function errorOf(p: Promise<unknown>): Promise<TrackingError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TrackingError);
    return err as TrackingError;
  }
  throw new Error('expected a TrackingError');
}

describe('LocalStore experiments', () => {
  it('has MLflow’s Default experiment 0 and numbers new ones sequentially', async () => {
    expect((await store.getExperiment('0')).name).toBe('Default');
    expect(await store.createExperiment('ads-ctr', { team: 'ads' })).toBe('1');
    expect(await store.createExperiment('other')).toBe('2');
    const e = await store.getExperimentByName('ads-ctr');
    expect(e).toMatchObject({ experimentId: '1', name: 'ads-ctr', lifecycleStage: 'active', tags: { team: 'ads' } });
    expect(e!.artifactLocation).toMatch(/^file:\/\//);
    expect((await store.searchExperiments()).map((x) => x.name)).toEqual(['Default', 'ads-ctr', 'other']);
    expect(await store.getExperimentByName('nope')).toBeUndefined();
  });

  it('refuses a duplicate name and an unknown id with MLflow’s error codes', async () => {
    await store.createExperiment('dup');
    expect((await errorOf(store.createExperiment('dup'))).errorCode).toBe('RESOURCE_ALREADY_EXISTS');
    expect((await errorOf(store.getExperiment('99'))).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('reopens an existing store and refuses a newer format', async () => {
    await store.createExperiment('kept');
    const again = await LocalStore.open(root);
    expect((await again.getExperimentByName('kept'))?.experimentId).toBe('1');
    await fs.writeFile(path.join(root, 'store.json'), JSON.stringify({ format: 'lockstep-tracking', version: 99 }));
    await expect(LocalStore.open(root)).rejects.toThrow(/v99/);
  });
});

describe('LocalStore runs', () => {
  it('logs params, metrics with steps and timestamps, tags, and reads them back like MLflow', async () => {
    const run = await store.createRun({ experimentId: '0', runName: 'r1', startTime: 1000, tags: { 'mlflow.user': 'probe' } });
    const id = run.info.runId;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(run.info).toMatchObject({ runName: 'r1', status: 'RUNNING', startTime: 1000, experimentId: '0', userId: 'probe' });
    expect(run.data.tags).toEqual({ 'mlflow.user': 'probe', 'mlflow.runName': 'r1' });

    await store.logBatch(id, {
      params: [
        { key: 'lr', value: '0.01' },
        { key: 'layers', value: '3' },
      ],
      metrics: [
        { key: 'loss', value: 0.5, timestamp: 1001, step: 0 },
        { key: 'loss', value: 0.25, timestamp: 1002, step: 1 },
        { key: 'acc', value: 0.9, timestamp: 1001 },
        { key: 'train/loss', value: 1, timestamp: 1001, step: 0 },
      ],
      tags: [{ key: 'phase', value: 'train' }],
    });
    await store.logBatch(id, { metrics: [{ key: 'loss', value: 0.125, timestamp: 1003, step: 2 }] });
    // Same value again is accepted (idempotent), a different one is refused like MLflow does.
    await store.logBatch(id, { params: [{ key: 'lr', value: '0.01' }] });
    const err = await errorOf(store.logBatch(id, { params: [{ key: 'fresh', value: '1' }, { key: 'lr', value: '0.02' }] }));
    expect(err.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(err.message).toContain("Changing param values is not allowed. Param with key='lr' was already logged with value='0.01'");

    const info = await store.updateRun(id, { status: 'FINISHED', endTime: 5000 });
    expect(info).toMatchObject({ status: 'FINISHED', endTime: 5000 });
    const got = await store.getRun(id);
    expect(got.data.params).toEqual({ lr: '0.01', layers: '3' });
    expect(got.data.metrics.loss).toEqual({ key: 'loss', value: 0.125, timestamp: 1003, step: 2 });
    expect(got.data.metrics.acc).toEqual({ key: 'acc', value: 0.9, timestamp: 1001, step: 0 });
    expect(got.data.metrics['train/loss'].value).toBe(1);
    expect(got.data.tags.phase).toBe('train');
    expect((await store.getMetricHistory(id, 'loss')).map((m) => [m.step, m.value])).toEqual([
      [0, 0.5],
      [1, 0.25],
      [2, 0.125],
    ]);
    expect((await errorOf(store.getRun('doesnotexist'))).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('keeps NaN and ±Infinity, and validates keys and value lengths with MLflow’s limits', async () => {
    const { info } = await store.createRun({ experimentId: '0' });
    await store.logBatch(info.runId, {
      metrics: [
        { key: 'nan', value: Number.NaN, timestamp: 1, step: 0 },
        { key: 'inf', value: Infinity, timestamp: 1, step: 0 },
        { key: 'ninf', value: -Infinity, timestamp: 1, step: 0 },
      ],
    });
    const { metrics } = (await store.getRun(info.runId)).data;
    expect(metrics.nan.value).toBeNaN();
    expect(metrics.inf.value).toBe(Infinity);
    expect(metrics.ninf.value).toBe(-Infinity);
    expect((await errorOf(store.logBatch(info.runId, { params: [{ key: 'k'.repeat(251), value: 'v' }] }))).message).toContain(
      "'Param key' exceeds the maximum length of 250 characters",
    );
    expect((await errorOf(store.logBatch(info.runId, { params: [{ key: 'long', value: 'a'.repeat(6001) }] }))).message).toContain(
      "'Param value' exceeds the maximum length of 6000 characters",
    );
    expect((await errorOf(store.logBatch(info.runId, { tags: [{ key: 't', value: 'b'.repeat(8001) }] }))).message).toContain(
      'exceeds the maximum length of 8000 characters',
    );
    expect((await errorOf(store.logBatch(info.runId, { params: [{ key: '../escape', value: 'v' }] }))).errorCode).toBe(
      'INVALID_PARAMETER_VALUE',
    );
    // A refused batch wrote nothing, not even its valid items.
    await errorOf(store.logBatch(info.runId, { params: [{ key: 'ok', value: '1' }, { key: 'bad key!', value: '2' }] }));
    expect((await store.getRun(info.runId)).data.params).toEqual({});
  });

  it('skips a torn metric line and recovers a line glued to it', async () => {
    const { info } = await store.createRun({ experimentId: '0' });
    await store.logBatch(info.runId, { metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }] });
    const file = path.join(root, 'experiments', '0', 'runs', info.runId, 'metrics', 'm.jsonl');
    // A writer killed mid-line, then another appended a complete line.
    await fs.appendFile(file, '{"value":2,"timesta');
    await store.logBatch(info.runId, { metrics: [{ key: 'm', value: 3, timestamp: 3, step: 2 }] });
    await fs.appendFile(file, '{"value":4,"ti');
    expect((await store.getMetricHistory(info.runId, 'm')).map((m) => m.value)).toEqual([1, 3]);
    expect((await store.getRun(info.runId)).data.metrics.m.value).toBe(3);
  });

  it('names a damaged meta.json in a TrackingError (no bare SyntaxError) when reading or searching its run', async () => {
    const { info } = await store.createRun({ experimentId: '0' });
    const file = path.join(root, 'experiments', '0', 'runs', info.runId, 'meta.json');
    await fs.writeFile(file, '{broken');
    for (const read of [store.getRun(info.runId), store.searchRuns({ experimentIds: ['0'] })]) {
      const err = await errorOf(read);
      expect(err).toMatchObject({ code: 'TRACKING_ERROR', errorCode: 'CORRUPT_FILE' });
      expect(err.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON \\(.*\\): repair or remove it$`));
    }
  });

  it('records dataset inputs once per name, digest and context', async () => {
    const { info } = await store.createRun({ experimentId: '0' });
    const input = { name: 'train', digest: 'abc', sourceType: 'local', source: '{"uri": "file:///d"}', tags: { 'mlflow.data.context': 'training' } };
    await store.logInputs(info.runId, [input]);
    await store.logInputs(info.runId, [input]);
    expect((await store.getRun(info.runId)).inputs).toEqual([input]);
  });

  it('searches with MLflow filters, orders and pages', async () => {
    const exp = await store.createExperiment('search');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { info } = await store.createRun({ experimentId: exp, runName: `r${i}`, startTime: 1000 + i, tags: { team: i % 2 ? 'odd' : 'even' } });
      await store.logBatch(info.runId, {
        params: [{ key: 'lr', value: String(i / 100) }],
        metrics: [{ key: 'auc', value: 0.5 + i / 10, timestamp: 1, step: 0 }],
      });
      if (i === 4) await store.updateRun(info.runId, { status: 'FINISHED' });
      ids.push(info.runId);
    }
    const names = async (filter?: string, orderBy?: string[]) =>
      (await store.searchRuns({ experimentIds: [exp], ...(filter ? { filter } : {}), ...(orderBy ? { orderBy } : {}) })).runs.map((r) => r.info.runName);
    expect(await names()).toEqual(['r4', 'r3', 'r2', 'r1', 'r0']);
    expect(await names('metrics.auc > 0.65')).toEqual(['r4', 'r3', 'r2']);
    expect(await names("metrics.auc >= 0.6 and params.lr = '0.01'")).toEqual(['r1']);
    expect(await names("tags.team = 'odd'", ['metrics.auc ASC'])).toEqual(['r1', 'r3']);
    expect(await names("attributes.status = 'FINISHED'")).toEqual(['r4']);
    expect(await names("attributes.run_name LIKE 'r%' AND run_name != 'r0'", ['attributes.start_time ASC'])).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(await names("tags.`team` ILIKE 'EV%'")).toEqual(['r4', 'r2', 'r0']);
    expect(await names(`attributes.run_id IN ('${ids[0]}', '${ids[1]}')`)).toEqual(['r1', 'r0']);
    expect((await errorOf(store.searchRuns({ experimentIds: [exp], filter: 'metrics.auc > 1 or metrics.auc < 0' }))).errorCode).toBe(
      'INVALID_PARAMETER_VALUE',
    );
    const first = await store.searchRuns({ experimentIds: [exp], maxResults: 2 });
    const second = await store.searchRuns({ experimentIds: [exp], maxResults: 2, pageToken: first.nextPageToken! });
    const third = await store.searchRuns({ experimentIds: [exp], maxResults: 2, pageToken: second.nextPageToken! });
    expect([...first.runs, ...second.runs, ...third.runs].map((r) => r.info.runName)).toEqual(['r4', 'r3', 'r2', 'r1', 'r0']);
    expect(third.nextPageToken).toBeUndefined();
  });

  it('stores artifacts as files, lists and downloads them, and refuses paths that escape the run', async () => {
    const { info } = await store.createRun({ experimentId: '0' });
    await store.uploadArtifact(info.runId, 'model/model.onnx', new Uint8Array([1, 2, 3]));
    await store.uploadArtifact(info.runId, 'model/manifest.json', new TextEncoder().encode('{"format":"onnx"}'));
    await store.uploadArtifact(info.runId, 'report.html', new TextEncoder().encode('<h1>r</h1>'));
    expect(await store.listArtifacts(info.runId)).toEqual([
      { path: 'model', isDir: true },
      { path: 'report.html', isDir: false, fileSize: 10 },
    ]);
    expect(await store.listArtifacts(info.runId, 'model')).toEqual([
      { path: 'model/manifest.json', isDir: false, fileSize: 17 },
      { path: 'model/model.onnx', isDir: false, fileSize: 3 },
    ]);
    expect([...(await store.downloadArtifact(info.runId, 'model/model.onnx'))]).toEqual([1, 2, 3]);
    expect((await errorOf(store.downloadArtifact(info.runId, 'model/missing.bin'))).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await errorOf(store.uploadArtifact(info.runId, '../../x', new Uint8Array()))).errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect((await errorOf(store.uploadArtifact(info.runId, '/abs', new Uint8Array()))).errorCode).toBe('INVALID_PARAMETER_VALUE');
  });
});

describe('LocalStore model registry', () => {
  it('numbers versions from 1, moves aliases between versions, and answers MLflow’s errors', async () => {
    const { info } = await store.createRun({ experimentId: '0' });
    await store.createRegisteredModel('ads-ctr', { description: 'd', tags: { k: 'v' } });
    expect((await errorOf(store.createRegisteredModel('ads-ctr'))).errorCode).toBe('RESOURCE_ALREADY_EXISTS');
    const v1 = await store.createModelVersion('ads-ctr', { source: `runs:/${info.runId}/model`, runId: info.runId, description: 'v1' });
    const v2 = await store.createModelVersion('ads-ctr', { source: `runs:/${info.runId}/model`, runId: info.runId });
    expect([v1.version, v2.version]).toEqual(['1', '2']);
    expect(v1).toMatchObject({ name: 'ads-ctr', status: 'READY', runId: info.runId, description: 'v1', aliases: [] });

    await store.setModelAlias('ads-ctr', 'champion', '1');
    await store.setModelAlias('ads-ctr', 'challenger', '2');
    expect((await store.getModelVersionByAlias('ads-ctr', 'champion')).aliases).toEqual(['champion']);
    await store.setModelAlias('ads-ctr', 'champion', '2');
    expect((await store.getModelVersionByAlias('ads-ctr', 'champion')).version).toBe('2');
    expect((await store.getModelVersion('ads-ctr', '2')).aliases).toEqual(['challenger', 'champion']);
    expect((await store.getRegisteredModel('ads-ctr'))?.aliases).toEqual({ champion: '2', challenger: '2' });
    expect((await store.searchModelVersions('ads-ctr')).map((v) => v.version)).toEqual(['2', '1']);

    await store.deleteModelAlias('ads-ctr', 'champion');
    const missing = await errorOf(store.getModelVersionByAlias('ads-ctr', 'champion'));
    expect([missing.errorCode, missing.message]).toEqual(['INVALID_PARAMETER_VALUE', 'Registered model alias champion not found.']);
    expect((await errorOf(store.getModelVersion('ads-ctr', '9'))).message).toBe('Model Version (name=ads-ctr, version=9) not found');
    expect((await errorOf(store.createModelVersion('nope', { source: 'x' }))).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await errorOf(store.createModelVersion('ads-ctr', { source: `runs:/${info.runId}/../../other` }))).message).toContain(
      'Invalid model version source',
    );
    expect((await errorOf(store.setModelAlias('ads-ctr', 'v3', '1'))).errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(await store.getRegisteredModel('nope')).toBeUndefined();
    expect(await store.getModelVersionDownloadUri('ads-ctr', '1')).toBe(`runs:/${info.runId}/model`);
  });
});
