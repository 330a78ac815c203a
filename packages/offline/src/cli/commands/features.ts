/**
 * `lockstep features`: check a feature repo and build its view tables (see docs/feature-store.md).
 *   lockstep features validate --repo lockstep.config.ts
 *   lockstep features build --repo lockstep.config.ts --data <dir> [--work <dir>] [--views a,b] [--force]
 */
import { InvalidArgumentError, type Command } from 'commander';
import { featureColumn } from '@lockstep/sdk';
import { FeatureStore, type DuckDBExecutorOptions } from '../../engine/index.ts';
import { DEFAULT_REPO_FILE, loadRepo, servingSpec } from '../../repo/index.ts';
import { engineProgress } from '../engine-progress.ts';

export const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

/** Options every engine command takes. */
export interface EngineCliOptions {
  repo: string;
  data: string;
  work?: string;
  memoryLimit: string;
  threads: number;
  progress: boolean;
}

/** Adds the options every engine command takes. */
export function engineOptions(command: Command): Command {
  return command
    .option('--repo <file>', 'the feature repo (a lockstep.config.ts)', DEFAULT_REPO_FILE)
    .requiredOption('--data <dir>', 'directory the sources\' paths are relative to (e.g. <generate --out>/data)')
    .option('--work <dir>', 'where view tables go (default: <data>/.lockstep)')
    .option('--memory-limit <size>', "DuckDB's memory limit; it spills to disk past it", '2.5GB')
    .option('--threads <n>', 'DuckDB threads', positiveInteger('--threads'), 2)
    .option('--no-progress', 'no progress bars on stderr');
}

export function engineSettings(opts: EngineCliOptions): { dataDir: string; workDir?: string; engine: DuckDBExecutorOptions } {
  return { dataDir: opts.data, ...(opts.work ? { workDir: opts.work } : {}), engine: { memoryLimit: opts.memoryLimit, threads: opts.threads } };
}

export function register(program: Command): void {
  const features = program.command('features').description('check a feature repo and build its feature view tables');

  features
    .command('validate')
    .description('load and validate a feature repo; print its views, features and models')
    .option('--repo <file>', 'the feature repo (a lockstep.config.ts)', DEFAULT_REPO_FILE)
    .action(async (opts: { repo: string }) => {
      const repo = await loadRepo(opts.repo);
      const summary = {
        project: repo.project,
        views: repo.views.map((v) => {
          const spec = servingSpec(v);
          return { name: v.name, entity: v.entity, joinKeys: v.joinKeys, interval: spec.intervalSeconds, ttl: spec.ttlSeconds, lag: spec.lagSeconds, schemaHash: spec.schemaHash, features: v.features.map((f) => featureColumn(v.name, f.name)) };
        }),
        models: Object.values(repo.models).map((m) => ({ name: m.name, fields: m.definition.input.fields.length, views: m.views })),
      };
      console.log(JSON.stringify(summary, null, 2));
    });

  engineOptions(
    features
      .command('build')
      .description('compute feature view tables into <work>/features/<view>.parquet (skips those up to date)')
      .option('--views <names>', 'only these views, comma-separated', list)
      .option('--force', 'rebuild even when up to date'),
  ).action(async (opts: EngineCliOptions & { views?: string[]; force?: boolean }) => {
    const store = await FeatureStore.open(opts.repo, engineSettings(opts));
    const progress = engineProgress(opts.progress);
    try {
      const started = performance.now();
      const views = await store.buildFeatures({ views: opts.views, force: opts.force === true, onProgress: progress.listener });
      progress.stop();
      console.log(JSON.stringify({ views, seconds: (performance.now() - started) / 1000 }));
    } finally {
      progress.stop();
      store.close();
    }
  });
}
