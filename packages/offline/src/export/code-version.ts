/** The code version recorded in bundles: the package version and, inside a git checkout, the commit. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function codeVersion(): string {
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
  const here = fileURLToPath(new URL('.', import.meta.url));
  const git = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: here, encoding: 'utf8' });
  const dirty = git.status === 0 ? spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: here, encoding: 'utf8' }).stdout.trim() !== '' : false;
  cached = git.status === 0 ? `${pkg.version}+${git.stdout.trim()}${dirty ? '.dirty' : ''}` : pkg.version;
  return cached;
}
