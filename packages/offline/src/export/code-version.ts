/**
 * The code version recorded in bundles: the package version and the commit. Run from the sources in a git
 * checkout, the commit is the checkout's (`.dirty` when tracked files changed); run from a build (`npm run
 * build:offline`, installed anywhere), it is the commit the build was made from (`.dirty` likewise), which the
 * build writes into its package.json as `gitHead` and `gitDirty`. Never the commit of whatever repository an
 * installed copy happens to sit in.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

interface OwnPackageJson {
  version: string;
  /** Written by the build (scripts/build-package.ts): the commit built from, and whether tracked files differed. */
  gitHead?: string;
  gitDirty?: boolean;
}

/** This package's folder and package.json: the nearest one above this file (src/ and the build differ in depth). */
function ownPackage(): { dir: string; pkg: OwnPackageJson } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return { dir, pkg: JSON.parse(readFileSync(file, 'utf8')) as OwnPackageJson };
    const up = dirname(dir);
    if (up === dir) throw new Error('@lockstep/offline: its package.json was not found above code-version');
    dir = up;
  }
}

export function codeVersion(): string {
  if (cached) return cached;
  const { dir, pkg } = ownPackage();
  if (pkg.gitHead) return (cached = `${pkg.version}+${pkg.gitHead.slice(0, 12)}${pkg.gitDirty ? '.dirty' : ''}`);
  // Sources: only the checkout that holds them counts, i.e. git's top level is two folders up (packages/offline).
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, encoding: 'utf8' });
  if (top.status !== 0 || top.stdout.trim() !== realpathSync(join(dir, '..', '..'))) return (cached = pkg.version);
  const head = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: dir, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: dir, encoding: 'utf8' }).stdout.trim() !== '';
  return (cached = `${pkg.version}+${head}${dirty ? '.dirty' : ''}`);
}
