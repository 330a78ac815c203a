/**
 * `lockstep verify-consistency`: replay logged impressions through the online path (materialization on each view's
 * cadence into the target store, `score()` through it) and compare every impression's served input vector and
 * score with its training-set row. Exit code 1 when anything differs.
 *
 *   lockstep verify-consistency --repo lockstep.config.ts --data <dir>/data --bundle <bundle dir> \
 *     --target redis://127.0.0.1:6390 --eval-start 2026-01-08 --eval-end 2026-01-09 [--limit 20000]
 *
 * The target is overwritten with past snapshots: use a scratch Redis/Valkey.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { InputError } from '@lockstep/sdk';
import { verifyConsistency, type ConsistencyReport } from '../../consistency/verify-consistency.ts';
import { openTarget } from '../../materialize/index.ts';
import { DEFAULT_REPO_FILE, parseDuration } from '../../repo/index.ts';

interface VerifyCliOptions {
  repo: string;
  data: string;
  work?: string;
  bundle: string[];
  target?: string;
  token?: string;
  evalStart: string;
  evalEnd: string;
  limit?: number;
  tolerance: number;
  cadence?: number;
  maxExamples: number;
  force?: boolean;
  progress: boolean;
  json?: boolean;
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

/** The human summary: one block per model, with the first mismatches explained. */
export function formatConsistencyReport(report: ConsistencyReport): string {
  const lines = [
    `replayed ${report.impressions.toLocaleString('en-US')} impressions (${report.requests.toLocaleString('en-US')} requests) of ${report.window.start} → ${report.window.end}, ${report.materializations} materializations, ${report.seconds.toFixed(1)} s`,
  ];
  for (const m of report.models) {
    const ok = m.vectorMismatches === 0 && m.scoreMismatches === 0;
    lines.push(
      `${ok ? 'OK  ' : 'FAIL'} ${m.name} (${m.family}, ${m.engine}) ${m.bundle}: mismatch rate ${(m.mismatchRate * 100).toFixed(3)}% — ` +
        `${m.vectorMismatches} input vectors differ, ${m.scoreMismatches} scores differ by more than ${report.tolerance} ` +
        `(max |Δ| ${m.maxScoreDiff.toExponential(2)} against ${m.reference})`,
    );
    const fields = Object.entries(m.byField).sort((a, b) => b[1] - a[1]);
    if (fields.length) lines.push(`     fields: ${fields.map(([f, n]) => `${f} ${n}`).join(', ')}`);
    for (const e of m.examples.slice(0, 5)) {
      lines.push(`     impression ${String(e.key)} at ${new Date(e.ts).toISOString()}: score ${e.servedScore} served, ${e.trainingScore} offline`);
      for (const s of e.slots.slice(0, 3)) lines.push(`       ${s.field}: ${s.reason}`);
    }
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('verify-consistency')
    .description("replay logged impressions through the online store and score(); compare each one's input vector and score with its training row")
    .option('--repo <config>', 'feature repo config', DEFAULT_REPO_FILE)
    .requiredOption('--data <dir>', "directory the repo's sources (the logs) resolve against")
    .option('--work <dir>', 'where view tables and the replay set go (default <data>/.lockstep)')
    .requiredOption('--bundle <dir>', 'model bundle to verify (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--target <url>', 'a SCRATCH online store it may overwrite: redis://… or http(s)://… (default: $LOCKSTEP_STORE_URL)', process.env.LOCKSTEP_STORE_URL)
    .option('--token <token>', 'REST token for an http(s) target (default: $LOCKSTEP_STORE_TOKEN)', process.env.LOCKSTEP_STORE_TOKEN)
    .requiredOption('--eval-start <time>', 'first replayed impression time (ISO-8601, UTC)')
    .requiredOption('--eval-end <time>', 'replay window end (exclusive)')
    .option('--limit <n>', 'replay at most this many impressions (the first of the window)', positiveInt('--limit'))
    .option('--tolerance <x>', 'largest accepted score difference', (v: string) => {
      const n = Number(v);
      if (!(n >= 0)) throw new InvalidArgumentError('--tolerance must be a number ≥ 0');
      return n;
    }, 1e-6)
    .option('--cadence <duration>', "materialize on this cadence (e.g. 6h) instead of each view's interval, to measure a schedule's skew", (v: string) => {
      let ms: number;
      try {
        ms = parseDuration(v);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
      // A zero cadence would materialize at no time at all (it surfaced as "as-of must be a time, got NaN").
      if (!(ms > 0)) throw new InvalidArgumentError('the cadence must be longer than 0 (e.g. 1h, 6h)');
      return ms;
    })
    .option('--max-examples <n>', 'explained mismatches kept per model', positiveInt('--max-examples'), 20)
    .option('--force', 'publish the first replayed snapshot even if the target holds a newer one')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--json', 'print the report as JSON on stdout')
    .action(async (opts: VerifyCliOptions) => {
      if (!opts.target) throw new InputError('give --target <redis://… | http(s)://…> (a scratch store) or set LOCKSTEP_STORE_URL', 'target');
      const store = openTarget({ url: opts.target, token: opts.token });
      const bar = opts.progress && process.stderr.isTTY
        ? new SingleBar({ format: 'replay {bar} {percentage}% | {value}/{total} impressions | {materializations} materializations', stream: process.stderr, hideCursor: true })
        : undefined;
      let started = false;
      try {
        const report = await verifyConsistency({
          repo: opts.repo,
          dataDir: opts.data,
          workDir: opts.work,
          bundles: opts.bundle,
          store,
          start: opts.evalStart,
          end: opts.evalEnd,
          limit: opts.limit,
          tolerance: opts.tolerance,
          cadenceMs: opts.cadence,
          maxExamples: opts.maxExamples,
          force: opts.force === true,
          onProgress: (p) => {
            if (!bar || p.phase === 'prepare') return;
            if (!started) {
              bar.start(p.total, p.impressions, { materializations: p.materializations });
              started = true;
            } else bar.update(p.impressions, { materializations: p.materializations });
          },
        });
        bar?.stop();
        console.error(formatConsistencyReport(report));
        if (opts.json) console.log(JSON.stringify(report));
        if (report.models.some((m) => m.vectorMismatches || m.scoreMismatches)) process.exitCode = 1;
      } finally {
        bar?.stop();
        await store.close();
      }
    });
}
