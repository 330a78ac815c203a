/**
 * Sync: local runs and registered models copied to an MLflow server (our stateful fake), idempotently, and an
 * interrupted copy completed by the next sync without duplicating metrics.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MlflowClient } from './mlflow-client.ts';
import { SYNC_TAGS, syncToMlflow } from './sync.ts';
import { startFakeMlflowServer, type FakeMlflowServer } from './test-support/fake-mlflow-server.ts';
import { openTracker, Tracker } from './tracker.ts';
import type { TrackingBackend } from './types.ts';

let dir: string;
let server: FakeMlflowServer;
let local: Tracker;
let remote: MlflowClient;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lockstep-sync-'));
  server = await startFakeMlflowServer();
  remote = new MlflowClient(server.url);
  local = await openTracker(path.join(dir, 'store'), { cwd: dir });
  await fs.mkdir(path.join(dir, 'bundle'));
  await fs.writeFile(path.join(dir, 'bundle', 'manifest.json'), '{"v":1}');
  await fs.writeFile(path.join(dir, 'bundle', 'model.onnx'), new Uint8Array([9, 8, 7]));

  const parent = await local.startRun({ experiment: 'ads-ctr', name: 'sweep' });
  for (const lr of [0.01, 0.1]) {
    const child = await parent.startChild({ name: `lr=${lr}` });
    await child.logParams({ lr });
    for (let step = 0; step < 5; step++) await child.logMetric('loss', 1 / (step + 1 + lr), { step, timestamp: 1000 + step });
    await child.logInput({ name: 'train', digest: 'sha256:feed' });
    await child.logArtifact(path.join(dir, 'bundle'), 'model');
    await child.end();
    const v = await local.registerModel('ads-ctr', { runId: child.id, description: `lr ${lr}` });
    await local.setAlias('ads-ctr', lr === 0.1 ? 'champion' : 'challenger', v.version);
  }
  await parent.end();
  await local.startRun({ experiment: 'ads-ctr', name: 'still-running' });
});
afterEach(async () => {
  await server.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('syncToMlflow', () => {
  it('copies runs (params, metric histories, tags, inputs, artifacts, nesting) and the registry with aliases', async () => {
    const report = await syncToMlflow(local.backend, remote);
    expect(report).toMatchObject({ experimentsCreated: 1, runsCopied: 3, runsSkipped: 1, modelsCreated: 1, versionsCreated: 2, aliasesSet: 2 });
    expect(report.metricsCopied).toBe(10);
    expect(report.artifactsCopied).toBe(4);
    expect(report.warnings).toEqual([expect.stringContaining('still RUNNING')]);

    const remoteTracker = new Tracker(remote, { cwd: dir });
    const runs = await remoteTracker.searchRuns({ experiments: ['ads-ctr'] });
    expect(runs.map((r) => r.info.runName).sort()).toEqual(['lr=0.01', 'lr=0.1', 'sweep']);
    const parent = runs.find((r) => r.info.runName === 'sweep')!;
    const children = await remoteTracker.childRuns(parent.info.runId);
    expect(children).toHaveLength(2);
    for (const child of children) {
      const localId = child.data.tags[SYNC_TAGS.sourceRunId];
      const original = await local.getRun(localId);
      expect(child.info).toMatchObject({ status: 'FINISHED', startTime: original.info.startTime, endTime: original.info.endTime });
      expect(child.data.params).toEqual(original.data.params);
      expect(child.inputs).toEqual(original.inputs);
      expect(await remoteTracker.metricHistory(child.info.runId, 'loss')).toEqual(await local.metricHistory(localId, 'loss'));
      expect([...(await remote.downloadArtifact(child.info.runId, 'model/model.onnx'))]).toEqual([9, 8, 7]);
    }

    const champion = await remoteTracker.resolveModel('ads-ctr@champion', { cacheDir: path.join(dir, 'cache') });
    expect(champion.modelVersion.runId).toBe(report.runIdMap[(await local.getModelVersion('ads-ctr@champion')).runId]);
    expect(await fs.readFile(path.join(champion.path, 'manifest.json'), 'utf8')).toBe('{"v":1}');
    expect((await remoteTracker.getModelVersion('ads-ctr@challenger')).description).toBe('lr 0.01');

    // A second sync copies nothing.
    const again = await syncToMlflow(local.backend, remote);
    expect(again).toMatchObject({ experimentsCreated: 0, runsCopied: 0, runsCompleted: 0, versionsCreated: 0, aliasesSet: 0 });
    // After moving an alias locally, the next sync moves it remotely.
    await local.setAlias('ads-ctr', 'champion', 1);
    expect((await syncToMlflow(local.backend, remote)).aliasesSet).toBe(1);
    expect((await remoteTracker.getModelVersion('ads-ctr@champion')).description).toBe('lr 0.01');
  });

  it('completes an interrupted copy without duplicating metric values', async () => {
    let uploads = 0;
    // The network drops during the third artifact upload.
    const flaky = new Proxy(remote, {
      get(target, prop, receiver) {
        if (prop === 'uploadArtifact') {
          return async (...args: Parameters<TrackingBackend['uploadArtifact']>) => {
            if (++uploads === 3) throw new Error('connection reset');
            return target.uploadArtifact(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(syncToMlflow(local.backend, flaky, { models: false })).rejects.toThrow('connection reset');
    const report = await syncToMlflow(local.backend, remote);
    expect(report.runsCompleted).toBe(1);
    const remoteTracker = new Tracker(remote, { cwd: dir });
    const runs = await remoteTracker.searchRuns({ experiments: ['ads-ctr'] });
    expect(runs).toHaveLength(3);
    for (const r of runs) {
      expect(r.data.tags[SYNC_TAGS.complete]).toBe('true');
      if (r.info.runName !== 'sweep') expect(await remoteTracker.metricHistory(r.info.runId, 'loss')).toHaveLength(5);
    }
  });

  it('dry-run reports without writing', async () => {
    const report = await syncToMlflow(local.backend, remote, { dryRun: true });
    expect(report).toMatchObject({ experimentsCreated: 1, runsCopied: 3, versionsCreated: 2, aliasesSet: 2 });
    expect(await remote.getExperimentByName('ads-ctr')).toBeUndefined();
  });
});
