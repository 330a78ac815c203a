/**
 * `lockstep init [dir]`: start a feature repo in a project that installed the CLI, as `feast init` does. It
 * writes the sponsored-ads repo (examples/sponsored-ads/lockstep.config.ts: four feature views and the `ads-ctr`
 * model over the logs `lockstep generate` writes) as `<dir>/lockstep.config.ts` and prints the commands that take
 * it from generated logs to a trained, tracked bundle. Never overwrites a file without `--force`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { InputError } from '@lockstep/sdk';
import { GENERATE_DEFAULTS } from '../../generator/index.ts';
import { DEFAULT_REPO_FILE } from '../../repo/index.ts';
import { createFileExclusive, writeFileAtomic } from '../../tracking/fs-atomic.ts';

/** Where the example repo was read from, in the repository (sources) or in a built package (copied there). */
const TEMPLATE_PLACES = ['../../templates/sponsored-ads/lockstep.config.ts', '../../../../../examples/sponsored-ads/lockstep.config.ts'];
/** How the example refers to itself in its usage comment; in a new project the repo is the default file. */
const EXAMPLE_PATH = 'examples/sponsored-ads/lockstep.config.ts';

/** The sponsored-ads repo as a new project's lockstep.config.ts. */
function sponsoredAdsTemplate(): string {
  for (const place of TEMPLATE_PLACES) {
    const file = fileURLToPath(new URL(place, import.meta.url));
    if (existsSync(file)) return readFileSync(file, 'utf8').replaceAll(EXAMPLE_PATH, DEFAULT_REPO_FILE);
  }
  throw new Error(`lockstep init: the sponsored-ads template is missing from this installation (looked for ${TEMPLATE_PLACES.join(', ')})`);
}

/** The demo's sizes: 10 days of logs from the generator's first day; train on days 2-9, evaluate on day 10. */
const DAYS = 10;

/** The commands after `init`, from the folder it was run in. */
function nextSteps(dir: string): string[] {
  const cd = relative(process.cwd(), dir);
  // Dates follow the generator's default first day, which the printed `generate` does not override.
  const day = (n: number) => new Date(Date.parse(`${GENERATE_DEFAULTS.start}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
  return [
    ...(cd ? [`cd ${/^[\w./-]+$/.test(cd) ? cd : JSON.stringify(cd)}`] : []),
    `npx lockstep generate --out generated --impressions 400000 --users 20000 --ads 1500 --advertisers 150 --days ${DAYS}   # example logs`,
    `npx lockstep train --data generated/data --model ads-ctr --family fm --train-start ${day(1)} --train-end ${day(DAYS - 1)} \\`,
    `  --eval-start ${day(DAYS - 1)} --eval-end ${day(DAYS)} --out bundles/ads-ctr --oracle generated/oracle/oracle.parquet`,
    'npx lockstep ui   # the run, its curves and report',
  ];
}

interface InitCliOptions {
  force: boolean;
}

export function register(program: Command): void {
  program
    .command('init')
    .description('start a feature repo: write the sponsored-ads example as lockstep.config.ts and print the next commands')
    .argument('[dir]', 'project folder (created if missing)', '.')
    .option('--force', 'overwrite an existing lockstep.config.ts')
    .action(async (dirArg: string, opts: InitCliOptions) => {
      const dir = resolve(dirArg);
      const file = join(dir, DEFAULT_REPO_FILE);
      const text = sponsoredAdsTemplate();
      await mkdir(dir, { recursive: true });
      // Whole or not at all: a complete temp file linked (or, with --force, renamed) into place.
      if (opts.force) await writeFileAtomic(file, text);
      else if (!(await createFileExclusive(file, text))) throw new InputError(`${file} already exists (--force replaces it)`, 'dir');
      console.error(`lockstep init: wrote ${file}, the sponsored-ads feature repo (model ads-ctr). Next:`);
      for (const line of nextSteps(dir)) console.log(`  ${line}`);
    });
}
