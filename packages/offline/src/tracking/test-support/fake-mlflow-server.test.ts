/**
 * The fake MLflow server answers the recorded requests with the recorded statuses and error codes: replay every
 * recording's requests against it (mapping the recorded run and experiment ids to the fake's) and compare.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMlflowServer, type FakeMlflowServer } from './fake-mlflow-server.ts';
import { loadTranscript } from './transcript.ts';

let server: FakeMlflowServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Probes of MLflow quirks the fake does not imitate (bare NaN tokens, unparsable metric strings, /get-artifact, stages). */
const QUIRKS: Record<string, number[]> = {
  'mlflow-2.22-artifacts.txt': [13, 26, 28, 32, 39, 40, 47],
};

describe.each([
  ['mlflow-2.11-sqlite.txt', true],
  ['mlflow-2.11-filestore.txt', true],
  ['mlflow-2.22-sqlite.txt', true],
  ['mlflow-2.22-artifacts.txt', true],
  ['mlflow-2.22-strict-limits.txt', false],
] as const)('fake MLflow server vs %s', (file, truncateLongValues) => {
  it('answers every recorded request with the recorded status and error code', async () => {
    server = await startFakeMlflowServer({ truncateLongValues });
    const ids = new Map<string, string>();
    const mapIds = (text: string) => {
      let out = text;
      for (const [recorded, fake] of ids) out = out.split(recorded).join(fake);
      return out;
    };
    const outcomes: Array<[number, number | string, number | string]> = [];
    for (const ex of loadTranscript(file)) {
      if (QUIRKS[file]?.includes(ex.index)) continue;
      const query = new URLSearchParams(Object.entries(ex.query).map(([k, v]) => [k, mapIds(v)]));
      const url = `${server.url}${mapIds(ex.path)}${query.size > 0 ? `?${query}` : ''}`;
      const body =
        ex.request.kind === 'json'
          ? mapIds(JSON.stringify(ex.request.value))
          : ex.request.kind === 'binary'
            ? new Uint8Array(ex.request.size)
            : undefined;
      const res = await fetch(url, { method: ex.method, body, headers: { 'Content-Type': 'application/json' } });
      const text = await res.text();
      const answer = text.startsWith('{') ? (JSON.parse(text) as Record<string, any>) : {};
      const recorded = ex.response.kind === 'json' ? (ex.response.value as Record<string, any>) : {};
      // Learn the fake's ids for the recorded ones (only long ids: "1" is "1" on both).
      const pairs: Array<[unknown, unknown]> = [
        [recorded.experiment_id, answer.experiment_id],
        [recorded.run?.info?.run_id, answer.run?.info?.run_id],
      ];
      for (const [r, f] of pairs) if (typeof r === 'string' && typeof f === 'string' && r.length > 1) ids.set(r, f);
      outcomes.push([ex.index, res.status, answer.error_code ?? ''], [ex.index, ex.status, recorded.error_code ?? '']);
    }
    const got = outcomes.filter((_, i) => i % 2 === 0);
    const want = outcomes.filter((_, i) => i % 2 === 1);
    // The file store answers a changed param with a 500 INTERNAL_ERROR; the fake (like sqlite) with a 400.
    const expected = file === 'mlflow-2.11-filestore.txt' ? want.map((w) => (w[0] === 8 ? [8, 400, 'INVALID_PARAMETER_VALUE'] : w)) : want;
    expect(got).toEqual(expected);
  });
});
