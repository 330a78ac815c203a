/**
 * Loading a repo from a `lockstep.config.ts` (or .js/.mjs/.json) file. TypeScript configs are imported through
 * tsx's loader, so they work from plain Node as well as from the CLI (which already runs under tsx).
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { DefinitionError, InputError } from '@lockstep/sdk';
import type { RepoDefinition } from './types.ts';
import type { ResolvedRepo } from './resolved.ts';
import { validateRepo } from './validate.ts';

/** The repo file commands look for in the current folder when not told otherwise, and the one `lockstep init` writes. */
export const DEFAULT_REPO_FILE = 'lockstep.config.ts';

/** Imports a repo definition file without validating it. The module's default export (or `repo` export) is the repo. */
export async function importRepoDefinition(path: string): Promise<RepoDefinition> {
  const file = resolve(path);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(file)).isDirectory();
  } catch (err) {
    throw new InputError(`feature repo file not found: ${file}`, 'repo', { cause: err });
  }
  if (isDirectory) throw new InputError(`${file} is a folder: give the repo file (e.g. ${join(file, DEFAULT_REPO_FILE)})`, 'repo');
  let mod: Record<string, unknown>;
  try {
    mod = file.endsWith('.json')
      ? { default: JSON.parse(await readFile(file, 'utf8')) as unknown }
      : ((await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>);
  } catch (err) {
    throw new DefinitionError([`${file}: could not be loaded: ${await explainLoadFailure(file, err)}`], { cause: err });
  }
  // A TypeScript file outside an ESM package is compiled as CommonJS, so its exports arrive wrapped once more
  // under `default`.
  let repo = mod.default ?? mod.repo;
  if (isObject(repo) && 'default' in repo && !('project' in repo)) repo = repo.default;
  // Something that has none of a repo's keys is not a wrong repo but a missing export: say so.
  if (!isObject(repo) || !['project', 'entities', 'sources', 'labels', 'views'].some((k) => k in repo)) {
    throw new DefinitionError([`${file}: must export the repo as its default export (export default defineRepo({ … }))`]);
  }
  return repo as unknown as RepoDefinition;
}

/** Imports and validates a repo file; throws a DefinitionError listing every problem. */
export async function loadRepo(path: string): Promise<ResolvedRepo> {
  return validateRepo(await importRepoDefinition(path));
}

/** The loader's message (without the require stack Node appends), with what to do where that is known. */
async function explainLoadFailure(file: string, err: unknown): Promise<string> {
  const message = (err instanceof Error ? err.message : String(err)).split(/\n+Require stack:/)[0];
  const code = (err as { code?: unknown }).code;
  if ((code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && message.includes('@lockstep/offline')) {
    return `${message} (the repo imports lockstep's define helpers: install @lockstep/offline in the project that holds it)`;
  }
  // A CommonJS config that imports all of '@lockstep/offline' loads a second copy of it, which fails in one of
  // these ways; nothing else gets this hint.
  const why = /Cannot redefine property|ERR_REQUIRE_ESM|require\(\) of ES Module|Cannot use import statement outside a module/.test(message) ? await whyCommonJs(file) : undefined;
  return why ? `${message} (it is compiled as CommonJS: ${why}; import the define helpers from '@lockstep/offline/define', which loads nothing else, or make the file an ES module)` : message;
}

/**
 * Why Node (and tsx) compile `file` as CommonJS: its extension (.cts/.cjs), or the scope it sits in (the nearest
 * package.json without "type": "module", npm init's default, or none at all). Undefined for an ES module.
 */
async function whyCommonJs(file: string): Promise<string | undefined> {
  if (/\.(mts|mjs)$/.test(file)) return undefined;
  if (/\.(cts|cjs)$/.test(file)) return 'its extension says so';
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    const text = await readFile(pkg, 'utf8').catch(() => undefined);
    if (text !== undefined) {
      let type: unknown;
      try {
        type = (JSON.parse(text) as { type?: unknown }).type;
      } catch {
        // Node itself refuses an unparsable package.json; whatever failed, this is not the hint to give.
        return undefined;
      }
      return type === 'module' ? undefined : `${pkg} does not say "type": "module"`;
    }
    if (dirname(dir) === dir) return 'no package.json above it says "type": "module"';
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object';
}
