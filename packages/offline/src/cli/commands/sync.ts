/**
 * `lockstep sync`: copy local runs and registered models to an MLflow server, so a team can start locally and move.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '@lockstep/sdk';
import { MlflowClient, openTracker, parseTrackingUri, syncToMlflow } from '../../tracking/index.ts';
import { printJson } from './tracking-cli.ts';

interface SyncCliOptions {
  to?: string;
  from?: string;
  experiment?: string[];
  model?: string[];
  models: boolean;
  includeRunning?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command): void {
  program
    .command('sync')
    .description('copy local runs and registered models to an MLflow server (idempotent: re-running copies only what is new)')
    .option('--to <url>', 'the MLflow server, http(s)://host:port (default: $LOCKSTEP_TRACKING_URI when it is one)')
    .option('--from <folder>', 'the local store', '.lockstep/tracking')
    .option('--experiment <name>', 'only this experiment (repeatable; default: all)', collect)
    .option('--model <name>', 'only this registered model (repeatable; default: all)', collect)
    .option('--no-models', 'copy runs only')
    .option('--include-running', 'also copy runs still RUNNING')
    .option('--dry-run', 'report what would be copied, write nothing')
    .option('--json', 'print the report as JSON')
    .action(async (opts: SyncCliOptions) => {
      const to = opts.to ?? process.env.LOCKSTEP_TRACKING_URI;
      if (!to || parseTrackingUri(to).kind !== 'mlflow') {
        throw new InputError('sync needs an MLflow server: --to http(s)://host:port (or LOCKSTEP_TRACKING_URI set to one)', 'to');
      }
      const from = parseTrackingUri(`local:${opts.from ?? '.lockstep/tracking'}`);
      // Opening a folder creates a store there: a mistyped --from would make an empty one and "copy 0 runs".
      if (from.kind !== 'local' || !existsSync(path.join(from.root, 'store.json'))) {
        throw new InputError(`no local tracking store at ${opts.from ?? '.lockstep/tracking'} (no store.json): give the folder runs were logged to with --from`, 'from');
      }
      const source = await openTracker(`local:${from.root}`);
      const report = await syncToMlflow(source.backend, new MlflowClient(to), {
        ...(opts.experiment ? { experiments: opts.experiment } : {}),
        models: opts.models === false ? false : (opts.model ?? undefined),
        includeRunning: opts.includeRunning === true,
        dryRun: opts.dryRun === true,
        onProgress: (line) => console.error(`lockstep sync: ${line}`),
      });
      if (opts.json) return printJson(report);
      for (const w of report.warnings) console.error(`lockstep sync: warning: ${w}`);
      console.log(
        `${opts.dryRun ? 'would copy' : 'copied'} ${report.runsCopied} runs (${report.runsCompleted} completed, ${report.runsSkipped} skipped), ` +
          `${report.metricsCopied} metric values, ${report.artifactsCopied} artifacts, ${report.versionsCreated} model versions, ${report.aliasesSet} aliases → ${to}`,
      );
    });
}
