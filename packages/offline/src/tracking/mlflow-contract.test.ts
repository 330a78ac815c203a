/**
 * Contract tests: our MLflow client against the exchanges recorded with real MLflow 2.11 and 2.22 servers.
 * Each test makes, through the client's API, the calls the recording made; the replay server only answers a
 * request whose method, path, query and body match a recorded one, with the recorded answer. So the test checks
 * both directions: we send exactly the recorded shapes, and we parse the recorded answers into the right results.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MlflowError } from '@lockstep/sdk';
import { MlflowClient } from './mlflow-client.ts';
import { startReplayServer, type ReplayServer } from './test-support/replay-server.ts';
import { loadTranscript, type RecordedExchange } from './test-support/transcript.ts';

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The JSON body recorded for exchange `i`. */
function sent(exchanges: RecordedExchange[], i: number): Record<string, any> {
  const body = exchanges[i].request;
  if (body.kind !== 'json') throw new Error(`exchange ${i} has no JSON body`);
  return body.value as Record<string, any>;
}

async function replay(file: string): Promise<{ exchanges: RecordedExchange[]; client: MlflowClient }> {
  const exchanges = loadTranscript(file);
  server = await startReplayServer(exchanges);
  // No retries: a retried request would not match a recording, so the test also proves we do not retry errors.
  return { exchanges, client: new MlflowClient(server.url, { maxRetries: 0 }) };
}

async function mlflowError(p: Promise<unknown>): Promise<MlflowError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(MlflowError);
    return err as MlflowError;
  }
  throw new Error('expected an MlflowError');
}

/** Every request matched a recording, in recorded order, and only the listed recordings were left unasked. */
function expectContractHeld(unasked: number[] = []): void {
  expect(server!.mismatches).toEqual([]);
  expect(server!.consumed).toEqual([...server!.consumed].sort((a, b) => a - b));
  expect(server!.unconsumed().map((e) => e.index)).toEqual(unasked);
}

