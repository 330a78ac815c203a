/**
 * `lockstep generate`: write a seeded synthetic sponsored-product ad log (users, advertisers, ads,
 * impressions, clicks) plus the oracle click probabilities. See docs/data.md.
 */
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@lockstep/sdk';
import { GENERATED_FILES, GENERATE_DEFAULTS, generate } from '../../generator/index.ts';

/** Accepts 10000000, 10_000_000 and 1e7. */
function count(name: string) {
  return (value: string): number => {
    const n = Number(value.replaceAll('_', ''));
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

interface GenerateCliOptions {
  out: string;
  impressions: number;
  users: number;
  ads: number;
  advertisers: number;
  days: number;
  start: string;
  seed: number;
  progress: boolean;
  overwrite?: boolean;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function register(program: Command): void {
  const d = GENERATE_DEFAULTS;
  program
    .command('generate')
    .description('generate a seeded, deterministic sponsored-product ad log (Parquet) and its oracle click probabilities')
    .requiredOption('--out <dir>', 'output directory (data/, oracle/ and manifest.json go inside)')
    .option('--impressions <n>', 'impressions to generate', count('--impressions'), d.impressions)
    .option('--users <n>', 'users', count('--users'), d.users)
    .option('--ads <n>', 'ads', count('--ads'), d.ads)
    .option('--advertisers <n>', 'advertisers', count('--advertisers'), d.advertisers)
    .option('--days <n>', 'days simulated', count('--days'), d.days)
    .option('--start <date>', 'first day, YYYY-MM-DD (UTC)', d.start)
    .option('--seed <n>', 'random seed (same seed and options → identical files)', count('--seed'), d.seed)
    .option('--overwrite', 'replace the data set already in --out')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (opts: GenerateCliOptions) => {
      // The files a run replaces (other files in --out stay): someone's data set is not overwritten by surprise.
      const existing = ['manifest.json', ...Object.values(GENERATED_FILES)].filter((f) => existsSync(join(opts.out, f)));
      if (existing.length && !opts.overwrite) throw new InputError(`${opts.out} already holds ${existing.join(', ')}: --overwrite replaces them`, 'out');
      const bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'generate [{bar}] {percentage}% | {value}/{total} impressions | {stage}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      let started = false;
      const result = await generate({
        out: opts.out,
        impressions: opts.impressions,
        users: opts.users,
        ads: opts.ads,
        advertisers: opts.advertisers,
        days: opts.days,
        start: opts.start,
        seed: opts.seed,
        onProgress: opts.progress
          ? (p) => {
              const stage = p.phase === 'writing' ? `writing ${p.file}` : p.phase;
              if (!started) {
                bar.start(p.total, p.done, { stage });
                started = true;
              } else bar.update(p.done, { stage });
            }
          : undefined,
      }).finally(() => {
        if (started) bar.stop();
      });
      const m = result.manifest;
      const lines = [
        `lockstep generate: ${m.rows.impressions} impressions, ${m.rows.clicks} clicks (CTR ${(m.stats.ctr * 100).toFixed(2)}%), ` +
          `${m.rows.users} users, ${m.rows.ads} ads, ${m.rows.advertisers} advertisers, ${m.time_range.start} → ${m.time_range.end} in ${result.seconds.toFixed(1)} s`,
        ...Object.entries(m.files).map(([file, f]) => `  ${file.padEnd(26)} ${megabytes(f.bytes).padStart(10)}`),
        `  manifest: ${result.manifestPath}`,
      ];
      console.log(lines.join('\n'));
    });
}
