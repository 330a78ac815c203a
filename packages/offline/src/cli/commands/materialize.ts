/**
 * `lockstep materialize`: push the latest feature values into the online store (docs/online-format.md).
 *
 *   lockstep materialize --repo lockstep.config.ts --work <dir>/.lockstep --target redis://127.0.0.1:6379
 *   lockstep materialize --repo lockstep.config.ts --data <dir>/data --target http://127.0.0.1:8079 --token …
 *   lockstep materialize --bundle <bundle dir> --target redis://…
 *   lockstep materialize … --incremental
 */
import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { cliTimeMs, timeArgument } from '../time-option.ts';
import { SingleBar } from 'cli-progress';
import { InputError, type FeatureViewSpec } from '@lockstep/sdk';
import { FeatureStore } from '../../engine/index.ts';
import { DEFAULT_REPO_FILE, loadRepo, servingSpec } from '../../repo/index.ts';
import {
  featureStoreSource,
  materialize,
  openTarget,
  snapshotSource,
  viewTableSource,
  type MaterializationSource,
  type MaterializeProgress,
  type MaterializeResult,
} from '../../materialize/index.ts';

interface MaterializeCliOptions {
  target?: string;
  token?: string;
  repo?: string;
  work?: string;
  data?: string;
  bundle?: string;
  asOf?: string;
  views?: string[];
  incremental?: boolean;
  force?: boolean;
  batchRows: number;
  concurrency: number;
  keyExpiry: boolean;
  waitLock: number;
  progress: boolean;
  json?: boolean;
}

