/**
 * `lockstep dataset build`: a model's point-in-time correct training set (see docs/feature-store.md).
 *   lockstep dataset build --repo lockstep.config.ts --data <dir> --model ads-ctr \
 *     --start 2026-01-08 --end 2026-01-29 --out train.parquet
 */
import type { Command } from 'commander';
import { FeatureStore } from '../../engine/index.ts';
import { engineProgress } from '../engine-progress.ts';
import { timeArgument } from '../time-option.ts';
import { engineOptions, engineSettings, type EngineCliOptions } from './features.ts';

interface DatasetCliOptions extends EngineCliOptions {
  model: string;
  start: string;
  end: string;
  out: string;
  allFeatures?: boolean;
}

export function register(program: Command): void {
  const dataset = program.command('dataset').description('build labelled, point-in-time correct training sets');
  engineOptions(
    dataset
      .command('build')
      .description("write a model's training set (labels, request fields, features as of each row) to Parquet")
      .requiredOption('--model <name>', 'the model (a key of the repo\'s models)')
      .requiredOption('--start <time>', 'first impression time included (ISO-8601, UTC when no zone)', timeArgument())
      .requiredOption('--end <time>', 'impressions before this time are included', timeArgument())
      .requiredOption('--out <file>', 'the Parquet file to write')
      .option('--all-features', "every feature of the model's views, not only those its input reads"),
  ).action(async (opts: DatasetCliOptions) => {
    const store = await FeatureStore.open(opts.repo, engineSettings(opts));
    const progress = engineProgress(opts.progress);
    try {
      const result = await store.buildTrainingSet({
        model: opts.model,
        start: opts.start,
        end: opts.end,
        out: opts.out,
        allFeatures: opts.allFeatures === true,
        onProgress: progress.listener,
      });
      progress.stop();
      // An empty set is valid, but it is nearly always a window outside the data (a wrong year, say): say so.
      if (result.rows === 0) console.error(`lockstep dataset build: warning: no impressions in [${result.start}, ${result.end}); ${result.path} has no rows`);
      console.log(JSON.stringify(result));
    } finally {
      progress.stop();
      store.close();
    }
  });
}
