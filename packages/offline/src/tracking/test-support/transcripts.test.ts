/**
 * The contract fixtures themselves: the repo's copies match shared/mlflow, the parser expands the recordings'
 * abbreviations, and the replay server is strict (a request that differs from the recording is refused).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startReplayServer, type ReplayServer } from './replay-server.ts';
import { loadTranscript, parseTranscript, SHARED_TRANSCRIPTS_DIR, TRANSCRIPTS_DIR } from './transcript.ts';

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('MLflow transcripts', () => {
  // shared/ sits beside the project on our machines and in CI, but not on a user's fresh clone: skip without it.
  it.skipIf(!existsSync(SHARED_TRANSCRIPTS_DIR))('the repo copies are identical to shared/mlflow', () => {
    const shared = readdirSync(SHARED_TRANSCRIPTS_DIR).filter((f) => f.endsWith('.txt'));
    expect(shared.length).toBeGreaterThanOrEqual(5);
    for (const f of shared) {
      expect(readFileSync(path.join(TRANSCRIPTS_DIR, f), 'utf8'), f).toBe(readFileSync(path.join(SHARED_TRANSCRIPTS_DIR, f), 'utf8'));
    }
  });

  it('parses every recording, with statuses defaulting to 200 and abbreviations expanded', () => {
    const counts = Object.fromEntries(
      readdirSync(TRANSCRIPTS_DIR)
        .filter((f) => f.endsWith('.txt'))
        .map((f) => [f, loadTranscript(f).length]),
    );
    expect(counts).toEqual({
      'mlflow-2.11-filestore.txt': 21,
      'mlflow-2.11-sqlite.txt': 21,
      'mlflow-2.22-artifacts.txt': 48,
      'mlflow-2.22-sqlite.txt': 21,
      'mlflow-2.22-strict-limits.txt': 7,
    });
    const art = loadTranscript('mlflow-2.22-artifacts.txt');
    const metrics = (art[16].request as { value: { metrics: Array<{ key: string }> } }).value.metrics;
    expect([metrics.length, metrics[0].key, metrics[1000].key]).toEqual([1001, 'm0', 'm1000']);
    expect((art[20].request as { value: { params: Array<{ value: string }> } }).value.params[0].value).toBe('a'.repeat(6001));
    expect(art[3].request).toEqual({ kind: 'binary', size: 33, sha256Prefix: '6b02c6f0bd94af74', contentType: 'application/octet-stream' });
    expect(art[11].response).toMatchObject({ kind: 'binary', size: 33 });
    expect(art[26].request.kind).toBe('raw'); // a bare NaN token is not JSON
    expect(art[7].query).toEqual({ path: `1/${'6bda0a2aa5d147faa44108a560d5cea3'}/artifacts/nonexistent` });
    const sqlite = loadTranscript('mlflow-2.11-sqlite.txt');
    expect([sqlite[0].status, sqlite[1].status, sqlite[13].status]).toEqual([200, 400, 404]);
  });

  it('the replay server refuses a request that differs from the recording and answers repeats in order', async () => {
    const exchanges = parseTranscript(
      [
        '>>> POST /api/x {"a":1,"b":[1,2]}',
        '{"ok": 1}  [HTTP 200]',
        '>>> GET /api/y?k=v ',
        '{"n": 1}  [HTTP 200]',
        '>>> GET /api/y?k=v ',
        '{"error_code": "E", "message": "m"}  [HTTP 400]',
      ].join('\n'),
    );
    server = await startReplayServer(exchanges);
    const post = (body: string) => fetch(`${server!.url}/api/x`, { method: 'POST', body });
    expect((await post('{"a":1,"b":[2,1]}')).status).toBe(418);
    expect((await post('{"b":[1,2],"a":1}')).status).toBe(200); // key order does not matter, values do
    expect((await post('{"b":[1,2],"a":1}')).status).toBe(418); // each recording answers once
    expect((await fetch(`${server.url}/api/y?k=w`)).status).toBe(418);
    expect(await (await fetch(`${server.url}/api/y?k=v`)).json()).toEqual({ n: 1 });
    expect((await fetch(`${server.url}/api/y?k=v`)).status).toBe(400);
    expect(server.mismatches.map((m) => m.candidates)).toEqual([[0], [], [1, 2]]);
    expect(server.unconsumed()).toEqual([]);
  });
});
