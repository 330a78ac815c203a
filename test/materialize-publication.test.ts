/**
 * Atomic publication, tested with a real kill: a materialization in a child process is SIGKILLed while writing
 * a new snapshot; readers must still see the complete old snapshot. A next run then publishes a new snapshot
 * completely while a reader polls: every read is all-old or all-new, never a mix. RESP and HTTP (gateway) legs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pointerField, type OnlineStoreCore } from '@lockstep/sdk';
import { ValkeyStore } from '@lockstep/sdk/node';
import { materialize, memorySource } from '@lockstep/offline';
import { KILL_TEST_VIEW, killTestRows } from './fixtures/materialize-child.ts';
import { openStoreLeg, useStoreServers } from './support/online-stores.ts';

const CHILD = fileURLToPath(new URL('./fixtures/materialize-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTITIES = 80_000;
const LOCK_TTL_MS = 1000;
const field = pointerField(KILL_TEST_VIEW);

const { haveRedis, servers } = useStoreServers();

/** Spawn a materialization child; `lines` collects its parsed stdout lines as they come. */
function spawnChild(url: string, token: string, project: string, value: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, token, project, String(ENTITIES), String(value), String(LOCK_TTL_MS)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<{ rows?: number; done?: boolean; version?: number }> = [];
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const parts = out.split('\n');
    out = parts.pop()!;
    for (const line of parts) if (line.trim()) lines.push(JSON.parse(line));
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr: err })),
  );
  return { child, lines, exited };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Every `step`-th entity: a sample spread over the whole snapshot. */
const sample = (step: number) => Array.from({ length: Math.ceil(ENTITIES / step) }, (_, i) => [i * step]);

async function readValues(store: OnlineStoreCore, project: string, entities: number[][]): Promise<Array<number | undefined>> {
  const [rows] = await store.readRows([{ view: KILL_TEST_VIEW, entities }], { project });
  return rows.map((r) => r?.values[0] ?? undefined);
}

describe.each(haveRedis ? (['resp', 'http'] as const) : [])('atomic publication (%s)', (leg) => {
  it('a run killed midway leaves the old snapshot whole; the next run replaces it all at once', async () => {
    const project = `kill_${leg}_${process.pid}`;
    const url = leg === 'resp' ? servers().redis.url : servers().gateway.url;
    const token = leg === 'resp' ? '-' : servers().token;
    const reader = openStoreLeg(leg, servers);
    const admin = new ValkeyStore({ url: servers().redis.url });
    try {
      // The old snapshot: every entity has value 1.
      const now = Date.now();
      const old = await materialize({
        store: admin,
        project,
        views: [KILL_TEST_VIEW],
        source: memorySource({ kill_test: killTestRows(ENTITIES, 1, now) }),
        asOfMs: now,
      });
      const oldVersion = old.views[0].version;
      expect(await readValues(reader, project, sample(1000))).toEqual(sample(1000).map(() => 1));

      // A run writing value 2, killed with SIGKILL once a fifth of its rows are in.
      const killed = spawnChild(url, token, project, 2);
      await waitFor(() => killed.lines.some((l) => (l.rows ?? 0) >= ENTITIES / 5), 60_000, 'the child to write a fifth of its rows');
      killed.child.kill('SIGKILL');
      const { signal } = await killed.exited;
      expect(signal).toBe('SIGKILL');
      expect(killed.lines.some((l) => l.done)).toBe(false);

      // It wrote part of a new version, which nobody reads: the pointer still names the old one.
      const versions = (await admin.scanVersions(project, [KILL_TEST_VIEW])).get(field)!;
      const partial = [...versions.entries()].find(([v]) => v !== oldVersion);
      expect(partial).toBeDefined();
      expect(partial![1]).toBeGreaterThan(0);
      expect(partial![1]).toBeLessThan(ENTITIES);
      expect((await admin.publishedVersions(project))[field]).toBe(oldVersion);
      const all = Array.from({ length: ENTITIES }, (_, i) => [i]);
      const everyValue = await readValues(reader, project, all);
      expect(everyValue.every((v) => v === 1)).toBe(true);

      // The next run (value 3) waits for the dead run's lock to expire, then publishes. A reader polls all along.
      const next = spawnChild(url, token, project, 3);
      const seen = new Set<string>();
      let mixed: string | undefined;
      let polling = true;
      const poller = (async () => {
        const probe = sample(750);
        while (polling) {
          const values = await readValues(reader, project, probe);
          const distinct = [...new Set(values)];
          if (distinct.length !== 1) mixed ??= JSON.stringify(distinct);
          seen.add(String(distinct[0]));
          await new Promise((r) => setTimeout(r, 2)); // leave the child (on a 2-core machine) room to run
        }
      })();
      const finished = await next.exited;
      polling = false;
      await poller;
      expect(finished.code, finished.stderr).toBe(0);
      expect(mixed).toBeUndefined();
      expect([...seen].sort()).toEqual(['1', '3']); // it saw the old snapshot, then the new one, nothing else

      const after = await readValues(reader, project, all);
      expect(after.every((v) => v === 3)).toBe(true);
      // Clean-up removed the killed run's partial version and kept the previous one for readers in flight.
      const newVersion = next.lines.find((l) => l.done)!.version!;
      const left = (await admin.scanVersions(project, [KILL_TEST_VIEW])).get(field)!;
      expect(new Map(left)).toEqual(new Map([[oldVersion, ENTITIES], [newVersion, ENTITIES]]));
    } finally {
      await reader.close();
      await admin.close();
    }
  }, 120_000);
});
