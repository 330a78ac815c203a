/**
 * `lockstep runs`: list, search and show tracked runs (local store or MLflow server), like `mlflow runs`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { formatValue, printJson, table, trackerFrom, withTrackingUri, type TrackingCliOptions } from './tracking-cli.ts';

interface ListOptions extends TrackingCliOptions {
  experiment?: string[];
  filter?: string;
  orderBy?: string[];
  max: number;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const time = (ms: number | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '');

export function register(program: Command): void {
  const runs = program.command('runs').description('list, search and show tracked runs (experiment tracking)');

  withTrackingUri(runs.command('experiments'))
    .description('list experiments')
    .option('--json', 'print JSON')
    .action(async (opts: TrackingCliOptions) => {
      const tracker = await trackerFrom(opts);
      const experiments = await tracker.listExperiments();
      if (opts.json) return printJson(experiments);
      console.log(table(['ID', 'NAME', 'CREATED'], experiments.map((e) => [e.experimentId, e.name, time(e.creationTime)])));
    });

  withTrackingUri(runs.command('list'))
    .description("list runs, newest first; filter with MLflow's syntax, e.g. --filter \"metrics.auc > 0.7 and params.lr = '0.05'\"")
    .option('--experiment <name>', 'only this experiment (repeatable; default: all)', collect)
    .option('--filter <filter>', 'MLflow search filter')
    .option('--order-by <clause>', "sort, e.g. 'metrics.auc DESC' (repeatable)", collect)
    .option('--max <n>', 'at most this many runs', positive, 100)
    .option('--json', 'print JSON')
    .action(async (opts: ListOptions) => {
      const tracker = await trackerFrom(opts);
      const found = await tracker.searchRuns({
        ...(opts.experiment ? { experiments: opts.experiment } : {}),
        ...(opts.filter ? { filter: opts.filter } : {}),
        ...(opts.orderBy ? { orderBy: opts.orderBy } : {}),
        maxResults: opts.max,
      });
      if (opts.json) return printJson(found);
      const metricKeys = [...new Set(found.flatMap((r) => Object.keys(r.data.metrics)))].sort().slice(0, 6);
      console.log(
        table(
          ['RUN ID', 'NAME', 'STATUS', 'STARTED', ...metricKeys],
          found.map((r) => [
            r.info.runId,
            r.info.runName,
            r.info.status,
            time(r.info.startTime),
            ...metricKeys.map((k) => (r.data.metrics[k] ? formatValue(r.data.metrics[k].value) : '')),
          ]),
        ),
      );
    });

  withTrackingUri(runs.command('compare <runIds...>'))
    .description('compare runs side by side: params and latest metrics (rows that differ are marked *)')
    .option('--json', 'print JSON')
    .action(async (runIds: string[], opts: TrackingCliOptions) => {
      const tracker = await trackerFrom(opts);
      const all = await Promise.all(runIds.map((id) => tracker.getRun(id)));
      if (opts.json) return printJson(all);
      const rows: string[][] = [];
      const add = (label: string, values: string[]) => rows.push([new Set(values).size > 1 ? `* ${label}` : `  ${label}`, ...values]);
      add('status', all.map((r) => r.info.status));
      for (const k of [...new Set(all.flatMap((r) => Object.keys(r.data.params)))].sort()) add(`params.${k}`, all.map((r) => r.data.params[k] ?? ''));
      for (const k of [...new Set(all.flatMap((r) => Object.keys(r.data.metrics)))].sort()) {
        add(`metrics.${k}`, all.map((r) => (r.data.metrics[k] ? formatValue(r.data.metrics[k].value) : '')));
      }
      console.log(table(['', ...all.map((r) => r.info.runName)], rows));
    });

  withTrackingUri(runs.command('show <runId>'))
    .description('show a run: params, latest metrics, tags, inputs and artifacts')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: TrackingCliOptions) => {
      const tracker = await trackerFrom(opts);
      const run = await tracker.getRun(runId);
      const artifacts = await tracker.listArtifactsRecursive(runId);
      if (opts.json) return printJson({ ...run, artifacts });
      const section = (title: string, rows: string[][]) => rows.length > 0 && console.log(`\n${title}\n${table(['KEY', 'VALUE'], rows)}`);
      console.log(`${run.info.runName} (${run.info.runId}) ${run.info.status}, experiment ${run.info.experimentId}`);
      console.log(`started ${time(run.info.startTime)}${run.info.endTime ? `, ended ${time(run.info.endTime)}` : ''}`);
      section('params', Object.entries(run.data.params));
      section('metrics (latest)', Object.values(run.data.metrics).map((m) => [m.key, `${formatValue(m.value)} (step ${m.step})`]));
      section('tags', Object.entries(run.data.tags));
      section('inputs', run.inputs.map((i) => [i.name, `${i.digest} ${i.tags['mlflow.data.context'] ?? ''}`.trim()]));
      section('artifacts', artifacts.map((a) => [a.path, `${a.fileSize ?? ''} B`]));
    });
}