/** An integer option of at least `min` (a batch of 0 rows or 0 writes in flight would mean nothing). */
function integer(name: string, min: 0 | 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer`);
    return n;
  };
}

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** Where the rows come from, and what the run needs to know about the project. */
async function openSource(opts: MaterializeCliOptions): Promise<{ project: string; views: FeatureViewSpec[]; source: MaterializationSource; asOfMs?: number; close(): void }> {
  if (opts.bundle) {
    if (opts.repo || opts.data || opts.work) throw new InputError('--bundle materializes the bundle\'s own snapshot: leave out --repo, --data and --work', 'bundle');
    const source = await snapshotSource(opts.bundle);
    const snapshotViews = new Set(Object.keys(source.manifest.snapshot!.views));
    return {
      project: source.manifest.project,
      views: source.manifest.featureViews.filter((v) => snapshotViews.has(v.name)),
      source,
      asOfMs: source.asOfMs,
      close() {},
    };
  }
  // As the other commands do, the repo defaults to the one in the current folder; but here a bundle is the other
  // choice, so a missing default file names both.
  if (!opts.repo && !existsSync(DEFAULT_REPO_FILE)) throw new InputError(`give --repo <lockstep.config.ts> (with --work or --data) or --bundle <dir>: there is no ${DEFAULT_REPO_FILE} here`, 'repo');
  const repoFile = opts.repo ?? DEFAULT_REPO_FILE;
  if (opts.data) {
    const store = await FeatureStore.open(repoFile, { dataDir: opts.data, workDir: opts.work });
    return { project: store.repo.project, views: store.servingSpecs(), source: featureStoreSource(store), close: () => store.close() };
  }
  if (!opts.work) throw new InputError('give --work <dir> (where features/<view>.parquet are) or --data <dir> (to build them first)', 'work');
  const repo = await loadRepo(repoFile);
  const source = await viewTableSource(opts.work);
  return { project: repo.project, views: repo.views.map(servingSpec), source, close: () => void source.close?.() };
}

function summary(result: MaterializeResult): string {
  const views = result.views.map((v) => `${v.view} v${v.version}: ${v.written} written${v.keptNewer ? `, ${v.keptNewer} kept newer` : ''}${v.expired ? `, ${v.expired} expired` : ''}`);
  return (
    `lockstep materialize: ${result.mode} run of project ${result.project} as of ${new Date(result.asOfMs).toISOString()} published in ` +
    `${result.seconds.total.toFixed(1)} s (${views.join('; ')})${result.deletedKeys ? `; ${result.deletedKeys} old keys deleted` : ''}`
  );
}

export function register(program: Command): void {
  program
    .command('materialize')
    .description('push the latest feature values into the online store: a new snapshot version, published atomically')
    .option('--target <url>', 'online store: redis://… (RESP) or http(s)://… (Upstash REST, lockstep gateway) (default: $LOCKSTEP_STORE_URL)', process.env.LOCKSTEP_STORE_URL)
    .option('--token <token>', 'REST token for an http(s) target (default: $LOCKSTEP_STORE_TOKEN)', process.env.LOCKSTEP_STORE_TOKEN)
    .option('--repo <config>', `feature repo: its project and views; rows from its offline view tables (default: ${DEFAULT_REPO_FILE} unless --bundle)`)
    .option('--work <dir>', 'the view tables (features/<view>.parquet) to read')
    .option('--data <dir>', 'the repo sources: view tables are built or refreshed first when stale (tables go to --work, default <data>/.lockstep)')
    .option('--bundle <dir>', "materialize a model bundle's feature snapshot instead (project and views from its manifest)")
    .option('--as-of <time>', 'per entity the latest row at or before this time (ISO-8601 or epoch ms; default: now, or the bundle snapshot\'s as-of)', timeArgument({ epochMs: true }))
    .option('--views <names>', 'only these views (comma-separated)', list)
    .option('--incremental', 'write only entities changed since the last run, into the published snapshot')
    .option('--force', 'publish even if the published snapshot is newer (a deliberate roll-back)')
    .option('--batch-rows <n>', 'rows per pipelined write', integer('--batch-rows', 1), 2000)
    .option('--concurrency <n>', 'writes in flight', integer('--concurrency', 1), 4)
    .option('--no-key-expiry', 'keys never expire (readers still apply each view\'s TTL)')
    .option('--wait-lock <ms>', 'wait this long for another run of the same project to finish', integer('--wait-lock', 0), 0)
    .option('--no-progress', 'no progress bar on stderr')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (opts: MaterializeCliOptions) => {
      if (!opts.target) throw new InputError('give --target <redis://… | http(s)://…> or set LOCKSTEP_STORE_URL', 'target');
      const { project, views: allViews, source, asOfMs: sourceAsOf, close } = await openSource(opts);
      // Checked before the target is opened: an open connection would keep the process alive after the error.
      let views = allViews;
      let store: ReturnType<typeof openTarget>;
      try {
        if (opts.views?.length) {
          const unknown = opts.views.filter((name) => !allViews.some((v) => v.name === name));
          if (unknown.length) throw new InputError(`unknown view(s) ${unknown.join(', ')} (known: ${allViews.map((v) => v.name).join(', ')})`, 'views');
          views = allViews.filter((v) => opts.views!.includes(v.name));
        }
        store = openTarget({ url: opts.target, token: opts.token });
      } catch (err) {
        close();
        throw err;
      }
      const bar = opts.progress && process.stderr.isTTY
        ? new SingleBar({ format: 'materialize {bar} {percentage}% | {value}/{total} rows | {phase} {view}', stream: process.stderr, hideCursor: true })
        : undefined;
      let started = false;
      const onProgress = (p: MaterializeProgress) => {
        if (!bar) return;
        const payload = { phase: p.phase, view: p.view ?? '' };
        if (!started && p.phase !== 'count') {
          bar.start(p.total ?? 0, p.rows, payload);
          started = true;
        } else if (started) {
          if (p.total === undefined) bar.setTotal(Math.max(p.rows, 1));
          bar.update(p.rows, payload);
        }
      };
      // Ctrl-C: stop writing, release the lock; nothing is published, readers keep the current snapshot.
      const controller = new AbortController();
      let interruptedBy: NodeJS.Signals | undefined;
      const stop = (signal: NodeJS.Signals) => {
        interruptedBy = signal;
        controller.abort(new InputError('interrupted'));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const result = await materialize({
          store,
          project,
          views,
          source,
          asOfMs: opts.asOf !== undefined ? cliTimeMs(opts.asOf, { epochMs: true }) : sourceAsOf,
          incremental: opts.incremental === true,
          force: opts.force === true,
          batchRows: opts.batchRows,
          concurrency: opts.concurrency,
          keyExpiry: opts.keyExpiry,
          lockWaitMs: opts.waitLock,
          onProgress,
          signal: controller.signal,
        });
        bar?.stop();
        console.error(summary(result));
        // Old data materialized as of now (the default) publishes nothing readers can use: say so.
        const stale = result.views.filter((v) => v.written === 0 && v.expired > 0).map((v) => v.view);
        if (stale.length) {
          console.error(
            `lockstep materialize: warning: every row of ${stale.join(', ')} was already past its TTL as of ${new Date(result.asOfMs).toISOString()}: ` +
              'readers get defaults for these views (materializing past data? give --as-of)',
          );
        }
        if (opts.json) console.log(JSON.stringify(result));
      } catch (err) {
        // Interrupted: whatever the store call in flight reported (an abort), say what happened, and stop as a
        // killed process does.
        if (!interruptedBy) throw err;
        console.error(`lockstep materialize: ${interruptedBy}: stopped before finishing; readers see a whole snapshot (the previous one, unless this run had got as far as publishing)`);
        process.exitCode = interruptedBy === 'SIGINT' ? 130 : 143;
      } finally {
        bar?.stop();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        close();
        await store.close();
      }
    });
}
