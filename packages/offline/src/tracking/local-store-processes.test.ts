/**
 * The local store against real processes: a writer killed with SIGKILL mid-way, and two writers at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStore } from './local-store.ts';

const WRITER = path.join(import.meta.dirname, 'test-support', 'store-writer.ts');
const TSX = createRequire(import.meta.url).resolve('tsx');

interface Writer {
  child: ChildProcess;
  /** Acknowledged iterations: i → model version registered in it. */
  acks: Map<number, string>;
  exited: Promise<number | null>;
}

function startWriter(root: string, runId: string, name: string, iterations: number): Writer {
  const child = spawn(process.execPath, ['--import', TSX, WRITER, root, runId, name, String(iterations)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks = new Map<number, string>();
  let buffer = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      const m = /^ack (\d+) (\d+)$/.exec(line);
      if (m) acks.set(Number(m[1]), m[2]);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`writer ${name} failed:\n${stderr}`);
      resolve(code);
    }),
  );
  return { child, acks, exited };
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

let root: string;
let runId: string;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'lockstep-procs-'));
  const store = await LocalStore.open(root);
  await store.createRegisteredModel('shared-model');
  runId = (await store.createRun({ experimentId: '0', runName: 'target' })).info.runId;
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Everything `writer` acknowledged is in the store, intact. */
async function expectAcknowledged(store: LocalStore, name: string, acks: Map<number, string>): Promise<void> {
  const run = await store.getRun(runId);
  const own = await store.getMetricHistory(runId, `${name}.m`);
  const ownValues = new Set(own.map((m) => m.value));
  for (const [i, version] of acks) {
    expect(run.data.params[`${name}.p${i}`]).toBe(String(i));
    expect(ownValues.has(i)).toBe(true);
    const v = await store.getModelVersion('shared-model', version);
    expect(v.description).toBe(`${name}:${i}`);
  }
  const last = Math.max(...acks.keys());
  expect(Number(run.data.tags[`${name}.last`])).toBeGreaterThanOrEqual(last);
  const state = new TextDecoder().decode(await store.downloadArtifact(runId, `${name}/state.txt`));
  const [counter, payload] = state.split('\n');
  expect(Number(counter)).toBeGreaterThanOrEqual(last);
  expect(payload.length).toBe(64 * 1024);
}

describe('LocalStore under real processes', () => {
  it('survives a writer killed with SIGKILL mid-write: reads cleanly, nothing acknowledged is lost', async () => {
    const w = startWriter(root, runId, 'killed', 0);
    await waitFor(() => w.acks.size >= 25);
    // Kill at an arbitrary point inside the next iteration's writes.
    await new Promise((r) => setTimeout(r, 7));
    w.child.kill('SIGKILL');
    expect(await w.exited).toBeNull();
    const acks = new Map(w.acks);

    const store = await LocalStore.open(root);
    await expectAcknowledged(store, 'killed', acks);
    // Every read path still works on whatever the kill left behind.
    expect((await store.searchRuns({ experimentIds: ['0'] })).runs.map((r) => r.info.runId)).toContain(runId);
    const versions = await store.searchModelVersions('shared-model');
    expect(versions.length).toBeGreaterThanOrEqual(acks.size);
    expect(new Set(versions.map((v) => v.version)).size).toBe(versions.length);
    // The lock a killed writer may hold is taken over, not waited on forever.
    await store.createExperiment('after-crash');
    const { info } = await store.createRun({ experimentId: '0' });
    await store.logBatch(info.runId, { metrics: [{ key: 'ok', value: 1, timestamp: 1, step: 0 }] });
    expect((await store.getRun(info.runId)).data.metrics.ok.value).toBe(1);
  });

  it('two processes writing the same run, experiment names and registry lose nothing', async () => {
    const n = 40;
    const a = startWriter(root, runId, 'a', n);
    const b = startWriter(root, runId, 'b', n);
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    expect(a.acks.size).toBe(n);
    expect(b.acks.size).toBe(n);

    const store = await LocalStore.open(root);
    await expectAcknowledged(store, 'a', a.acks);
    await expectAcknowledged(store, 'b', b.acks);
    // Both appended to one metric file: every line is there, none torn or interleaved.
    const shared = await store.getMetricHistory(runId, 'shared');
    expect(shared).toHaveLength(2 * n);
    // Version numbers were allocated exclusively: 1..2n, each once.
    const versions = (await store.searchModelVersions('shared-model')).map((v) => Number(v.version)).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 2 * n }, (_, i) => i + 1));
    expect(new Set([...a.acks.values(), ...b.acks.values()]).size).toBe(2 * n);
    // Racing creations of the same experiment names produced each name once.
    const names = (await store.searchExperiments()).map((e) => e.name).filter((x) => x.startsWith('exp-'));
    expect(names.sort()).toEqual(['exp-0', 'exp-1', 'exp-2', 'exp-3', 'exp-4']);
    const model = await store.getRegisteredModel('shared-model');
    expect(model?.aliases.a).toBe(a.acks.get(n - 1));
    expect(model?.aliases.b).toBe(b.acks.get(n - 1));
  });
});
