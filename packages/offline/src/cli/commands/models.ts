/**
 * `lockstep models`: the model registry — list models, register a run's bundle as a new version, move aliases
 * (`champion`, `challenger`), and resolve `name@alias` to a version and a local folder.
 */
import type { Command } from 'commander';
import { InputError } from '@lockstep/sdk';
import { printJson, table, trackerFrom, withTrackingUri, type TrackingCliOptions } from './tracking-cli.ts';

interface RegisterOptions extends TrackingCliOptions {
  run: string;
  path: string;
  source?: string;
  alias?: string[];
  description?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command): void {
  const models = program.command('models').description('the model registry: versions, aliases, resolving name@alias');

  withTrackingUri(models.command('list'))
    .description('list registered models with their versions and aliases')
    .option('--json', 'print JSON')
    .action(async (opts: TrackingCliOptions) => {
      const tracker = await trackerFrom(opts);
      const all = await tracker.listModels();
      if (opts.json) return printJson(all);
      const rows = all.flatMap((m) =>
        m.versions.map((v) => [m.name, v.version, v.aliases.map((a) => `@${a}`).join(' '), v.runId, v.source, v.description]),
      );
      console.log(table(['MODEL', 'VERSION', 'ALIASES', 'RUN ID', 'SOURCE', 'DESCRIPTION'], rows));
    });

  withTrackingUri(models.command('register <name>'))
    .description("register a run's bundle (an artifact folder) as the next version of <name>")
    .requiredOption('--run <runId>', 'the run that produced the bundle')
    .option('--path <artifactPath>', "the bundle's folder among the run's artifacts", 'model')
    .option('--source <uri>', 'an explicit source URI instead of runs:/<run>/<path>')
    .option('--alias <alias>', 'point this alias at the new version (repeatable)', collect)
    .option('--description <text>', 'version description')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: RegisterOptions) => {
      const tracker = await trackerFrom(opts);
      const version = await tracker.registerModel(name, {
        runId: opts.run,
        artifactPath: opts.path,
        ...(opts.source ? { source: opts.source } : {}),
        ...(opts.alias ? { aliases: opts.alias } : {}),
        ...(opts.description ? { description: opts.description } : {}),
      });
      if (opts.json) return printJson(version);
      console.log(`${name} version ${version.version}${version.aliases.length ? ` (${version.aliases.map((a) => `@${a}`).join(' ')})` : ''} ← ${version.source}`);
    });

  withTrackingUri(models.command('alias <name> <alias> [version]'))
    .description('point <alias> at <version> (moving it from any other version), or remove it with --delete')
    .option('--delete', 'remove the alias')
    .action(async (name: string, alias: string, version: string | undefined, opts: TrackingCliOptions & { delete?: boolean }) => {
      const tracker = await trackerFrom(opts);
      if (opts.delete) {
        await tracker.deleteAlias(name, alias);
        console.log(`${name}@${alias} removed`);
        return;
      }
      if (version === undefined) throw new InputError('give the version the alias should point at, or --delete', 'version');
      await tracker.setAlias(name, alias, version);
      console.log(`${name}@${alias} → version ${version}`);
    });

  withTrackingUri(models.command('resolve <ref>'))
    .description('resolve name@alias, name/<version> or models:/… to a version; prints the local folder of its bundle')
    .option('--cache-dir <dir>', 'where bundles from an MLflow server are downloaded (default .lockstep/cache/models)')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: TrackingCliOptions & { cacheDir?: string }) => {
      const tracker = await trackerFrom(opts);
      const resolved = await tracker.resolveModel(ref, opts.cacheDir ? { cacheDir: opts.cacheDir } : {});
      if (opts.json) return printJson(resolved);
      console.error(`${resolved.name} version ${resolved.version} (run ${resolved.modelVersion.runId}, ${resolved.modelVersion.source})`);
      // The path alone on stdout, for scripts: `lockstep score --bundle "$(lockstep models resolve ads-ctr@champion)"`.
      console.log(resolved.path);
    });
}