describe.each([
  ['mlflow-2.11-sqlite.txt', 400, 'INVALID_PARAMETER_VALUE'],
  ['mlflow-2.11-filestore.txt', 500, 'INTERNAL_ERROR'],
  ['mlflow-2.22-sqlite.txt', 400, 'INVALID_PARAMETER_VALUE'],
] as const)('MLflow contract: %s', (file, paramStatus, paramCode) => {
  it('runs, log-batch, metric history, search, errors, registry and aliases', async () => {
    const { exchanges: ex, client } = await replay(file);
    const experimentName: string = sent(ex, 0).name;
    const startTime: number = sent(ex, 3).start_time;

    const experimentId = await client.createExperiment(experimentName, { team: 'ts' });
    expect(experimentId).toMatch(/^\d+$/);
    const dup = await mlflowError(client.createExperiment(experimentName));
    expect([dup.status, dup.errorCode, dup.code]).toEqual([400, 'RESOURCE_ALREADY_EXISTS', 'REMOTE_ERROR']);
    expect(dup.serverMessage).toContain('already exists');

    const experiment = await client.getExperimentByName(experimentName);
    expect(experiment).toMatchObject({ experimentId, name: experimentName, lifecycleStage: 'active', tags: { team: 'ts' } });

    const created = await client.createRun({ experimentId, runName: 'r1', startTime, tags: { 'mlflow.user': 'probe' } });
    const runId = created.info.runId;
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    expect(created.info).toMatchObject({ experimentId, runName: 'r1', status: 'RUNNING', startTime });
    expect(created.data.tags).toEqual({ 'mlflow.user': 'probe', 'mlflow.runName': 'r1' });

    await client.logBatch(runId, {
      params: [
        { key: 'lr', value: '0.01' },
        { key: 'layers', value: '3' },
      ],
      metrics: [
        { key: 'loss', value: 0.5, timestamp: startTime, step: 0 },
        { key: 'loss', value: 0.25, timestamp: startTime + 1, step: 1 },
        { key: 'acc', value: 0.9, timestamp: startTime },
      ],
      tags: [{ key: 'phase', value: 'train' }],
    });
    await client.logMetric(runId, 'loss', 0.125, startTime + 2, 2);
    await client.logParam(runId, 'opt', 'adam');
    await client.setTag(runId, 'note', 'hello');
    const changed = await mlflowError(client.logBatch(runId, { params: [{ key: 'lr', value: '0.02' }] }));
    expect([changed.status, changed.errorCode]).toEqual([paramStatus, paramCode]);
    expect(changed.serverMessage).toContain('Changing param values is not allowed');

    const endTime: number = sent(ex, 9).end_time;
    const ended = await client.updateRun(runId, { status: 'FINISHED', endTime });
    expect(ended).toMatchObject({ runId, status: 'FINISHED', startTime, endTime });

    const run = await client.getRun(runId);
    expect(run.data.params).toEqual({ lr: '0.01', layers: '3', opt: 'adam' });
    expect(run.data.metrics.loss).toEqual({ key: 'loss', value: 0.125, timestamp: startTime + 2, step: 2 });
    expect(run.data.metrics.acc).toEqual({ key: 'acc', value: 0.9, timestamp: startTime, step: 0 });
    expect(run.data.tags).toMatchObject({ phase: 'train', note: 'hello', 'mlflow.runName': 'r1' });
    expect(run.inputs).toEqual([]);

    const history = await client.getMetricHistory(runId, 'loss');
    expect(history.map((m) => [m.step, m.value, m.timestamp - startTime])).toEqual([
      [0, 0.5, 0],
      [1, 0.25, 1],
      [2, 0.125, 2],
    ]);

    const found = await client.searchRuns({
      experimentIds: [experimentId],
      filter: "metrics.loss < 1 and params.lr = '0.01'",
      orderBy: ['attributes.start_time DESC'],
      maxResults: 10,
    });
    expect(found.runs.map((r) => r.info.runId)).toEqual([runId]);
    expect(found.nextPageToken).toBeUndefined();

    const missing = await mlflowError(client.getRun('doesnotexist'));
    expect([missing.status, missing.errorCode]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    expect(missing.message).toContain('doesnotexist');

    const modelName: string = sent(ex, 14).name;
    const model = await client.createRegisteredModel(modelName, { description: 'd', tags: { k: 'v' } });
    expect(model).toMatchObject({ name: modelName, description: 'd', tags: { k: 'v' }, aliases: {} });
    const version = await client.createModelVersion(modelName, { source: `runs:/${runId}/model`, runId, description: 'v1' });
    expect(version).toMatchObject({ name: modelName, version: '1', status: 'READY', runId, source: `runs:/${runId}/model` });

    await client.setModelAlias(modelName, 'champion', '1');
    const champion = await client.getModelVersionByAlias(modelName, 'champion');
    expect(champion).toMatchObject({ version: '1', aliases: ['champion'], runId });
    expect((await client.getRegisteredModel(modelName))?.aliases).toEqual({ champion: '1' });
    await client.deleteModelAlias(modelName, 'champion');
    const gone = await mlflowError(client.getModelVersionByAlias(modelName, 'champion'));
    expect([gone.status, gone.errorCode, gone.serverMessage]).toEqual([400, 'INVALID_PARAMETER_VALUE', 'Registered model alias champion not found.']);

    expectContractHeld();
  });
});

describe('MLflow contract: mlflow-2.22-artifacts.txt', () => {
  it('artifacts through the mlflow-artifacts proxy, log-batch limits, NaN/Infinity, inputs, versions and download URIs', async () => {
    const { exchanges: ex, client } = await replay('mlflow-2.22-artifacts.txt');
    const startTime: number = sent(ex, 2).start_time;
    const experimentId = await client.createExperiment(sent(ex, 0).name);
    expect((await client.getExperiment(experimentId)).artifactLocation).toBe(`mlflow-artifacts:/${experimentId}`);
    const art = (await client.createRun({ experimentId, runName: 'r-art', startTime })).info;
    expect(art.artifactUri).toBe(`mlflow-artifacts:/${experimentId}/${art.runId}/artifacts`);

    // Upload a bundle folder's two files through the proxy.
    const onnx = new Uint8Array(33).map((_, i) => (i * 7 + 3) & 0xff);
    const manifest = new TextEncoder().encode('{"format":"onnx","file":"model.onnx","opset":17}');
    await client.uploadArtifact(art.runId, 'model/model.onnx', onnx);
    await client.uploadArtifact(art.runId, 'model/manifest.json', manifest);
    const put = server!.received.find((r) => r.method === 'PUT')!;
    expect(put.headers['content-type']).toBe('application/octet-stream');

    // List through the proxy (paths relative to the listed URI) and through artifacts/list (relative to the run).
    expect(await client.listArtifactUri(`${art.artifactUri}/model`)).toEqual([
      { path: 'manifest.json', isDir: false, fileSize: 48 },
      { path: 'model.onnx', isDir: false, fileSize: 33 },
    ]);
    expect(await client.listArtifactUri(art.artifactUri)).toEqual([{ path: 'model', isDir: true }]);
    expect(await client.listArtifactUri(`${art.artifactUri}/nonexistent`)).toEqual([]);
    expect(await client.listArtifacts(art.runId, 'model')).toEqual([
      { path: 'model/manifest.json', isDir: false, fileSize: 48 },
      { path: 'model/model.onnx', isDir: false, fileSize: 33 },
    ]);
    expect(await client.listArtifacts(art.runId)).toEqual([{ path: 'model', isDir: true }]);

    expect(new TextDecoder().decode(await client.downloadArtifact(art.runId, 'model/manifest.json'))).toBe(
      '{"format":"onnx","file":"model.onnx","opset":17}',
    );
    expect([...(await client.downloadArtifact(art.runId, 'model/model.onnx'))]).toEqual([...onnx]);
    const missing = await mlflowError(client.downloadArtifact(art.runId, 'model/missing.bin'));
    // A 500 carrying an MLflow error body is deterministic: surfaced at once, not retried.
    expect([missing.status, missing.errorCode]).toEqual([500, 'INTERNAL_ERROR']);
    expect(missing.serverMessage).toContain('No such file or directory');

    // Log-batch limits: a client told to go past them gets the server's refusal as a typed error...
    const limits = (await client.createRun({ experimentId, runName: 'r-limits', startTime })).info.runId;
    const long = (await client.createRun({ experimentId, runName: 'r-long', startTime })).info.runId;
    const unlimited = new MlflowClient(server!.url, { maxRetries: 0, batchLimits: { maxMetrics: 5000, maxItems: 5000, maxParams: 500, maxTags: 500 } });
    const metric = (i: number) => ({ key: `m${i}`, value: 1.0, timestamp: startTime, step: 0 });
    const over = await mlflowError(unlimited.logBatch(limits, { metrics: Array.from({ length: 1001 }, (_, i) => metric(i)) }));
    expect(over.serverMessage).toBe(
      'A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.',
    );
    // ...and our default client sends 1000 metrics as exactly one accepted request.
    const before = client.requestCount;
    await client.logBatch(limits, { metrics: Array.from({ length: 1000 }, (_, i) => metric(i)) });
    expect(client.requestCount - before).toBe(1);
    const kv = (p: string) => Array.from({ length: 101 }, (_, i) => ({ key: `${p}${i}`, value: 'v' }));
    expect((await mlflowError(unlimited.logBatch(limits, { params: kv('p') }))).serverMessage).toContain('at most 100 params. Got 101 params');
    expect((await mlflowError(unlimited.logBatch(limits, { tags: kv('t') }))).serverMessage).toContain('at most 100 tags. Got 101 tags');

    // Over-long values: this server truncates; an over-long key is refused.
    await client.logBatch(long, { params: [{ key: 'long', value: 'a'.repeat(6001) }] });
    const key = await mlflowError(client.logBatch(long, { params: [{ key: 'k'.repeat(251), value: 'v' }] }));
    expect(key.serverMessage).toBe("'Param key' exceeds the maximum length of 250 characters");
    await client.logBatch(long, { tags: [{ key: 'longtag', value: 'b'.repeat(8001) }] });
    const truncated = await client.getRun(long);
    expect(truncated.data.params.long).toBe('a'.repeat(6000));
    expect(truncated.data.tags.longtag.length).toBeLessThanOrEqual(8000);

    // NaN and ±Infinity go as MLflow's strings; the server answers NaN as "NaN" and ±Infinity as ±max double.
    await client.logBatch(art.runId, {
      metrics: [
        { key: 'nanm', value: Number.NaN, timestamp: startTime, step: 0 },
        { key: 'infm', value: Infinity, timestamp: startTime, step: 0 },
        { key: 'ninfm', value: -Infinity, timestamp: startTime, step: 0 },
      ],
    });
    await client.logMetric(art.runId, 'nanm', Number.NaN, startTime + 1, 1);
    const nan = await client.getMetricHistory(art.runId, 'nanm');
    expect(nan.map((m) => m.value)).toEqual([Number.NaN, Number.NaN]);
    expect((await client.getMetricHistory(art.runId, 'infm'))[0].value).toBe(1.7976931348623157e308);
    expect((await client.getMetricHistory(art.runId, 'ninfm'))[0].value).toBe(-1.7976931348623157e308);
    expect((await client.getMetricHistory(art.runId, 'barenan'))[0]).toEqual({ key: 'barenan', value: 0, timestamp: 0, step: 0 });

    // Dataset lineage (log-inputs), full and minimal.
    await client.logInputs(art.runId, [
      {
        name: 'iris',
        digest: 'd41d8cd9',
        sourceType: 'local',
        source: '{"uri": "file:///data/iris.csv"}',
        schema: '{"mlflow_colspec": [{"type": "double", "name": "x"}]}',
        tags: { 'mlflow.data.context': 'training' },
      },
    ]);
    await client.logInputs(art.runId, [{ name: 'iris', digest: '', sourceType: '', source: '', tags: {} }]);

    // Registry: versions from an mlflow-artifacts source and a runs:/ source, their download URIs, errors.
    const modelName: string = sent(ex, 36).name;
    await client.createRegisteredModel(modelName);
    const source = `${art.artifactUri}/model`;
    const v1 = await client.createModelVersion(modelName, { source, runId: art.runId });
    expect(v1).toMatchObject({ version: '1', source, status: 'READY', description: '' });
    expect(await client.getModelVersion(modelName, '1')).toEqual(v1);
    expect((await client.searchModelVersions(modelName)).map((v) => v.version)).toEqual(['1']);
    expect(await client.getModelVersionDownloadUri(modelName, '1')).toBe(source);
    const v2 = await client.createModelVersion(modelName, { source: `runs:/${art.runId}/model`, runId: art.runId });
    expect(v2.version).toBe('2');
    expect(await client.getModelVersionDownloadUri(modelName, '2')).toBe(`runs:/${art.runId}/model`);
    const bad = await mlflowError(client.createModelVersion(modelName, { source: `${art.artifactUri}/../../other/model`, runId: art.runId }));
    expect([bad.status, bad.errorCode]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect(bad.serverMessage).toContain('Invalid model version source');
    const nine = await mlflowError(client.getModelVersionDownloadUri(modelName, '9'));
    expect([nine.status, nine.errorCode, nine.serverMessage]).toEqual([
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Model Version (name=${modelName}, version=9) not found`,
    ]);

    const full = await client.getRun(art.runId);
    expect(full.data.metrics.nanm.value).toBeNaN();
    expect(full.data.metrics.strnum.value).toBe(0.5);
    expect(full.inputs).toEqual([
      {
        name: 'iris',
        digest: 'd41d8cd9',
        sourceType: 'local',
        source: '{"uri": "file:///data/iris.csv"}',
        schema: '{"mlflow_colspec": [{"type": "double", "name": "x"}]}',
        tags: { 'mlflow.data.context': 'training' },
      },
      { name: 'iris', digest: '', sourceType: '', source: '', tags: {} },
    ]);

    // Left unasked: probes of server behaviour our client never sends (the UI's /get-artifact, a bare NaN token,
    // string metric values, log-inputs without run_id, the stage-era get-latest-versions).
    expectContractHeld([13, 26, 27, 28, 35, 39, 40]);
  });
});

describe('MLflow contract: mlflow-2.22-strict-limits.txt', () => {
  it('a server with MLFLOW_TRUNCATE_LONG_VALUES=false refuses over-long values with typed errors', async () => {
    const { exchanges: ex, client } = await replay('mlflow-2.22-strict-limits.txt');
    const experimentId = await client.createExperiment(sent(ex, 0).name);
    const { runId } = (await client.createRun({ experimentId, runName: 'r-notrunc', startTime: sent(ex, 1).start_time })).info;
    const long = 'a'.repeat(6001);
    const tag = 'b'.repeat(8001);
    const errors = [
      await mlflowError(client.logBatch(runId, { params: [{ key: 'long', value: long }] })),
      await mlflowError(client.logParam(runId, 'long1', long)),
      await mlflowError(client.logBatch(runId, { tags: [{ key: 'longtag', value: tag }] })),
      await mlflowError(client.setTag(runId, 'longtag1', tag)),
    ];
    expect(errors.map((e) => [e.status, e.errorCode])).toEqual(Array(4).fill([400, 'INVALID_PARAMETER_VALUE']));
    expect(errors.map((e) => e.serverMessage)).toEqual([
      "'Param value' exceeds the maximum length of 6000 characters",
      "'Param value' exceeds the maximum length of 6000 characters",
      "'tags[0].value' exceeds the maximum length of 8000 characters",
      "'value' exceeds the maximum length of 8000 characters",
    ]);
    const run = await client.getRun(runId);
    expect(run.data.params).toEqual({});
    expect(run.info.status).toBe('RUNNING');
    expectContractHeld();
  });
});
